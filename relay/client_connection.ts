/** One connection's side of the protocol: hello, dispatch, rate limits, the hello timer, replies. */
import type { Durability } from "./durability.ts";
import type { Logger } from "./log.ts";
import type { MapRegistry } from "./map_registry.ts";
import type { Metrics } from "./metrics.ts";
import type { Limits } from "./limits.ts";
import type { Peer } from "./peer.ts";
import { ClientMessageSchema, CloseCode, parseFrame, utf8Exceeds } from "./protocol.ts";
import type { ClientMessage, EditId, ErrorCode, HelloMessage, RejectCode } from "./protocol.ts";
import type { Room } from "./room.ts";
import type { TimerId, Timers } from "./timers.ts";
import { TokenBucket } from "./token_bucket.ts";
import { UNKNOWN_MAP_OR_KEY } from "./map_registry.ts";

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
  /** `peer` has queued a message for this turn's flush. */
  queued(peer: Peer): void;
  /** Writes `peer`'s outbox now; `closeIfSlow` closes it when its buffer overflowed. */
  flushPeer(peer: Peer, closeIfSlow: boolean): void;
  /** Forgets everything the hub keeps for `peer` (its connection, its place in the flush). */
  forget(peer: Peer): void;
  /** Logs and counts a contained bug. */
  internalError(where: string, err: unknown, map?: string, peer?: string): void;
}

type ConnState = "hello" | "joined" | "closed";

/**
 * One transport connection: it must say `hello` in time, then its messages are dispatched to its
 * map. Every entry point (a frame, the close, the hello timer) is contained: an exception there
 * is logged and closes only this connection.
 */
export class ClientConnection implements Connection {
  /** The peer this connection speaks for. */
  readonly peer: Peer;
  /** Where it comes from. */
  readonly info: ConnectionInfo;
  #host: ConnectionHost;
  #state: ConnState = "hello";
  #room: Room | null = null;
  #helloTimer: TimerId | undefined;
  #bucket: TokenBucket;
  #flood: TokenBucket;

  /** A connection in the `hello` state; {@link ClientConnection.start} arms the hello timer. */
  constructor(host: ConnectionHost, peer: Peer, info: ConnectionInfo) {
    this.#host = host;
    this.peer = peer;
    this.info = info;
    const { limits, now } = host;
    this.#bucket = new TokenBucket({ rate: limits.rate, burst: limits.rateBurst, now });
    // Presence is coalesced rather than refused, but a peer sending ten times the allowed rate
    // of anything is flooding and is closed.
    this.#flood = new TokenBucket({ rate: limits.rate * 10, burst: limits.rateBurst * 10, now });
  }

  /** Is it still open? (The state can change during a frame's handling; a getter keeps narrowing honest.) */
  get open(): boolean {
    return this.#state !== "closed";
  }

  /** Starts the wait for `hello`. */
  start(): void {
    const ms = this.#host.limits.helloTimeoutMs;
    this.#helloTimer = this.#host.timers.setTimeout(() =>
      this.#guard("hello_timeout", () => {
        this.#helloTimer = undefined;
        this.violation("hello_timeout");
        this.close(CloseCode.Policy, `no hello within ${ms} ms`);
      }), ms);
  }

  // The transports call these from their event handlers, where an exception would end the
  // process: whatever goes wrong is contained to this connection.
  /** A frame arrived. */
  receive(data: string | ArrayBuffer | Uint8Array | Blob): void {
    this.#guard("receive", () => this.#receive(data));
  }

  /** The transport closed (either side); idempotent. */
  closed(code: number, reason: string): void {
    this.#guard("closed", () => {
      if (this.#state !== "closed") this.#cleanup(code, reason, "client");
    });
  }

  /**
   * Runs one entry point's work. An exception there is a bug: it is logged once and closes only
   * this connection (an `error` `internal`, then 1011), never the process.
   */
  #guard(where: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.#host.internalError(where, err, this.info.mapId, this.peer.id);
      if (this.#state === "closed") return;
      try {
        this.fatal(
          "internal",
          "the relay failed to handle this connection; reconnect",
          CloseCode.InternalError,
        );
      } catch {
        // Even the close failed: drop the connection's state so it cannot fail again.
        this.#state = "closed";
        this.#host.forget(this.peer);
      }
    }
  }

  #receive(data: string | ArrayBuffer | Uint8Array | Blob): void {
    if (this.#state === "closed") return;
    const { limits, metrics } = this.#host;
    metrics.framesIn++;
    if (typeof data !== "string") {
      this.violation("binary_frame");
      this.fatal(
        "bad_message",
        "binary frames are not supported; send JSON text",
        CloseCode.Unsupported,
      );
      return;
    }
    if (utf8Exceeds(data, limits.maxFrameBytes)) {
      this.violation("frame_too_large", { chars: data.length });
      this.close(CloseCode.TooLarge, `frame larger than ${limits.maxFrameBytes} bytes`);
      return;
    }
    const frame = parseFrame(data, ClientMessageSchema);
    if (!frame.ok) {
      this.violation("bad_json");
      this.fatal("bad_json", frame.error, CloseCode.Unsupported);
      return;
    }
    for (const item of frame.items) {
      if (!this.open) return;
      metrics.messagesIn++;
      if (!this.#flood.take()) {
        this.violation("flood");
        this.fatal("rate_limited", "rate limit exceeded", CloseCode.Policy);
        return;
      }
      if (item.ok) {
        this.#dispatch(item.message);
      } else if (this.#state === "hello") {
        this.violation("bad_hello");
        this.fatal(
          "bad_message",
          `the first message must be a valid hello: ${item.error}`,
          CloseCode.Policy,
        );
      } else if (item.edit) {
        this.#reject(item.edit.id, item.edit.code, item.error);
      } else {
        this.#error("bad_message", item.error);
      }
    }
  }

  #dispatch(msg: ClientMessage): void {
    if (this.#state === "hello") {
      if (msg.type !== "hello") {
        this.violation("hello_required");
        this.fatal("hello_required", "the first message must be hello", CloseCode.Policy);
        return;
      }
      this.#hello(msg);
      return;
    }
    const host = this.#host;
    const room = this.#room!;
    const peer = this.peer;
    // A ping only keeps a link alive; what the peers do keeps their map in memory.
    if (msg.type !== "ping") host.maps.active(room);
    switch (msg.type) {
      case "hello":
        this.#error("already_joined", "hello was already received on this connection");
        return;
      case "view":
        peer.view = { bbox: msg.bbox, zoom: msg.zoom };
        room.presence(peer, "view");
        host.touch(room);
        return;
      case "cursor":
        peer.cursor = msg.at;
        room.presence(peer, "cursor");
        host.touch(room);
        return;
      case "edit": {
        if (peer.role !== "editor") {
          this.#reject(msg.id, "forbidden", "this link is view-only; edits need the edit link");
          return;
        }
        if (!this.#bucket.take()) {
          this.#reject(msg.id, "rate_limited", "too many edits; slow down and send it again");
          return;
        }
        const result = room.edit(peer.id, msg.id, msg.ops, peer.client, host.durability.next);
        if (!result.ok) {
          this.#reject(msg.id, result.code, result.message);
          return;
        }
        host.metrics.edits++;
        host.touch(room);
        return;
      }
      case "profile":
        if (!this.#allowed()) return;
        peer.name = msg.name;
        peer.color = msg.color.toLowerCase();
        room.profile(peer);
        host.touch(room);
        return;
      case "ping":
        if (!this.#allowed()) return;
        this.#send(
          JSON.stringify(msg.t === undefined ? { type: "pong" } : { type: "pong", t: msg.t }),
        );
        return;
      default: {
        const unreachable: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  #hello(msg: HelloMessage): void {
    const host = this.#host;
    host.timers.clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    const auth = host.maps.open(this.info.mapId, msg.key);
    if (!auth.ok) {
      if (auth.reason === "unavailable") {
        this.fatal("internal", auth.message, CloseCode.InternalError);
        return;
      }
      if (auth.reason === "capacity") {
        this.close(CloseCode.TryAgainLater, auth.message);
        return;
      }
      this.violation("bad_key");
      this.close(CloseCode.Policy, UNKNOWN_MAP_OR_KEY);
      return;
    }
    const { room, role } = auth.value;
    if (room.peerCount >= host.limits.maxPeersPerMap) {
      this.close(CloseCode.TryAgainLater, "map is full; try again later");
      return;
    }
    const maps = host.maps.admit(this.info.addr, room);
    if (maps !== null) {
      this.violation("maps_per_addr", { maps });
      this.close(
        CloseCode.TryAgainLater,
        `your address already has peers on ${maps} maps, the most allowed; close one first`,
      );
      return;
    }
    const peer = this.peer;
    peer.name = msg.name;
    peer.color = msg.color.toLowerCase();
    peer.role = role;
    peer.client = msg.client;
    this.#state = "joined";
    this.#room = room;
    // A client ahead of the store saw acknowledged edits the store no longer has (a restore, a
    // lost log): it gets the whole map, and the operator must hear of it.
    if ((msg.since ?? 0) > room.seq) {
      host.logger.log("store_behind_client", { map: room.id, since: msg.since, seq: room.seq });
    }
    if (room.join(peer, msg.since, msg.epoch) === "epoch_mismatch") {
      // A since from another history (a restored backup, a moved map): the whole map instead.
      host.logger.log("epoch_mismatch", { map: room.id, since: msg.since, seq: room.seq });
    }
    host.touch(room);
    this.info.onJoin?.();
    host.logger.log("connect", {
      map: room.id,
      peer: peer.id,
      role,
      addr: this.info.addr,
      transport: this.info.transport,
      catchUp: msg.since !== undefined,
    });
  }

  #send(text: string): void {
    this.peer.enqueue(text);
    this.#host.queued(this.peer);
  }

  /** Takes a token for a counted message; answers `rate_limited` when there is none. */
  #allowed(): boolean {
    if (this.#bucket.take()) return true;
    this.#error("rate_limited", "too many messages; slow down");
    return false;
  }

  #error(code: ErrorCode, message: string): void {
    this.#host.metrics.errors.inc(code);
    this.#send(JSON.stringify({ type: "error", code, message }));
  }

  #reject(id: EditId, code: RejectCode, message: string): void {
    this.#host.metrics.rejections.inc(code);
    this.#send(JSON.stringify({ type: "rejected", id, code, message }));
  }

  /** Sends an `error` and closes. */
  fatal(code: ErrorCode, message: string, closeCode: number): void {
    this.#error(code, message);
    this.close(closeCode, message);
  }

  /** Logs a client's breach of the protocol or a limit. */
  violation(kind: string, fields: Record<string, unknown> = {}): void {
    this.#host.logger.log("violation", {
      kind,
      map: this.info.mapId,
      peer: this.peer.id,
      addr: this.info.addr,
      ...fields,
    });
  }

  /** Closes from the server side: what is queued for the peer (made durable first) goes out first. */
  close(code: number, reason: string): void {
    if (this.#state === "closed") return;
    // What is durable goes out first; an echo still waiting for its commit is not sent (the
    // client finds it in its catch-up when it reconnects).
    this.#host.flushPeer(this.peer, false);
    // A transport that failed in that flush has been closed already (1011).
    if (!this.open) return;
    try {
      this.peer.socket.close(code, closeReason(reason));
    } catch {
      // The transport is already gone; cleanup still runs.
    }
    this.#cleanup(code, reason, "server");
  }

  #cleanup(code: number, reason: string, by: "client" | "server"): void {
    const host = this.#host;
    this.#state = "closed";
    host.timers.clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    host.forget(this.peer);
    this.peer.discard();
    const room = this.#room;
    if (room) {
      host.maps.leave(this.info.addr, room);
      room.leave(this.peer, host.now());
      host.touch(room);
    }
    host.metrics.closes.inc(code);
    host.logger.log("close", {
      map: this.info.mapId,
      peer: this.peer.id,
      addr: this.info.addr,
      code,
      reason,
      by,
    });
  }
}

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
