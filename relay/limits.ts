/** The limits the hub, its maps and its connections enforce, and their defaults. */
import { DEFAULT_MAX_FRAME_BYTES } from "./protocol.ts";

/** Limits the relay enforces; each has a flag and an environment variable. */
export interface Limits {
  /**
   * Largest inbound frame, in bytes; larger ones close the socket with 1009. It also bounds one
   * edit, so one feature: 4 MiB holds a 100 000-position country as JSON. @default 4194304
   */
  maxFrameBytes: number;
  /** How long a new socket may take to send `hello`, in ms (then 1008). @default 10000 */
  helloTimeoutMs: number;
  /** WebSockets that have not said hello yet, from all addresses (more: 503). @default 64 */
  maxPending: number;
  /** WebSockets that have not said hello yet, from one client address (more: 429). @default 8 */
  maxPendingPerAddr: number;
  /** Messages per second per connection (edits, pings); cursor/view are coalesced instead. @default 100 */
  rate: number;
  /** Burst size of the per-connection token bucket. @default 200 */
  rateBurst: number;
  /** Peers on one map at once. @default 200 */
  maxPeersPerMap: number;
  /** Maps held in memory at once. @default 1000 */
  maxMaps: number;
  /** Features on one map. @default 100000 */
  maxFeatures: number;
  /** Positions in one feature's geometry (Natural Earth 10m Canada has 68 099). @default 100000 */
  maxVertices: number;
  /** Size of one feature's properties as JSON, in bytes. @default 65536 */
  maxPropsBytes: number;
  /** A peer whose unsent bytes exceed this is closed with 1013; half of it drops presence. @default 8388608 */
  maxBufferedBytes: number;
  /** Seconds without a pong before a socket is considered dead. @default 30 */
  idleTimeout: number;
  /** How long a map with no peers stays in memory, in ms. @default 60000 */
  evictAfterMs: number;
  /** Edits kept in memory per map for `since` catch-up. @default 1000 */
  recentEdits: number;
  /** Characters of those edits kept per map at most, so big edits cannot pin much memory. @default 8388608 */
  recentBytes: number;
  /** A snapshot is written after this many edits, so a restart replays only the tail. @default 500 */
  snapshotEvery: number;
  /** Largest `PUT /api/maps/<id>/features` body, in bytes (then 413); Natural Earth 10m from GDAL is 24 MB. @default 33554432 */
  maxImportBytes: number;
  /** Maps one client address may create per minute (then 429). @default 30 */
  createRate: number;
  /** Maps one client address may create at once before `createRate` applies. @default 60 */
  createBurst: number;
  /**
   * Maps in memory in which one client address has a peer at once (then 1013). Generous, because
   * everyone behind one corporate proxy or NAT shares an address. @default 64
   */
  maxMapsPerAddr: number;
  /** Time allowed to send a request body, in ms (then 408); imports are the big ones. @default 30000 */
  bodyTimeoutMs: number;
  /** Comments and replies on one map (then `comment_refused` `too_many_comments`). @default 10000 */
  maxComments: number;
  /** Comment requests per minute per connection, 10 at once (then `rate_limited`). @default 30 */
  commentRate: number;
  /**
   * Days of edit history kept; older edits already in a snapshot are pruned (named versions stay).
   * 0 keeps all. @default 0
   */
  historyDays: number;
  /**
   * While the relay falls behind (its event loop runs late), cursors and views of a busy map are
   * coalesced and sent at most once per this many ms, newest wins, so a peer gets one frame per
   * window instead of one per move; while it keeps up they go out every turn. 0 never batches.
   * Edits never wait for it. See BENCHMARKS.md, issue 14. @default 50
   */
  presenceTickMs: number;
}

/** The default {@link Limits}. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  helloTimeoutMs: 10_000,
  maxPending: 64,
  maxPendingPerAddr: 8,
  rate: 100,
  rateBurst: 200,
  maxPeersPerMap: 200,
  maxMaps: 1000,
  maxFeatures: 100_000,
  maxVertices: 100_000,
  maxPropsBytes: 64 * 1024,
  maxBufferedBytes: 8 << 20,
  idleTimeout: 30,
  evictAfterMs: 60_000,
  recentEdits: 1000,
  recentBytes: 8 << 20,
  snapshotEvery: 500,
  maxImportBytes: 32 << 20,
  createRate: 30,
  createBurst: 60,
  maxMapsPerAddr: 64,
  bodyTimeoutMs: 30_000,
  maxComments: 10_000,
  commentRate: 30,
  historyDays: 0,
  presenceTickMs: 50,
});
