/** The contracts around one connection: what the transport calls, what it uses of its hub. */
import type { Durability } from "./durability.ts";
import type { Limits } from "./limits.ts";
import type { Logger } from "./log.ts";
import type { MapRegistry } from "./map_registry.ts";
import type { Metrics } from "./metrics.ts";
import type { Peer } from "./peer.ts";
import type { Room } from "./room.ts";
import type { Timers } from "./timers.ts";

/** Where a connection comes from, for limits and logs. */
export interface ConnectionInfo {
  /** The map named in the connection's URL. */
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

/** What a connection uses of its hub: the maps, durability, and the per-turn flush. */
export interface ConnectionHost {
  /** The limits it enforces. */
  readonly limits: Readonly<Limits>;
  /** Counters it updates. */
  readonly metrics: Metrics;
  /** Where violations and closes are logged. */
  readonly logger: Logger;
  /** Times the hello timeout. */
  readonly timers: Timers;
  /** The hub's clock, for rate limits and presence. */
  readonly now: () => number;
  /** The maps, for hello's key check and the per-address counts. */
  readonly maps: MapRegistry;
  /** Issues the ticket an edit waits for. */
  readonly durability: Durability;
  /** `room` has something to commit or send this turn. */
  touch(room: Room): void;
  /** `room` has new presence (cursor/view) for the next presence tick. */
  presence(room: Room): void;
  /** `peer` has queued a message for this turn's flush. */
  queued(peer: Peer): void;
  /** Writes `peer`'s outbox now; `closeIfSlow` closes it when its buffer overflowed. */
  flushPeer(peer: Peer, closeIfSlow: boolean): void;
  /** Forgets everything the hub keeps for `peer` (its connection, its place in the flush). */
  forget(peer: Peer): void;
  /** Logs and counts a contained bug. */
  internalError(where: string, err: unknown, map?: string, peer?: string): void;
}
