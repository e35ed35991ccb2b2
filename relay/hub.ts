/** The hub: maps in memory by id, connections and their limits, and the per-turn flush. */
import { clearImmediate, setImmediate } from "node:timers";
import { cryptoRandomBytes, hashKey, hashMatches, isMapId, newKey, newMapId } from "./keys.ts";
import type { RandomBytes } from "./keys.ts";
import { silentLogger } from "./log.ts";
import type { Logger } from "./log.ts";
import { Metrics } from "./metrics.ts";
import type { Limits } from "./options.ts";
import { FrameCache, Peer } from "./peer.ts";
import type { PeerSocket } from "./peer.ts";
import { ClientMessageSchema, CloseCode, parseFrame, utf8Exceeds } from "./protocol.ts";
import type {
  ClientMessage,
  EditId,
  EditOp,
  ErrorCode,
  HelloMessage,
  ImportFeature,
  RejectCode,
} from "./protocol.ts";
import { Room } from "./room.ts";
import { InlineJournal } from "./journal.ts";
import type { Journal } from "./journal.ts";
import type { MapRecord, Store } from "./store.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Options for {@link Hub}. */
export interface HubOptions {
  /** Where maps are read from when they come into memory. */
  store: Store;
  /** Where edits, snapshots and new maps are written. @default an InlineJournal on `store` */
  journal?: Journal;
  limits: Limits;
  /** Milliseconds clock. @default performance.now-based Date.now */
  now?: () => number;
  /** Peer ids. @default 8 random base36 characters */
  ids?: () => string;
  /** Random bytes for map ids and keys. @default crypto.getRandomValues */
  random?: RandomBytes;
  logger?: Logger;
  metrics?: Metrics;
}

/** Where a connection comes from, for limits and logs. */
export interface ConnectionInfo {
  mapId: string;
  /** The client's address (from `X-Forwarded-For` when the direct peer is a trusted proxy). */
  addr: string;
  /** `websocket` or the name of the fallback transport. */
  transport: string;
  /** Called once when the connection's `hello` is accepted (it has joined its map). */
  onJoin?: () => void;
}

/** What the transport calls on the hub for one connection. */
export interface Connection {
  /** A frame arrived. */
  receive(data: string | ArrayBuffer | Uint8Array | Blob): void;
  /** The transport closed (either side); idempotent. */
  closed(code: number, reason: string): void;
}

/** The answer to an HTTP API call: a value, or an HTTP status with a message. */
export type ApiResult<T> = { ok: true; value: T } | {
  ok: false;
  status: 403 | 404 | 422 | 500 | 503;
  message: string;
};

/** A newly created map: the only time the keys are known to the server. */
export interface CreatedMap {
  id: string;
  editKey: string;
  viewKey: string;
}

const UNKNOWN_MAP_OR_KEY = "unknown map or key";

/** What every caller with a valid key hears about a map that cannot be loaded. */
const MAP_UNAVAILABLE = {
  ok: false,
  status: 500,
  message: "this map cannot be loaded (its stored data is damaged); contact the relay's operator",
} as const;

/** How long a map that failed to load is answered from memory before loading is tried again. */
const UNAVAILABLE_RETRY_MS = 60_000;

type ConnState = "hello" | "joined" | "closed";

class Conn implements Connection {
  state: ConnState = "hello";
  room: Room | null = null;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
  readonly peer: Peer;
  readonly info: ConnectionInfo;
  readonly bucket: TokenBucket;
  readonly flood: TokenBucket;
  readonly #hub: Hub;

  constructor(hub: Hub, peer: Peer, info: ConnectionInfo, limits: Limits, now: () => number) {
    this.#hub = hub;
    this.peer = peer;
    this.info = info;
    this.bucket = new TokenBucket({ rate: limits.rate, burst: limits.rateBurst, now });
    // Presence is coalesced rather than refused, but a peer sending ten times the allowed rate
    // of anything is flooding and is closed.
    this.flood = new TokenBucket({
      rate: limits.rate * 10,
      burst: limits.rateBurst * 10,
      now,
    });
  }

  /** The state can change during a frame's handling; a method keeps narrowing honest. */
  get open(): boolean {
    return this.state !== "closed";
  }

  // The transports call these from their event handlers, where an exception would end the
  // process: whatever goes wrong is contained to this connection.
  receive(data: string | ArrayBuffer | Uint8Array | Blob): void {
    this.#hub.guard(this, "receive", () => this.#hub.receive(this, data));
  }

  closed(code: number, reason: string): void {
    this.#hub.guard(this, "closed", () => this.#hub.closed(this, code, reason));
  }
}

/**
 * Holds every live map and connection. Inbound frames are handled at once; everything outbound is
 * queued and written at the end of the event-loop turn: first the store commits the turn's edits
 * in one transaction, then each peer gets its queued messages as one frame.
 *
 * @example
 * ```ts
 * import { Hub } from "./hub.ts";
 * import { Store } from "./store.ts";
 * import { DEFAULT_LIMITS } from "./options.ts";
 * const hub = new Hub({ store: new Store({ path: ":memory:" }), limits: { ...DEFAULT_LIMITS } });
 * const { id, editKey } = hub.createMap("Field survey");
 * await hub.close();
 * ```
 */
export class Hub {
  readonly metrics: Metrics;
  readonly limits: Readonly<Limits>;
  #store: Store;
  #journal: Journal;
  /** The last commit ticket handed to the journal, and the last one it finished. */
  #issued = 0;
  #durable = 0;
  /** Peers whose outbox waits for a commit. */
  #held = new Set<Peer>();
  #waiters: { ticket: number; resolve: () => void }[] = [];
  #snapshotting = new Set<Room>();
  #now: () => number;
  #ids: () => string;
  #random: RandomBytes;
  #logger: Logger;
  #rooms = new Map<string, Room>();
  /** When a map's peers last edited or moved (or it was loaded): who goes when memory is full. */
  #lastActive = new WeakMap<Room, number>();
  /** Per client address, the maps it has peers on and how many, for `maxMapsPerAddr`. */
  #addrRooms = new Map<string, Map<Room, number>>();
  /** Maps that failed to load: when to try again, and their record when it could be read. */
  #unavailable = new Map<string, { until: number; record: MapRecord | null }>();
  #conns = new Map<Peer, Conn>();
  #dirtyRooms = new Set<Room>();
  #dirtyPeers = new Set<Peer>();
  #flushTimer: ReturnType<typeof setImmediate> | undefined;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #slowTimer: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  constructor(options: HubOptions) {
    if (!options?.store) throw new TypeError("Cannot create Hub as 'store' is missing");
    this.#store = options.store;
    this.#journal = options.journal ?? new InlineJournal(options.store);
    this.limits = { ...options.limits };
    this.#now = options.now ?? Date.now;
    this.#ids = options.ids ?? (() => crypto.randomUUID().replaceAll("-", "").slice(0, 10));
    this.#random = options.random ?? cryptoRandomBytes;
    this.#logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new Metrics();
    const sweepEvery = Math.max(50, Math.min(this.limits.evictAfterMs / 2, 10_000));
    this.#sweepTimer = setInterval(() => this.#safely("sweep", () => this.#sweep()), sweepEvery);
    // A slow peer is caught when the next batch for it is flushed; this catches one whose buffer
    // overflowed with the last batch and that gets nothing more.
    this.#slowTimer = setInterval(
      () => this.#safely("slow_peers", () => this.#closeSlowPeers()),
      1000,
    );
  }

  /** Counts for `/healthz` and `/metrics`. */
  stats(): { connections: number; peers: number; maps: number } {
    let peers = 0;
    for (const room of this.#rooms.values()) peers += room.peerCount;
    return { connections: this.#conns.size, peers, maps: this.#rooms.size };
  }

  /** Is the hub shutting down? */
  get closing(): boolean {
    return this.#closing;
  }

  /** Creates a map; the keys are returned once and only their hashes kept. */
  async createMap(title: string): Promise<CreatedMap> {
    const id = newMapId(this.#random);
    const editKey = newKey(this.#random);
    const viewKey = newKey(this.#random);
    await this.#journal.createMap({
      id,
      title,
      editHash: hashKey(editKey),
      viewHash: hashKey(viewKey),
      createdAt: this.#now(),
    });
    return { id, editKey, viewKey };
  }

  /** A map's features as GeoJSON text, for either key; never shows an edit before it is durable. */
  async readFeatures(mapId: string, key: string): Promise<ApiResult<string>> {
    const auth = this.#authorise(mapId, key);
    if (!auth.ok) return auth;
    const { room } = auth.value;
    const json = room.featureCollectionJson();
    if (!await this.#madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: json };
  }

  /**
   * Checks that `key` may edit `mapId` before anything big is read for it: the same 404 for an
   * unknown map or a wrong key as everywhere, 403 for a view key.
   */
  authoriseEdit(mapId: string, key: string): ApiResult<null> {
    const auth = this.#authorise(mapId, key);
    if (!auth.ok) return auth;
    if (auth.value.role !== "editor") {
      return { ok: false, status: 403, message: "this key may view the map but not change it" };
    }
    return { ok: true, value: null };
  }

  /**
   * Replaces a map's features with an edit key: one durable edit (deletes of what is not in the
   * import, puts of everything in it) that connected peers receive like any other.
   */
  async importFeatures(
    mapId: string,
    key: string,
    features: ImportFeature[],
  ): Promise<ApiResult<{ seq: number; features: number }>> {
    const auth = this.#authorise(mapId, key);
    if (!auth.ok) return auth;
    const { room, role } = auth.value;
    if (role !== "editor") {
      return { ok: false, status: 403, message: "this key may view the map but not change it" };
    }
    const incoming = new Set<string>();
    const puts: EditOp[] = features.map((f) => {
      const id = f.id === undefined ? `f-${this.#ids()}` : String(f.id);
      incoming.add(id);
      return {
        op: "put",
        feature: { type: "Feature", id, geometry: f.geometry, properties: f.properties ?? {} },
      };
    });
    if (incoming.size !== puts.length) {
      return { ok: false, status: 422, message: "feature ids in the import are not unique" };
    }
    const dels: EditOp[] = [...room.featureIds()].filter((id) => !incoming.has(id)).map((fid) => ({
      op: "del",
      fid,
    }));
    const ops = [...dels, ...puts];
    const result = room.edit("api", `import-${this.#ids()}`, ops, undefined, this.#issued + 1);
    if (!result.ok) return { ok: false, status: 422, message: result.message };
    this.metrics.edits++;
    this.#lastActive.set(room, this.#now());
    this.#touch(room);
    if (!await this.#madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: { seq: result.seq, features: puts.length } };
  }

  /** Starts handling a new transport connection; it must send `hello` in time. */
  accept(socket: PeerSocket, info: ConnectionInfo): Connection {
    const peer = new Peer(this.#ids(), socket, info.addr);
    const conn = new Conn(this, peer, info, this.limits as Limits, this.#now);
    this.#conns.set(peer, conn);
    this.metrics.connectionsTotal++;
    if (this.#closing) {
      this.#close(conn, CloseCode.GoingAway, "server shutting down");
      return conn;
    }
    conn.helloTimer = setTimeout(() =>
      this.guard(conn, "hello_timeout", () => {
        conn.helloTimer = undefined;
        this.#violation(conn, "hello_timeout");
        this.#close(conn, CloseCode.Policy, `no hello within ${this.limits.helloTimeoutMs} ms`);
      }), this.limits.helloTimeoutMs);
    return conn;
  }

  /**
   * @internal Runs one entry point's work for a connection. An exception there is a bug: it is
   * logged once and closes only this connection (an `error` `internal`, then 1011), never the
   * process.
   */
  guard(conn: Conn, where: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.#internalError(where, err, conn.info.mapId, conn.peer.id);
      if (conn.state === "closed") return;
      try {
        this.#fatal(
          conn,
          "internal",
          "the relay failed to handle this connection; reconnect",
          CloseCode.InternalError,
        );
      } catch {
        // Even the close failed: drop the connection's state so it cannot fail again.
        conn.state = "closed";
        this.#conns.delete(conn.peer);
        this.#dirtyPeers.delete(conn.peer);
        this.#held.delete(conn.peer);
      }
    }
  }

  /** Runs work from a timer or a promise callback; an exception is logged, never thrown on. */
  #safely(where: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.#internalError(where, err);
    }
  }

  #internalError(where: string, err: unknown, map?: string, peer?: string): void {
    this.metrics.errors.inc("internal");
    // The message only: a stack could quote frame contents (keys, feature data) into the log.
    this.#logger.log("internal_error", { where, map, peer, error: String(err) });
  }

  /** @internal Called by a connection's transport with each inbound frame. */
  receive(conn: Conn, data: string | ArrayBuffer | Uint8Array | Blob): void {
    if (conn.state === "closed") return;
    this.metrics.framesIn++;
    if (typeof data !== "string") {
      this.#violation(conn, "binary_frame");
      this.#fatal(
        conn,
        "bad_message",
        "binary frames are not supported; send JSON text",
        CloseCode.Unsupported,
      );
      return;
    }
    if (utf8Exceeds(data, this.limits.maxFrameBytes)) {
      this.#violation(conn, "frame_too_large", { chars: data.length });
      this.#close(conn, CloseCode.TooLarge, `frame larger than ${this.limits.maxFrameBytes} bytes`);
      return;
    }
    const frame = parseFrame(data, ClientMessageSchema);
    if (!frame.ok) {
      this.#violation(conn, "bad_json");
      this.#fatal(conn, "bad_json", frame.error, CloseCode.Unsupported);
      return;
    }
    for (const item of frame.items) {
      if (!conn.open) return;
      this.metrics.messagesIn++;
      if (!conn.flood.take()) {
        this.#violation(conn, "flood");
        this.#fatal(conn, "rate_limited", "rate limit exceeded", CloseCode.Policy);
        return;
      }
      if (item.ok) {
        this.#dispatch(conn, item.message);
      } else if (conn.state === "hello") {
        this.#violation(conn, "bad_hello");
        this.#fatal(
          conn,
          "bad_message",
          `the first message must be a valid hello: ${item.error}`,
          CloseCode.Policy,
        );
      } else if (item.edit) {
        this.#reject(conn, item.edit.id, item.edit.code, item.error);
      } else {
        this.#error(conn, "bad_message", item.error);
      }
    }
  }

  /** @internal Called by a connection's transport when it has closed. */
  closed(conn: Conn, code: number, reason: string): void {
    if (conn.state === "closed") return;
    this.#cleanup(conn, code, reason, "client");
  }

  #dispatch(conn: Conn, msg: ClientMessage): void {
    if (conn.state === "hello") {
      if (msg.type !== "hello") {
        this.#violation(conn, "hello_required");
        this.#fatal(conn, "hello_required", "the first message must be hello", CloseCode.Policy);
        return;
      }
      this.#hello(conn, msg);
      return;
    }
    const room = conn.room!;
    const peer = conn.peer;
    // A ping only keeps a link alive; what the peers do keeps their map in memory.
    if (msg.type !== "ping") this.#lastActive.set(room, this.#now());
    switch (msg.type) {
      case "hello":
        this.#error(conn, "already_joined", "hello was already received on this connection");
        return;
      case "view":
        peer.view = { bbox: msg.bbox, zoom: msg.zoom };
        room.presence(peer, "view");
        this.#touch(room);
        return;
      case "cursor":
        peer.cursor = msg.at;
        room.presence(peer, "cursor");
        this.#touch(room);
        return;
      case "edit": {
        if (peer.role !== "editor") {
          this.#reject(
            conn,
            msg.id,
            "forbidden",
            "this link is view-only; edits need the edit link",
          );
          return;
        }
        if (!conn.bucket.take()) {
          this.#reject(conn, msg.id, "rate_limited", "too many edits; slow down and send it again");
          return;
        }
        const result = room.edit(peer.id, msg.id, msg.ops, peer.client, this.#issued + 1);
        if (!result.ok) {
          this.#reject(conn, msg.id, result.code, result.message);
          return;
        }
        this.metrics.edits++;
        this.#touch(room);
        return;
      }
      case "profile":
        if (!this.#allowed(conn)) return;
        peer.name = msg.name;
        peer.color = msg.color.toLowerCase();
        room.profile(peer);
        this.#touch(room);
        return;
      case "ping":
        if (!this.#allowed(conn)) return;
        this.#send(
          conn,
          JSON.stringify(msg.t === undefined ? { type: "pong" } : { type: "pong", t: msg.t }),
        );
        return;
      default: {
        const unreachable: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #hello(conn: Conn, msg: HelloMessage): void {
    clearTimeout(conn.helloTimer);
    conn.helloTimer = undefined;
    const auth = this.#authorise(conn.info.mapId, msg.key);
    if (!auth.ok) {
      if (auth.status === 500) {
        this.#fatal(conn, "internal", auth.message, CloseCode.InternalError);
        return;
      }
      if (auth.status === 503) {
        this.#close(conn, CloseCode.TryAgainLater, auth.message);
        return;
      }
      this.#violation(conn, "bad_key");
      this.#close(conn, CloseCode.Policy, UNKNOWN_MAP_OR_KEY);
      return;
    }
    const { room, role } = auth.value;
    if (room.peerCount >= this.limits.maxPeersPerMap) {
      this.#close(conn, CloseCode.TryAgainLater, "map is full; try again later");
      return;
    }
    const held = this.#addrRooms.get(conn.info.addr) ?? new Map<Room, number>();
    if (!held.has(room) && held.size >= this.limits.maxMapsPerAddr) {
      this.#violation(conn, "maps_per_addr", { maps: held.size });
      this.#close(
        conn,
        CloseCode.TryAgainLater,
        `your address already has peers on ${held.size} maps, the most allowed; close one first`,
      );
      return;
    }
    held.set(room, (held.get(room) ?? 0) + 1);
    this.#addrRooms.set(conn.info.addr, held);
    const peer = conn.peer;
    peer.name = msg.name;
    peer.color = msg.color.toLowerCase();
    peer.role = role;
    peer.client = msg.client;
    conn.state = "joined";
    conn.room = room;
    // A client ahead of the store saw acknowledged edits the store no longer has (a restore, a
    // lost log): it gets the whole map, and the operator must hear of it.
    if ((msg.since ?? 0) > room.seq) {
      this.#logger.log("store_behind_client", { map: room.id, since: msg.since, seq: room.seq });
    }
    if (room.join(peer, msg.since, msg.epoch) === "epoch_mismatch") {
      // A since from another history (a restored backup, a moved map): the whole map instead.
      this.#logger.log("epoch_mismatch", { map: room.id, since: msg.since, seq: room.seq });
    }
    this.#touch(room);
    conn.info.onJoin?.();
    this.#logger.log("connect", {
      map: room.id,
      peer: peer.id,
      role,
      addr: conn.info.addr,
      transport: conn.info.transport,
      catchUp: msg.since !== undefined,
    });
  }

  #authorise(
    mapId: string,
    key: string,
  ): ApiResult<{ room: Room; role: "editor" | "viewer" }> {
    // The key is checked against the map's record before its journal is read or replayed: a
    // wrong key never loads a map, and cannot tell a damaged map from an unknown one.
    const live = this.#rooms.get(mapId);
    const record = live ? live.record : this.#storedRecord(mapId);
    if (record === "damaged") return MAP_UNAVAILABLE;
    // Hash the key (once) and compare even for an unknown map, so both answers take as long.
    const presented = hashKey(key);
    const editOk = hashMatches(presented, record?.editHash ?? NO_KEY_HASH);
    const viewOk = hashMatches(presented, record?.viewHash ?? NO_KEY_HASH);
    if (!record || key === "" || (!editOk && !viewOk)) {
      return { ok: false, status: 404, message: UNKNOWN_MAP_OR_KEY };
    }
    if (!live && this.#unavailable.has(mapId)) return MAP_UNAVAILABLE;
    const room = live ?? this.#room(mapId);
    if (room === "capacity") {
      return {
        ok: false,
        status: 503,
        message: "server at capacity: every map in memory is in active use; try again later",
      };
    }
    if (room === "unavailable") {
      // Keep the record, so a wrong key still answers 404 while the map is unavailable.
      const marked = this.#unavailable.get(mapId);
      if (marked) marked.record = record;
      return MAP_UNAVAILABLE;
    }
    if (!room) return { ok: false, status: 404, message: UNKNOWN_MAP_OR_KEY };
    return { ok: true, value: { room, role: editOk ? "editor" : "viewer" } };
  }

  /**
   * A map's record (key hashes) from the store without its features; `"damaged"` when even that
   * cannot be read. A map that recently failed to load is answered from memory.
   */
  #storedRecord(mapId: string): MapRecord | null | "damaged" {
    if (!isMapId(mapId)) return null;
    const marked = this.#unavailable.get(mapId);
    if (marked && marked.until > this.#now()) return marked.record ?? "damaged";
    this.#unavailable.delete(mapId);
    try {
      return this.#store.loadRecord(mapId);
    } catch (err) {
      this.#markUnavailable(mapId, null, err);
      return "damaged";
    }
  }

  /** Remembers that a map cannot be loaded (logged once per retry period). */
  #markUnavailable(mapId: string, record: MapRecord | null, err: unknown): void {
    this.#unavailable.set(mapId, { until: this.#now() + UNAVAILABLE_RETRY_MS, record });
    this.metrics.errors.inc("internal");
    this.#logger.log("map_unavailable", {
      map: mapId,
      error: String(err),
      retryAfterMs: UNAVAILABLE_RETRY_MS,
    });
  }

  #room(mapId: string): Room | null | "capacity" | "unavailable" {
    const live = this.#rooms.get(mapId);
    if (live) return live;
    if (!isMapId(mapId)) return null;
    // At capacity with nothing to make room, answer before reading the map from the store.
    const full = this.#rooms.size >= this.limits.maxMaps;
    const makeRoom = full ? (this.#oldestEvictable() ?? this.#leastActive()) : null;
    if (full && !makeRoom) return "capacity";
    let room: Room;
    try {
      const stored = this.#store.loadMap(mapId, this.limits.recentEdits);
      if (!stored) return null;
      room = new Room({ record: stored.record, limits: this.limits, stored });
      // A state that cannot be serialised (written by an older relay) would fail every welcome,
      // read and snapshot later: find out now. The text is cached for the first of them.
      room.featuresJson();
    } catch (err) {
      // A damaged page, a journal that does not replay: this map fails, nothing else.
      this.#markUnavailable(mapId, null, err);
      return "unavailable";
    }
    if (makeRoom) this.#evictOccupied(makeRoom);
    room.emptySince = this.#now();
    this.#lastActive.set(room, this.#now());
    this.#rooms.set(mapId, room);
    return room;
  }

  #send(conn: Conn, text: string): void {
    conn.peer.enqueue(text);
    this.#dirtyPeers.add(conn.peer);
    this.#schedule();
  }

  /** Takes a token for a counted message; answers `rate_limited` when there is none. */
  #allowed(conn: Conn): boolean {
    if (conn.bucket.take()) return true;
    this.#error(conn, "rate_limited", "too many messages; slow down");
    return false;
  }

  #error(conn: Conn, code: ErrorCode, message: string): void {
    this.metrics.errors.inc(code);
    this.#send(conn, JSON.stringify({ type: "error", code, message }));
  }

  #reject(conn: Conn, id: EditId, code: RejectCode, message: string): void {
    this.metrics.rejections.inc(code);
    this.#send(conn, JSON.stringify({ type: "rejected", id, code, message }));
  }

  #fatal(conn: Conn, code: ErrorCode, message: string, closeCode: number): void {
    this.#error(conn, code, message);
    this.#close(conn, closeCode, message);
  }

  #violation(conn: Conn, kind: string, fields: Record<string, unknown> = {}): void {
    this.#logger.log("violation", {
      kind,
      map: conn.info.mapId,
      peer: conn.peer.id,
      addr: conn.info.addr,
      ...fields,
    });
  }

  /** Closes from the server side: what is queued for the peer (made durable first) goes out first. */
  #close(conn: Conn, code: number, reason: string): void {
    if (conn.state === "closed") return;
    // What is durable goes out first; an echo still waiting for its commit is not sent (the
    // client finds it in its catch-up when it reconnects).
    this.#flushPeer(conn.peer, false);
    // A transport that failed in that flush has been closed already (1011).
    if (!conn.open) return;
    try {
      conn.peer.socket.close(code, closeReason(reason));
    } catch {
      // The transport is already gone; cleanup still runs.
    }
    this.#cleanup(conn, code, reason, "server");
  }

  #cleanup(conn: Conn, code: number, reason: string, by: "client" | "server"): void {
    conn.state = "closed";
    clearTimeout(conn.helloTimer);
    conn.helloTimer = undefined;
    this.#conns.delete(conn.peer);
    this.#dirtyPeers.delete(conn.peer);
    this.#held.delete(conn.peer);
    conn.peer.discard();
    if (conn.room) {
      const held = this.#addrRooms.get(conn.info.addr);
      const count = held?.get(conn.room) ?? 0;
      if (count > 1) held!.set(conn.room, count - 1);
      else held?.delete(conn.room);
      if (held?.size === 0) this.#addrRooms.delete(conn.info.addr);
      conn.room.leave(conn.peer, this.#now());
      this.#touch(conn.room);
    }
    this.metrics.closes.inc(code);
    this.#logger.log("close", {
      map: conn.info.mapId,
      peer: conn.peer.id,
      addr: conn.info.addr,
      code,
      reason,
      by,
    });
  }

  #touch(room: Room): void {
    this.#dirtyRooms.add(room);
    this.#schedule();
  }

  #schedule(): void {
    // setImmediate runs after the I/O callbacks that are ready in this turn, so every frame that
    // arrived together is handled before one flush; setTimeout(0) would add ~2 ms in Deno.
    if (this.#flushTimer === undefined) {
      this.#flushTimer = setImmediate(() => this.#safely("flush", () => this.flush()));
    }
  }

  /**
   * Hands the turn's edits to the journal as one commit and writes every peer's queued messages
   * as one frame each; echoes (and what follows them) wait until their commit is durable.
   */
  flush(): void {
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    const rooms = [...this.#dirtyRooms];
    this.#dirtyRooms.clear();
    this.#commit(rooms);
    const frames = new FrameCache();
    for (const room of rooms) {
      if (this.#rooms.get(room.id) !== room) continue;
      room.flushPresence();
      for (const peer of room.peers()) if (peer.pending) this.#flushPeer(peer, true, frames);
    }
    for (const peer of this.#dirtyPeers) this.#flushPeer(peer, true, frames);
    this.#dirtyPeers.clear();
  }

  /** Flushes, waits until every commit so far is durable, and flushes what it released. */
  async settled(): Promise<void> {
    this.flush();
    await this.#durableAt(this.#issued);
    this.flush();
  }

  #commit(rooms: Room[]): void {
    // A room dropped after a failed commit is not written again: it reloads from the store.
    const pending = rooms.filter((r) => r.hasUnsaved && this.#rooms.get(r.id) === r);
    if (pending.length === 0) return;
    const ticket = ++this.#issued;
    const batches = pending.map((room) => ({ mapId: room.id, entries: room.takeUnsaved() }));
    this.#journal.append(batches).then(
      () =>
        this.#safely("committed", () => {
          this.#committed(ticket);
          for (const room of pending) {
            if (room.editsSinceSnapshot >= this.limits.snapshotEvery) this.#snapshot(room);
          }
        }),
      (err) =>
        this.#safely("commit_failed", () => {
          // The edits are applied in memory but not durable: they must not be acknowledged. Drop
          // the rooms from memory (they reload from the store) and make their peers reconnect.
          this.#logger.log("store_failed", { error: String(err), maps: pending.map((r) => r.id) });
          for (const room of pending) {
            if (this.#rooms.get(room.id) === room) this.#rooms.delete(room.id);
            for (const peer of [...room.peers()]) {
              peer.discard();
              const conn = this.#conns.get(peer);
              if (conn) this.#close(conn, CloseCode.InternalError, "storage failure; reconnect");
            }
          }
          this.#committed(ticket);
        }),
    );
  }

  /** Commit `ticket` finished (journal calls finish in order): release what waited for it. */
  #committed(ticket: number): void {
    this.#durable = Math.max(this.#durable, ticket);
    for (const peer of this.#held) this.#dirtyPeers.add(peer);
    this.#held.clear();
    // Send what the commit released at once, before anyone awaiting it (an import) resumes.
    if (this.#dirtyPeers.size > 0) this.flush();
    const ready = this.#waiters.filter((w) => w.ticket <= this.#durable);
    this.#waiters = this.#waiters.filter((w) => w.ticket > this.#durable);
    for (const w of ready) w.resolve();
  }

  /**
   * Waits until everything `room` shows is durable; false when a commit of it failed meanwhile
   * (the room was then dropped from memory, and what it showed must not be reported).
   */
  async #madeDurable(room: Room): Promise<boolean> {
    await this.#durableAt(room.ticket);
    return this.#rooms.get(room.id) === room;
  }

  /** Resolves once commit `ticket` is durable (issuing this turn's commit now if needed). */
  #durableAt(ticket: number): Promise<void> {
    if (ticket > this.#issued) this.flush();
    if (ticket <= this.#durable) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ ticket, resolve }));
  }

  #flushPeer(peer: Peer, closeIfSlow: boolean, frames?: FrameCache): void {
    let result;
    try {
      result = peer.flush(this.limits.maxBufferedBytes, this.#durable, frames);
    } catch (err) {
      // One peer's transport failing must not stop the others' flush.
      const conn = this.#conns.get(peer);
      this.#internalError("flush_peer", err, conn?.info.mapId, peer.id);
      peer.discard();
      if (conn) this.#close(conn, CloseCode.InternalError, "internal error; reconnect");
      return;
    }
    if (result.held) this.#held.add(peer);
    this.metrics.framesOut += result.frames;
    this.metrics.messagesOut += result.messages;
    this.metrics.presenceDrops += result.dropped;
    if (result.tooSlow && closeIfSlow) {
      const conn = this.#conns.get(peer);
      if (!conn) return;
      this.#violation(conn, "too_slow", { buffered: peer.socket.bufferedAmount });
      this.#close(conn, CloseCode.TryAgainLater, "too slow: send buffer overflowed");
    }
  }

  #snapshot(room: Room): void {
    if (room.editsSinceSnapshot === 0 || this.#snapshotting.has(room)) return;
    // Only a state that is wholly durable is snapshotted; the next commit tries again.
    if (room.hasUnsaved || room.ticket > this.#durable) return;
    this.#snapshotting.add(room);
    const seq = room.seq;
    this.#journal.snapshot(room.id, seq, room.featuresJson(), this.limits.recentEdits).then(
      () => room.snapshotSaved(seq),
      // The journal still holds every edit; a failed snapshot only makes the next load slower.
      (err) => this.#logger.log("snapshot_failed", { map: room.id, error: String(err) }),
    ).finally(() => this.#snapshotting.delete(room));
  }

  #sweep(): void {
    const now = this.#now();
    for (const room of [...this.#rooms.values()]) {
      if (
        room.emptySince !== null && now - room.emptySince >= this.limits.evictAfterMs &&
        this.#evictable(room)
      ) {
        try {
          this.#evict(room);
        } catch (err) {
          // Everything of an evictable room is durable: it can leave memory without a snapshot.
          this.#internalError("evict", err, room.id);
          if (this.#rooms.get(room.id) === room) this.#rooms.delete(room.id);
          this.#dirtyRooms.delete(room);
        }
      }
    }
    for (const [mapId, marked] of this.#unavailable) {
      if (marked.until <= now) this.#unavailable.delete(mapId);
    }
  }

  #closeSlowPeers(): void {
    for (const conn of [...this.#conns.values()]) {
      // The flush finds the overflow, drops what waits and closes the peer, as in a turn.
      if (conn.open && conn.peer.socket.bufferedAmount > this.limits.maxBufferedBytes) {
        this.#flushPeer(conn.peer, true);
      }
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
    const idleSince = this.#now() - this.limits.evictAfterMs;
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
    for (const peer of [...room.peers()]) {
      const conn = this.#conns.get(peer);
      if (!conn) continue;
      this.#logger.log("evict_idle", { map: room.id, peer: peer.id, addr: conn.info.addr });
      this.#close(
        conn,
        CloseCode.TryAgainLater,
        "map closed to make room on a full server after being idle; reconnect later",
      );
    }
    this.#evict(room);
  }

  /** A room whose edits are not durable yet must not leave memory: it would reload without them. */
  #evictable(room: Room): boolean {
    return room.ticket <= this.#durable && !room.hasUnsaved;
  }

  #evict(room: Room): void {
    this.#snapshot(room);
    this.#rooms.delete(room.id);
    this.#dirtyRooms.delete(room);
  }

  /**
   * Shuts down: makes everything durable, sends what is queued, closes every connection with 1001,
   * snapshots every map, stops the timers and closes the journal. The store is left open for the
   * caller to close.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#sweepTimer);
    clearInterval(this.#slowTimer);
    await this.settled();
    for (const conn of [...this.#conns.values()]) {
      this.#close(conn, CloseCode.GoingAway, "server shutting down");
    }
    for (const room of [...this.#rooms.values()]) {
      try {
        this.#evict(room);
      } catch (err) {
        // Its edits are in the journal; shutting down must not stop at one map.
        this.#internalError("evict", err, room.id);
      }
    }
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.#journal.close();
  }
}

const NOT_SAVED = {
  ok: false,
  status: 503,
  message: "the map could not be saved; try again",
} as const;

/**
 * A close reason the WebSocket API accepts: at most 123 bytes of UTF-8, cut at a character.
 * A longer one (a message quoting a client's wide characters) makes `close` throw, and the
 * socket would stay open with the hub no longer knowing it.
 */
function closeReason(reason: string): string {
  if (!utf8Exceeds(reason, 123)) return reason;
  let out = "";
  let bytes = 0;
  for (const char of reason) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes > 123) break;
    out += char;
  }
  return out;
}

/** Compared against for an unknown map, so it costs what a known one does. */
const NO_KEY_HASH = hashKey("");
