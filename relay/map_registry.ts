/** The maps in memory: loading with containment, capacity and eviction, snapshots, per-address counts. */
import { hashKey, hashMatches, isMapId } from "./keys.ts";
import type { Durability } from "./durability.ts";
import type { Journal } from "./journal.ts";
import type { Limits } from "./limits.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { Peer } from "./peer.ts";
import { UNKNOWN_MAP_OR_KEY } from "./protocol.ts";
import { Room } from "./room.ts";
import { StoreUnreachableError } from "./map_store.ts";
import type { MapStore, MaybePromise } from "./map_store.ts";
import type { MapRecord, StoredMap } from "./store.ts";
import type { StoredComments } from "./comments.ts";

/** Why the hub said no; `relay/app.ts` maps each to an HTTP status. */
export type Refusal =
  | "not_found"
  | "forbidden"
  | "invalid"
  | "unavailable"
  | "capacity"
  | "not_saved"
  | "bad_request"
  | "gone"
  | "retry"
  | "not_implemented";

/** A change that was applied but whose commit failed: the caller is told to try again. */
export const NOT_SAVED = {
  ok: false,
  reason: "not_saved",
  message: "the map could not be saved; try again",
} as const;

/** A value, or a refusal with a message for the user. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: Refusal; message: string };

/** A map opened with a key: its room and the role the key gives. */
export interface Opened {
  /** The map, in memory. */
  room: Room;
  /** What the key allows. */
  role: "editor" | "viewer";
}

/** What loading a map gave: its room, `null` (no such map), or why it cannot be in memory. */
type Loaded = Room | null | "capacity" | "unavailable" | "unreachable" | "busy";

/** What a caller hears while another relay holds the map and has not handed it over yet. */
const HELD_ELSEWHERE = {
  ok: false,
  reason: "retry",
  message: "this map is held by another relay that has not handed it over yet; try again shortly",
} as const;

/**
 * The leases of the maps in memory, with several relays on one database (relay/ownership.ts): a
 * map's lease is taken before it is loaded and given up when it leaves memory.
 */
export interface MapLeases {
  /** Takes the map's lease: "busy" while another relay keeps it, "unreachable" on a database error. */
  acquire(mapId: string): Promise<"ok" | "busy" | "unreachable">;
  /** The map left memory: its lease is released. */
  release(mapId: string): void;
}

/** What every caller with a valid key hears about a map that cannot be loaded. */
const MAP_UNAVAILABLE = {
  ok: false,
  reason: "unavailable",
  message: "this map cannot be loaded (its stored data is damaged); contact the relay's operator",
} as const;

/** What a caller hears while the store cannot be reached (nothing is remembered: the next try may work). */
const STORE_UNREACHABLE = {
  ok: false,
  reason: "retry",
  message: "the relay cannot reach its database; try again shortly",
} as const;

/** How long a map that failed to load is answered from memory before loading is tried again. */
const UNAVAILABLE_RETRY_MS = 60_000;

/** What the registry needs from the hub. */
export interface RegistryHooks {
  /** Closes `peer`'s connection: its map leaves memory to make room (logged as evict_idle). */
  closeIdle(peer: Peer, room: Room): void;
  /** `room` left memory; the hub forgets it was dirty. */
  evicted(room: Room): void;
  /** A bug was contained (logged and counted). */
  internalError(where: string, err: unknown, map?: string): void;
}

/** Options for {@link MapRegistry}. */
export interface MapRegistryOptions {
  /** Where maps are loaded from. */
  store: MapStore;
  /** Where snapshots are written. */
  journal: Journal;
  /** Capacity, eviction and room limits. */
  limits: Readonly<Limits>;
  /** Which tickets are durable (only a durable map may leave memory). */
  durability: Durability;
  /** Milliseconds clock. */
  now: () => number;
  /** Where load failures and evictions are logged. */
  logger: Logger;
  /** Counters it updates. */
  metrics: Metrics;
  /** What it calls back on the hub. */
  hooks: RegistryHooks;
  /** Map leases, with several relays on one PostgreSQL database. @default none (SQLite) */
  leases?: MapLeases;
}

/**
 * Rooms by map id: the one place a map enters memory (after its key is checked) and leaves it
 * (swept when empty, evicted when the server is full, snapshotted on the way out).
 */
export class MapRegistry {
  #o: MapRegistryOptions;
  #rooms = new Map<string, Room>();
  /** When a map's peers last edited or moved (or it was loaded): who goes when memory is full. */
  #lastActive = new WeakMap<Room, number>();
  /** Per client address, the maps it has peers on and how many, for `maxMapsPerAddr`. */
  #addrRooms = new Map<string, Map<Room, number>>();
  /** Maps that failed to load: when to try again, and their record when it could be read. */
  #unavailable = new Map<string, { until: number; record: MapRecord | null }>();
  #snapshotting = new Set<Room>();
  /** Maps being read from an asynchronous store: everyone opening one meanwhile waits for it. */
  #loading = new Map<string, Promise<Loaded>>();

  /** An empty registry. */
  constructor(options: MapRegistryOptions) {
    this.#o = options;
  }

  /** Maps in memory. */
  get size(): number {
    return this.#rooms.size;
  }

  /** Every map in memory. */
  rooms(): IterableIterator<Room> {
    return this.#rooms.values();
  }

  /** Is `room` the one in memory for its id (not dropped or replaced)? */
  isLive(room: Room): boolean {
    return this.#rooms.get(room.id) === room;
  }

  /** The map in memory with this id, if any. */
  get(mapId: string): Room | undefined {
    return this.#rooms.get(mapId);
  }

  /** The load of this map under way, if any; it settles once the map is in memory or is not. */
  loading(mapId: string): Promise<unknown> | undefined {
    return this.#loading.get(mapId);
  }

  /** Drops a room whose commit failed (it reloads from the store) or that moved to another relay. */
  drop(room: Room): void {
    if (this.#rooms.get(room.id) !== room) return;
    this.#rooms.delete(room.id);
    this.#o.leases?.release(room.id);
  }

  /** Its peers edited or moved: it is in active use. */
  active(room: Room): void {
    this.#lastActive.set(room, this.#o.now());
  }

  /**
   * Counts a peer from `addr` on `room`; when that address already has peers on
   * `maxMapsPerAddr` other maps, counts nothing and returns how many.
   */
  admit(addr: string, room: Room): number | null {
    const held = this.#addrRooms.get(addr) ?? new Map<Room, number>();
    if (!held.has(room) && held.size >= this.#o.limits.maxMapsPerAddr) return held.size;
    held.set(room, (held.get(room) ?? 0) + 1);
    this.#addrRooms.set(addr, held);
    return null;
  }

  /** Uncounts a peer from `addr` that left `room`. */
  leave(addr: string, room: Room): void {
    const held = this.#addrRooms.get(addr);
    const count = held?.get(room) ?? 0;
    if (count > 1) held!.set(room, count - 1);
    else held?.delete(room);
    if (held?.size === 0) this.#addrRooms.delete(addr);
  }

  /**
   * The map `key` opens and the role it gives, loading the map if it is not in memory. With a
   * synchronous store (SQLite) the answer is immediate; with an asynchronous one (PostgreSQL) a
   * map not in memory is answered by a promise, and callers opening the same map meanwhile share
   * one load.
   */
  open(mapId: string, key: string): MaybePromise<Outcome<Opened>> {
    // The key is checked against the map's record before its journal is read or replayed: a
    // wrong key never loads a map, and cannot tell a damaged map from an unknown one.
    const live = this.#rooms.get(mapId);
    const record = live ? live.record : this.#storedRecord(mapId);
    if (record instanceof Promise) return record.then((r) => this.#openRecord(mapId, key, r));
    return this.#openRecord(mapId, key, record);
  }

  #openRecord(
    mapId: string,
    key: string,
    record: MapRecord | null | "damaged" | "unreachable",
  ): MaybePromise<Outcome<Opened>> {
    if (record === "damaged") return MAP_UNAVAILABLE;
    if (record === "unreachable") return STORE_UNREACHABLE;
    // Hash the key (once) and compare even for an unknown map, so both answers take as long.
    const presented = hashKey(key);
    const editOk = hashMatches(presented, record?.editHash ?? NO_KEY_HASH);
    const viewOk = hashMatches(presented, record?.viewHash ?? NO_KEY_HASH);
    if (!record || key === "" || (!editOk && !viewOk)) {
      return { ok: false, reason: "not_found", message: UNKNOWN_MAP_OR_KEY };
    }
    const live = this.#rooms.get(mapId);
    if (!live && this.#unavailable.has(mapId)) return MAP_UNAVAILABLE;
    const role = editOk ? "editor" : "viewer";
    const room = live ?? this.#load(mapId);
    if (room instanceof Promise) return room.then((r) => this.#opened(mapId, record, r, role));
    return this.#opened(mapId, record, room, role);
  }

  #opened(
    mapId: string,
    record: MapRecord,
    room: Loaded,
    role: "editor" | "viewer",
  ): Outcome<Opened> {
    if (room === "capacity") {
      return {
        ok: false,
        reason: "capacity",
        message: "server at capacity: every map in memory is in active use; try again later",
      };
    }
    if (room === "unreachable") return STORE_UNREACHABLE;
    if (room === "busy") return HELD_ELSEWHERE;
    if (room === "unavailable") {
      // Keep the record, so a wrong key still answers 404 while the map is unavailable.
      const marked = this.#unavailable.get(mapId);
      if (marked) marked.record = record;
      return MAP_UNAVAILABLE;
    }
    if (!room) return { ok: false, reason: "not_found", message: UNKNOWN_MAP_OR_KEY };
    return { ok: true, value: { room, role } };
  }

  /**
   * A map's record (key hashes) from the store without its features; `"damaged"` when even that
   * cannot be read. A map that recently failed to load is answered from memory.
   */
  #storedRecord(mapId: string): MaybePromise<MapRecord | null | "damaged" | "unreachable"> {
    if (!isMapId(mapId)) return null;
    const marked = this.#unavailable.get(mapId);
    if (marked && marked.until > this.#o.now()) return marked.record ?? "damaged";
    this.#unavailable.delete(mapId);
    const failed = (err: unknown): "damaged" | "unreachable" => {
      if (this.#unreachable(mapId, err)) return "unreachable";
      this.#markUnavailable(mapId, null, err);
      return "damaged";
    };
    try {
      const record = this.#o.store.loadRecord(mapId);
      return record instanceof Promise ? record.catch(failed) : record;
    } catch (err) {
      return failed(err);
    }
  }

  /** Is `err` the store being out of reach (logged, not remembered)? */
  #unreachable(mapId: string, err: unknown): boolean {
    if (!(err instanceof StoreUnreachableError)) return false;
    this.#o.logger.log("store_unreachable", { map: mapId, error: String(err) });
    return true;
  }

  /** Remembers that a map cannot be loaded (logged once per retry period). */
  #markUnavailable(mapId: string, record: MapRecord | null, err: unknown): void {
    this.#unavailable.set(mapId, { until: this.#o.now() + UNAVAILABLE_RETRY_MS, record });
    this.#o.metrics.errors.inc("internal");
    this.#o.logger.log("map_unavailable", {
      map: mapId,
      error: String(err),
      retryAfterMs: UNAVAILABLE_RETRY_MS,
    });
  }

  #load(mapId: string): MaybePromise<Loaded> {
    if (!isMapId(mapId)) return null;
    const loading = this.#loading.get(mapId);
    if (loading) return loading;
    // At capacity with nothing to make room, answer before reading the map from the store.
    if (this.#makeRoom() === "capacity") return "capacity";
    let stored: MaybePromise<StoredMap | null | "busy">;
    const failed = (err: unknown): "unavailable" | "unreachable" => {
      if (this.#unreachable(mapId, err)) return "unreachable";
      // A damaged page, a journal that does not replay: this map fails, nothing else.
      this.#markUnavailable(mapId, null, err);
      return "unavailable";
    };
    const leases = this.#o.leases;
    if (leases) {
      // The lease first, so the load sees everything the map's previous owner committed.
      const later = leases.acquire(mapId).then((got) =>
        got === "ok"
          ? this.#o.store.loadMap(mapId, this.#o.limits.recentEdits)
          : got === "busy"
          ? "busy" as const
          : Promise.reject(new StoreUnreachableError("cannot take the map's lease"))
      );
      stored = later;
    } else {
      try {
        stored = this.#o.store.loadMap(mapId, this.#o.limits.recentEdits);
      } catch (err) {
        return failed(err);
      }
    }
    if (!(stored instanceof Promise)) return this.#install(mapId, stored);
    // An asynchronous store's comments are read before the room is made from both.
    const later = stored.then(async (s): Promise<Loaded> => {
      if (s === "busy") return s;
      if (!s) return this.#install(mapId, s);
      let comments: StoredComments;
      try {
        comments = await this.#o.store.loadComments(mapId);
      } catch (err) {
        return failed(err);
      }
      return this.#install(mapId, s, comments);
    }, failed)
      .then((loaded) => {
        // A map taken but not put in memory gives its lease back at once.
        if (leases && !(loaded instanceof Room)) leases.release(mapId);
        return loaded;
      })
      .finally(() => this.#loading.delete(mapId));
    this.#loading.set(mapId, later);
    return later;
  }

  /** `null` when there is space, the room to evict for it, or `"capacity"` when neither. */
  #makeRoom(): Room | null | "capacity" {
    if (this.#rooms.size < this.#o.limits.maxMaps) return null;
    return this.#oldestEvictable() ?? this.#leastActive() ?? "capacity";
  }

  /** Puts a loaded map into memory (making room first), or says why it cannot. */
  #install(mapId: string, stored: StoredMap | null, read?: StoredComments): Loaded {
    if (!stored) return null;
    // An asynchronous load may end after others filled the space it was checked for.
    const makeRoom = this.#makeRoom();
    if (makeRoom === "capacity") return "capacity";
    let room: Room;
    try {
      const comments = read ?? this.#o.store.loadComments(mapId);
      if (comments instanceof Promise) throw new TypeError("the store read comments late");
      room = new Room({ record: stored.record, limits: this.#o.limits, stored, comments });
      // A state that cannot be serialised (written by an older relay) would fail every welcome,
      // read and snapshot later: find out now. The text is cached for the first of them.
      room.featuresJson();
    } catch (err) {
      this.#markUnavailable(mapId, null, err);
      return "unavailable";
    }
    if (makeRoom) this.#evictOccupied(makeRoom);
    room.emptySince = this.#o.now();
    this.#lastActive.set(room, this.#o.now());
    this.#rooms.set(mapId, room);
    return room;
  }

  /** Snapshots `room` when enough edits have been committed since the last snapshot. */
  snapshotIfDue(room: Room): void {
    if (room.editsSinceSnapshot >= this.#o.limits.snapshotEvery) this.#snapshot(room);
  }

  #snapshot(room: Room): void {
    if (room.editsSinceSnapshot === 0 || this.#snapshotting.has(room)) return;
    // Only a state that is wholly durable is snapshotted; the next commit tries again.
    if (room.hasUnsaved || room.ticket > this.#o.durability.durable) return;
    this.#snapshotting.add(room);
    const seq = room.seq;
    const { journal, limits, logger } = this.#o;
    journal.snapshot(room.id, seq, room.featuresJson(), limits.recentEdits).then(
      () => room.snapshotSaved(seq),
      // The journal still holds every edit; a failed snapshot only makes the next load slower.
      (err) => logger.log("snapshot_failed", { map: room.id, error: String(err) }),
    ).finally(() => this.#snapshotting.delete(room));
  }

  /** Evicts the maps empty for `evictAfterMs` and forgets expired load failures. */
  sweep(): void {
    const now = this.#o.now();
    for (const room of [...this.#rooms.values()]) {
      if (
        room.emptySince !== null && now - room.emptySince >= this.#o.limits.evictAfterMs &&
        this.#evictable(room)
      ) {
        try {
          this.evict(room);
        } catch (err) {
          // Everything of an evictable room is durable: it can leave memory without a snapshot.
          this.#o.hooks.internalError("evict", err, room.id);
          this.drop(room);
          this.#o.hooks.evicted(room);
        }
      }
    }
    for (const [mapId, marked] of this.#unavailable) {
      if (marked.until <= now) this.#unavailable.delete(mapId);
    }
  }

  /** The map that has been empty longest and may leave memory, if any. */
  #oldestEvictable(): Room | null {
    let oldest: Room | null = null;
    for (const room of this.#rooms.values()) {
      if (room.emptySince === null || !this.#evictable(room)) continue;
      if (!oldest || room.emptySince < oldest.emptySince!) oldest = room;
    }
    return oldest;
  }

  /**
   * When no map is empty: the map whose peers have done nothing for longest, if that is at least
   * `evictAfterMs` (joining does not count, so idle peers cannot pin a map by reconnecting).
   */
  #leastActive(): Room | null {
    const idleSince = this.#o.now() - this.#o.limits.evictAfterMs;
    let least: Room | null = null;
    let leastAt = Infinity;
    for (const room of this.#rooms.values()) {
      const at = this.#lastActive.get(room) ?? 0;
      if (at > idleSince || at >= leastAt || !this.#evictable(room)) continue;
      least = room;
      leastAt = at;
    }
    return least;
  }

  /** Evicts a map that may still have (idle) peers: they are told to come back later. */
  #evictOccupied(room: Room): void {
    for (const peer of [...room.peers()]) this.#o.hooks.closeIdle(peer, room);
    this.evict(room);
  }

  /** A room whose edits are not durable yet must not leave memory: it would reload without them. */
  #evictable(room: Room): boolean {
    return room.ticket <= this.#o.durability.durable && !room.hasUnsaved;
  }

  /** Takes `room` out of memory, snapshotting it first when it has edits since the last one. */
  evict(room: Room): void {
    this.#snapshot(room);
    this.#rooms.delete(room.id);
    this.#o.leases?.release(room.id);
    this.#o.hooks.evicted(room);
  }
}

/** Compared against for an unknown map, so it costs what a known one does. */
const NO_KEY_HASH = hashKey("");
