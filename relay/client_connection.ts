/** One connection's side of the protocol: dispatch, rate limits, the hello timer, replies, close. */
import type { Connection, ConnectionHost, ConnectionInfo } from "./connection_host.ts";
import { commentRefused, CommentRequests } from "./comment_requests.ts";
import { admit, join } from "./hello.ts";
import type { Peer } from "./peer.ts";
import { ClientMessageSchema, CloseCode, parseFrame, utf8Exceeds } from "./protocol.ts";
import type { ClientMessage, EditId, ErrorCode, FrameItem, RejectCode } from "./protocol.ts";
import type { Admitted } from "./hello.ts";
import type { Room } from "./room.ts";
import type { TimerId } from "./timers.ts";
import { TokenBucket } from "./token_bucket.ts";

/** `opening`: hello was accepted for checking and its map is loading from an asynchronous store. */
type ConnState = "hello" | "opening" | "joined" | "closed";

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
  #comments: CommentRequests | undefined;
  /** Messages that arrived while the map was loading, handled in order once joined. */
  #waiting: FrameItem[] = [];

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
      if (this.#state === "opening") {
        // Handled after the welcome, in order, as if they had arrived just after it.
        if (this.#waiting.length >= limits.rateBurst * 10) {
          this.close(CloseCode.TryAgainLater, "map still loading; try again later");
          return;
        }
        this.#waiting.push(item);
        continue;
      }
      this.#item(item);
    }
  }

  #item(item: FrameItem): void {
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
    } else if (item.comment !== undefined) {
      this.#host.metrics.rejections.inc("comment_invalid_comment");
      this.#send(commentRefused(item.comment, "invalid_comment", item.error));
    } else {
      this.#error("bad_message", item.error);
    }
  }

  #dispatch(msg: ClientMessage): void {
    if (this.#state === "hello") {
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
        host.presence(room);
        return;
      case "cursor":
        peer.cursor = msg.at;
        room.presence(peer, "cursor");
        host.presence(room);
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
        const result = room.edit(peer.id, msg.id, msg.ops, peer.client, host.durability.next, {
          by: peer.name,
          color: peer.color,
          at: host.now(),
        }, msg.label);
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
      case "comment":
        if (!this.#bucket.take()) {
          this.#send(commentRefused(msg.ref, "rate_limited", "too many messages; slow down"));
          return;
        }
        this.#comments ??= new CommentRequests(host);
        this.#comments.handle(room, peer, msg, (text) => this.#send(text));
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

  #hello(msg: ClientMessage): void {
    this.#host.timers.clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    const admitted = admit(this.#host, this, msg);
    if (!(admitted instanceof Promise)) {
      this.#joined(admitted);
      return;
    }
    this.#state = "opening";
    // A store that answers nothing (a stopped database, dropped packets) must not hold the peer in
    // silence: after the time a hello may take it is told to come back, as when the map is busy.
    const ms = this.#host.limits.helloTimeoutMs;
    this.#helloTimer = this.#host.timers.setTimeout(() =>
      this.#guard("open_timeout", () => {
        this.#helloTimer = undefined;
        if (this.#state !== "opening") return;
        this.#host.logger.log("open_timeout", { map: this.info.mapId, ms });
        this.close(CloseCode.TryAgainLater, `map not loaded within ${ms} ms; try again later`);
      }), ms);
    admitted.then(
      (a) => this.#guard("hello", () => this.#joined(a)),
      (err) =>
        this.#guard("hello", () => {
          throw err;
        }),
    );
  }

  #joined(admitted: Admitted | null): void {
    this.#host.timers.clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    if (!admitted || this.#state === "closed") return;
    this.#state = "joined";
    this.#room = admitted.room;
    join(this.#host, this, admitted);
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const item of waiting) {
      if (!this.open) return;
      this.#item(item);
    }
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
      this.peer.socket.close(code, reason);
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
