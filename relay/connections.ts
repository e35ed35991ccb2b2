/** The hub's live connections: each peer's write, and closing the slow, the idle and everyone. */
import type { ClientConnection } from "./client_connection.ts";
import type { Durability } from "./durability.ts";
import type { Limits } from "./limits.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { FrameCache, Peer } from "./peer.ts";
import { CloseCode } from "./protocol.ts";
import type { Room } from "./room.ts";
import type { TimerId, Timers } from "./timers.ts";

/** What {@link Connections} uses of its hub. */
export interface ConnectionsOptions {
  /** The limits it enforces (the send buffer's). */
  limits: Readonly<Limits>;
  /** Counters it updates. */
  metrics: Metrics;
  /** Where idle closes are logged. */
  logger: Logger;
  /** What is durable, and whose outbox waits for a commit. */
  durability: Durability;
  /** Runs the slow-peer check. */
  timers: Timers;
  /** Logs and counts a contained bug. */
  internalError(where: string, err: unknown, map?: string, peer?: string): void;
}

/**
 * Every open connection by its peer. It writes a peer's outbox (closing a peer whose send buffer
 * overflowed) and checks every second for a slow peer that gets nothing more to write.
 */
export class Connections {
  #o: ConnectionsOptions;
  #conns = new Map<Peer, ClientConnection>();
  #slowTimer: TimerId | undefined;

  /** No connections yet; starts the slow-peer check. */
  constructor(options: ConnectionsOptions) {
    this.#o = options;
    // A slow peer is caught when the next batch for it is flushed; this catches one whose buffer
    // overflowed with the last batch and that gets nothing more.
    this.#slowTimer = options.timers.setInterval(() => {
      try {
        this.#closeSlowPeers();
      } catch (err) {
        options.internalError("slow_peers", err);
      }
    }, 1000);
  }

  /** How many connections are open. */
  get size(): number {
    return this.#conns.size;
  }

  /** Adds a new connection. */
  add(conn: ClientConnection): void {
    this.#conns.set(conn.peer, conn);
  }

  /** Forgets `peer`'s connection (it closed). */
  delete(peer: Peer): void {
    this.#conns.delete(peer);
  }

  /** Closes `peer`'s connection, if it has one. */
  close(peer: Peer, code: number, reason: string): void {
    this.#conns.get(peer)?.close(code, reason);
  }

  /** Closes every connection (shutdown). */
  closeAll(code: number, reason: string): void {
    for (const conn of [...this.#conns.values()]) conn.close(code, reason);
  }

  /** Stops the slow-peer check. */
  stop(): void {
    this.#o.timers.clearInterval(this.#slowTimer);
  }

  /**
   * Writes `peer`'s outbox as one frame, holding what waits for a commit; `closeIfSlow` closes it
   * with 1013 when its send buffer overflowed. A failing transport closes only its connection.
   */
  flushPeer(peer: Peer, closeIfSlow: boolean, frames?: FrameCache): void {
    const { limits, durability, metrics } = this.#o;
    let result;
    try {
      result = peer.flush(limits.maxBufferedBytes, durability.durable, frames);
    } catch (err) {
      // One peer's transport failing must not stop the others' flush.
      const conn = this.#conns.get(peer);
      this.#o.internalError("flush_peer", err, conn?.info.mapId, peer.id);
      peer.discard();
      conn?.close(CloseCode.InternalError, "internal error; reconnect");
      return;
    }
    if (result.held) durability.hold(peer, result.heldFor);
    metrics.framesOut += result.frames;
    metrics.messagesOut += result.messages;
    metrics.presenceDrops += result.dropped;
    if (result.tooSlow && closeIfSlow) {
      const conn = this.#conns.get(peer);
      if (!conn) return;
      conn.violation("too_slow", { buffered: peer.socket.bufferedAmount });
      conn.close(CloseCode.TryAgainLater, "too slow: send buffer overflowed");
    }
  }

  #closeSlowPeers(): void {
    for (const conn of [...this.#conns.values()]) {
      // The flush finds the overflow, drops what waits and closes the peer, as in a turn.
      if (conn.open && conn.peer.socket.bufferedAbove(this.#o.limits.maxBufferedBytes)) {
        this.flushPeer(conn.peer, true);
      }
    }
  }

  /** Closes an idle peer of a map leaving memory to make room for another. */
  closeIdle(peer: Peer, room: Room): void {
    const conn = this.#conns.get(peer);
    if (!conn) return;
    this.#o.logger.log("evict_idle", { map: room.id, peer: peer.id, addr: conn.info.addr });
    conn.close(
      CloseCode.TryAgainLater,
      "map closed to make room on a full server after being idle; reconnect later",
    );
  }
}
