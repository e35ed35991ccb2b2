/** The hub: routes connections to maps and flushes each event-loop turn (commit, then send). */
import { clearImmediate, setImmediate } from "node:timers";
import { ClientConnection } from "./client_connection.ts";
import type { Connection, ConnectionHost, ConnectionInfo } from "./connection_host.ts";
import { Durability } from "./durability.ts";
import { InlineJournal } from "./journal.ts";
import type { Journal } from "./journal.ts";
import { cryptoRandomBytes } from "./keys.ts";
import type { RandomBytes } from "./keys.ts";
import { silentLogger } from "./log.ts";
import type { Logger } from "./log.ts";
import { MapApi } from "./map_api.ts";
import { HistoryApi } from "./history_api.ts";
import { InlineHistoryReader } from "./history_reader.ts";
import type { HistoryReader } from "./history_reader.ts";
import { Retention } from "./retention.ts";
import { LagProbe, type LoadSignal, threadCpuClock } from "./load_probe.ts";
import { MapRegistry } from "./map_registry.ts";
import type { MapLeases } from "./map_registry.ts";
import { Connections } from "./connections.ts";
import { Committer } from "./commit.ts";
import type { CommitLeases } from "./commit.ts";
import { CommentsApi } from "./comments_api.ts";
import { Metrics } from "./metrics.ts";
import type { Limits } from "./limits.ts";
import { FrameCache, Peer } from "./peer.ts";
import type { PeerSocket } from "./peer.ts";
import { CloseCode } from "./protocol.ts";
import type { Room } from "./room.ts";
import type { MapStore } from "./map_store.ts";
import { Store } from "./store.ts";
import { StoreJournal } from "./store_journal.ts";
import { systemTimers } from "./timers.ts";
import type { TimerId, Timers } from "./timers.ts";

export type { Connection, ConnectionInfo } from "./connection_host.ts";

/** Options for {@link Hub}. */
export interface HubOptions {
  /** Where maps are read from when they come into memory. */
  store: MapStore;
  /**
   * Where edits, snapshots and new maps are written. @default an InlineJournal on a SQLite
   * `store`, a StoreJournal on any other
   */
  journal?: Journal;
  /** The limits it enforces (copied). */
  limits: Limits;
  /** Timers for the hello timeout, the sweep and the slow-peer check. @default the runtime's */
  timers?: Timers;
  /** Peer ids. @default 10 random hex characters */
  ids?: () => string;
  /** Random bytes for map ids and keys. @default crypto.getRandomValues */
  random?: RandomBytes;
  /** Where events are logged. @default silent */
  logger?: Logger;
  /** Counters for `/metrics`. @default a new Metrics */
  metrics?: Metrics;
  /**
   * Where past states of maps are rebuilt. @default an InlineHistoryReader on a SQLite `store`,
   * none on any other (its history is then answered 501)
   */
  historyReader?: HistoryReader;
  /**
   * Whether the relay is falling behind: the presence tick batches only then, and stretches while
   * the relay stays short of CPU. @default a LagProbe on `timers` when `limits.presenceTickMs` is
   * above 0, measuring the thread's CPU too unless `timers` were given (a fake clock has no CPU)
   */
  presenceLoad?: LoadSignal;
  /**
   * Map leases, with several relays on one PostgreSQL database (relay/ownership.ts). @default
   * none: every map is this relay's (SQLite)
   */
  leases?: HubLeases;
}

/** The leases the hub's maps are held under; `fenced` while they cannot be renewed in time. */
export interface HubLeases extends MapLeases, CommitLeases {
  /** True while this relay cannot renew its leases (`/healthz` answers 503 "fenced"). */
  readonly fenced: boolean;
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
 * import { DEFAULT_LIMITS } from "./limits.ts";
 * const hub = new Hub({ store: new Store({ path: ":memory:" }), limits: { ...DEFAULT_LIMITS } });
 * const { id, editKey } = await hub.api.createMap("Field survey");
 * await hub.close();
 * ```
 */
export class Hub {
  /** Counters for `/metrics`. */
  readonly metrics: Metrics;
  /** The limits it enforces. */
  readonly limits: Readonly<Limits>;
  /** Its clock and timers, for the transports' own timers. */
  readonly timers: Timers;
  /** The HTTP API's work on its maps: create, read, import. */
  readonly api: MapApi;
  /** The HTTP API's work on comments and settings. */
  readonly comments: CommentsApi;
  /** The HTTP API's work on its maps' history: pages, states at a seq, named versions. */
  readonly history: HistoryApi;
  #journal: Journal;
  #historyReader: HistoryReader | null;
  #durability = new Durability();
  #maps: MapRegistry;
  #host: ConnectionHost;
  #now: () => number;
  #ids: () => string;
  #logger: Logger;
  #conns: Connections;
  #committer: Committer;
  #dirtyRooms = new Set<Room>();
  #dirtyPeers = new Set<Peer>();
  #flushTimer: ReturnType<typeof setImmediate> | undefined;
  /** Maps with cursors/views waiting for the presence tick, and its timer. */
  #presenceRooms = new Set<Room>();
  /** When each map last sent presence (hub clock), for the presence tick's leading edge. */
  #presenceSentAt = new WeakMap<Room, number>();
  #presenceTimer: TimerId | undefined;
  /** When the presence timer fires (hub clock). */
  #presenceDue = 0;
  /** Says when the event loop is behind, so presence waits for the tick only then. */
  #presenceLoad: LoadSignal | null;
  #sweepTimer: TimerId | undefined;
  #closing = false;
  #leases: HubLeases | undefined;

  /** Checks the options and starts the sweep and slow-peer timers. */
  constructor(options: HubOptions) {
    if (!options?.store) throw new TypeError("Cannot create Hub as 'store' is missing");
    const store = options.store;
    this.#journal = options.journal ??
      (store instanceof Store ? new InlineJournal(store) : new StoreJournal(store));
    this.limits = { ...options.limits };
    const timers = this.timers = options.timers ?? systemTimers();
    this.#now = timers.now;
    this.#ids = options.ids ?? (() => crypto.randomUUID().replaceAll("-", "").slice(0, 10));
    this.#logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new Metrics();
    this.#presenceLoad = options.presenceLoad ??
      (this.limits.presenceTickMs > 0
        ? new LagProbe({ timers, cpuMs: options.timers ? undefined : threadCpuClock() })
        : null);
    this.#leases = options.leases;
    const internalError = this.#internalError.bind(this);
    this.#conns = new Connections({
      limits: this.limits,
      metrics: this.metrics,
      logger: this.#logger,
      durability: this.#durability,
      timers,
      internalError,
    });
    this.#maps = new MapRegistry({
      store: options.store,
      journal: this.#journal,
      limits: this.limits,
      durability: this.#durability,
      now: this.#now,
      logger: this.#logger,
      metrics: this.metrics,
      hooks: {
        closeIdle: (peer, room) => this.#conns.closeIdle(peer, room),
        evicted: (room) => {
          this.#dirtyRooms.delete(room);
          this.#presenceRooms.delete(room);
        },
        internalError,
      },
      leases: options.leases,
    });
    this.#committer = new Committer({
      journal: this.#journal,
      durability: this.#durability,
      maps: this.#maps,
      conns: this.#conns,
      logger: this.#logger,
      committed: (ticket) => this.#committed(ticket),
      safely: (where, work) => this.#safely(where, work),
      leases: options.leases,
    });
    this.#host = {
      limits: this.limits,
      metrics: this.metrics,
      logger: this.#logger,
      timers,
      now: this.#now,
      maps: this.#maps,
      durability: this.#durability,
      touch: (room) => this.#touch(room),
      presence: (room) => this.#presenceChanged(room),
      queued: (peer) => {
        this.#dirtyPeers.add(peer);
        this.#schedule();
      },
      flushPeer: (peer, closeIfSlow) => this.#conns.flushPeer(peer, closeIfSlow),
      forget: (peer) => {
        this.#conns.delete(peer);
        this.#dirtyPeers.delete(peer);
        this.#durability.release(peer);
      },
      internalError,
    };
    this.api = new MapApi({
      limits: this.limits,
      maps: this.#maps,
      journal: this.#journal,
      durability: this.#durability,
      metrics: this.metrics,
      now: this.#now,
      ids: this.#ids,
      random: options.random ?? cryptoRandomBytes,
      touch: (room) => this.#touch(room),
      madeDurable: (room) => this.#madeDurable(room),
    });
    this.comments = new CommentsApi({
      maps: this.#maps,
      durability: this.#durability,
      touch: (room) => this.#touch(room),
      madeDurable: (room) => this.#madeDurable(room),
    });
    this.#historyReader = options.historyReader ??
      (store instanceof Store ? new InlineHistoryReader(store) : null);
    this.history = new HistoryApi({
      maps: this.#maps,
      lists: store.history,
      journal: this.#journal,
      reader: this.#historyReader,
      now: this.#now,
      madeDurable: (room) => this.#madeDurable(room),
      failed: (where, err, map) => this.#internalError(where, err, map),
    });
    const retention = new Retention({
      days: this.limits.historyDays ?? 0,
      journal: this.#journal,
      now: this.#now,
      logger: this.#logger,
    });
    const sweepEvery = Math.max(50, Math.min(this.limits.evictAfterMs / 2, 10_000));
    this.#sweepTimer = timers.setInterval(
      () =>
        this.#safely("sweep", () => {
          this.#maps.sweep();
          void retention.tick();
        }),
      sweepEvery,
    );
  }

  /** Counts for `/healthz` and `/metrics`. */
  stats(): { connections: number; peers: number; maps: number } {
    let peers = 0;
    for (const room of this.#maps.rooms()) peers += room.peerCount;
    return { connections: this.#conns.size, peers, maps: this.#maps.size };
  }

  /**
   * The presence tick's state for `/metrics`: how many ticks a busy map's presence waits now (0
   * while the relay keeps up), and the share of a core its thread used when last measured. Reading
   * it does not start the load probe.
   */
  presenceLoad(): { presenceTicks: number; busy: number } {
    const load = this.#presenceLoad;
    if (!load || !(this.limits.presenceTickMs > 0)) return { presenceTicks: 0, busy: 0 };
    const waiting = this.#presenceTimer !== undefined || this.#presenceRooms.size > 0;
    return { presenceTicks: waiting ? load.stretch : 0, busy: load.busy ?? 0 };
  }

  /** Can this relay not renew its map leases in time (it sequences nothing meanwhile)? */
  get fenced(): boolean {
    return this.#leases?.fenced ?? false;
  }

  /**
   * Takes a map this relay no longer sequences out of memory; its peers are closed 1012 "moved".
   * A handoff first waits until everything of the map is durable (and acknowledged); a lost or
   * expired lease does not wait: what was not acknowledged is dropped.
   */
  async moveOut(mapId: string, why: "lost" | "self_fenced" | "handoff"): Promise<void> {
    let room = this.#maps.get(mapId);
    if (!room) {
      // A map still loading was taken under the lease that is going now: let the load end and
      // move the map out then, or it would be served from memory without a lease.
      const loading = this.#maps.loading(mapId);
      if (!loading) return;
      await loading.catch(() => {});
      room = this.#maps.get(mapId);
      if (!room) return;
    }
    // Edits keep arriving while a commit is written: wait again (a few times at most).
    for (let i = 0; why === "handoff" && i < 5; i++) {
      if (!room.hasUnsaved && room.ticket <= this.#durability.durable) break;
      if (!await this.#madeDurable(room)) return;
    }
    if (!this.#maps.isLive(room)) return;
    this.#committer.moved(room, why === "handoff" && !room.hasUnsaved);
  }

  /** Is the hub shutting down? */
  get closing(): boolean {
    return this.#closing;
  }

  /** Starts handling a new transport connection; it must send `hello` in time. */
  accept(socket: PeerSocket, info: ConnectionInfo): Connection {
    const peer = new Peer(this.#ids(), socket, info.addr);
    const conn = new ClientConnection(this.#host, peer, info);
    this.#conns.add(conn);
    this.metrics.connectionsTotal++;
    if (this.#closing) {
      conn.close(CloseCode.GoingAway, "server shutting down");
      return conn;
    }
    conn.start();
    return conn;
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

  #touch(room: Room): void {
    this.#dirtyRooms.add(room);
    this.#schedule();
  }

  #schedule(): void {
    // setImmediate runs after the I/O callbacks that are ready in this turn, so every frame that
    // arrived together is handled before one flush; setTimeout(0) would add ~2 ms in Deno.
    if (this.#flushTimer === undefined) {
      this.#flushTimer = setImmediate(() => this.#safely("flush", () => this.#flushTurn()));
    }
  }

  /**
   * A cursor or view changed in `room`. While the relay keeps up (its event loop is not behind),
   * it goes out at the end of the turn: nobody waits when there is CPU to spare. Once the loop
   * falls behind, a map that sent no presence for a whole tick still sends at the end of the turn
   * (sparse moves wait for nothing), and in a busier map it waits until a tick has passed since
   * the map last sent presence, so a peer gets at most about one presence frame per tick however
   * many others moved: fewer, fuller frames for the CPU the relay lacks. Each map keeps its own
   * phase (its tick runs from its own last send), so the maps' frames spread over the tick instead
   * of all going out in one burst that would hold up everything else. While the relay stays short
   * of CPU even so, the tick stretches (the load signal's `stretch`).
   */
  #presenceChanged(room: Room): void {
    const tick = this.#presenceTickNow();
    const last = this.#presenceSentAt.get(room);
    const now = this.#now();
    if (
      !(tick > 0) ||
      !this.#presenceRooms.has(room) && (last === undefined || now - last >= tick) ||
      !this.#presenceLoad?.behind
    ) {
      this.#touch(room);
      return;
    }
    this.#presenceRooms.add(room);
    this.#armPresence((last ?? now) + tick, tick);
  }

  /** The presence tick now, in ms: the configured one, stretched while the relay is short of CPU. */
  #presenceTickNow(): number {
    return this.limits.presenceTickMs * (this.#presenceLoad?.stretch ?? 1);
  }

  /**
   * Makes sure the presence timer fires by `due` (hub clock). Maps due within an eighth of a tick
   * of each other share one firing, so the timer is not re-armed for every map.
   */
  #armPresence(due: number, tick: number): void {
    if (this.#presenceTimer !== undefined && this.#presenceDue <= due + tick / 8) return;
    this.timers.clearTimeout(this.#presenceTimer);
    this.#presenceDue = due;
    this.#presenceTimer = this.timers.setTimeout(
      () => this.#safely("presence", () => this.#presenceTick(false)),
      Math.max(0, due - this.#now()),
    );
  }

  /**
   * Sends the presence of every waiting map whose tick has passed (every waiting map when `all`):
   * one frame per peer, with whatever else it has queued; the timer is armed for the next one due.
   */
  #presenceTick(all: boolean): void {
    this.timers.clearTimeout(this.#presenceTimer);
    this.#presenceTimer = undefined;
    // A turn not flushed yet goes first, so an edit's commit is issued before anything is sent.
    if (this.#flushTimer !== undefined) this.#flushTurn();
    const now = this.#now();
    const tick = this.#presenceTickNow();
    let next = Infinity;
    let frames: FrameCache | undefined;
    for (const room of this.#presenceRooms) {
      // A map whose edits were flushed since already sent its presence with them.
      if (!room.presencePending || !this.#maps.isLive(room)) {
        this.#presenceRooms.delete(room);
        continue;
      }
      const due = (this.#presenceSentAt.get(room) ?? now) + tick;
      if (!all && due > now + tick / 8) {
        next = Math.min(next, due);
        continue;
      }
      this.#presenceRooms.delete(room);
      this.#presenceSentAt.set(room, now);
      room.flushPresence();
      frames ??= new FrameCache();
      for (const peer of room.peers()) if (peer.pending) this.#conns.flushPeer(peer, true, frames);
    }
    if (next !== Infinity) this.#armPresence(next, tick);
  }

  /**
   * Hands the turn's edits to the journal as one commit and writes every peer's queued messages
   * as one frame each, presence waiting for the tick included; echoes (and what follows them)
   * wait until their commit is durable.
   */
  flush(): void {
    this.#flushTurn();
    if (this.#presenceRooms.size > 0) this.#presenceTick(true);
  }

  /** The end-of-turn flush: the turn's edits, and what is queued for the maps and peers touched. */
  #flushTurn(): void {
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    const rooms = [...this.#dirtyRooms];
    this.#dirtyRooms.clear();
    this.#committer.commit(rooms);
    const frames = new FrameCache();
    const tick = this.limits.presenceTickMs;
    for (const room of rooms) {
      if (!this.#maps.isLive(room)) continue;
      // The tick's leading edge needs when each map last sent presence; without a tick, nothing.
      if (tick > 0 && room.presencePending) this.#presenceSentAt.set(room, this.#now());
      room.flushPresence();
      for (const peer of room.peers()) if (peer.pending) this.#conns.flushPeer(peer, true, frames);
    }
    for (const peer of this.#dirtyPeers) this.#conns.flushPeer(peer, true, frames);
    this.#dirtyPeers.clear();
  }

  /** Flushes, waits until every commit so far is durable, and flushes what it released. */
  async settled(): Promise<void> {
    this.flush();
    await this.#durableAt(this.#durability.issued);
    this.flush();
  }

  /** Commit `ticket` finished (journal calls finish in order): release what waited for it. */
  #committed(ticket: number): void {
    this.#durability.committed(ticket, this.#dirtyPeers);
    // Send what the commit released at once, before anyone awaiting it (an import) resumes.
    if (this.#dirtyPeers.size > 0) this.#flushTurn();
    this.#durability.wake();
  }

  /**
   * Waits until everything `room` shows is durable; false when a commit of it failed meanwhile
   * (the room was then dropped from memory, and what it showed must not be reported).
   */
  async #madeDurable(room: Room): Promise<boolean> {
    await this.#durableAt(room.ticket);
    return this.#maps.isLive(room);
  }

  /** Resolves once commit `ticket` is durable (issuing this turn's commit now if needed). */
  #durableAt(ticket: number): Promise<void> {
    if (ticket > this.#durability.issued) this.#flushTurn();
    return this.#durability.wait(ticket);
  }

  /**
   * Shuts down: makes everything durable, sends what is queued, closes every connection with 1001,
   * snapshots every map, stops the timers and closes the journal. The store is left open for the
   * caller to close.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.timers.clearInterval(this.#sweepTimer);
    this.#conns.stop();
    await this.settled();
    this.#conns.closeAll(CloseCode.GoingAway, "server shutting down");
    for (const room of [...this.#maps.rooms()]) {
      try {
        this.#maps.evict(room);
      } catch (err) {
        // Its edits are in the journal; shutting down must not stop at one map.
        this.#internalError("evict", err, room.id);
      }
    }
    if (this.#flushTimer !== undefined) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    this.timers.clearTimeout(this.#presenceTimer);
    this.#presenceTimer = undefined;
    this.#presenceLoad?.stop();
    await this.#journal.close();
    await this.#historyReader?.close();
  }
}
