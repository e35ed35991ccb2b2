/**
 * The HTTP fallback transport for networks whose proxies strip WebSocket upgrades: a streamed
 * `text/event-stream` response carries server frames down, POSTs carry client frames up. The
 * frames are the very same protocol messages, so ordering, acks and limits are the hub's.
 */
import { base64url, cryptoRandomBytes } from "./keys.ts";
import type { RandomBytes } from "./keys.ts";
import type { Connection, ConnectionInfo, Hub } from "./hub.ts";
import type { PeerSocket } from "./peer.ts";
import type { TimerId, Timers } from "./timers.ts";

export { SESSION_HEADER } from "./protocol.ts";

/** Options for {@link HttpSessions}. */
export interface HttpSessionsOptions {
  /** The hub the sessions connect to. */
  hub: Hub;
  /** A comment line is sent this often so proxies do not time out an idle stream. @default 15000 */
  heartbeatMs?: number;
  /**
   * A session whose client has left bytes unread this long is dead, like a WebSocket that misses
   * pings. @default the hub's `idleTimeout`
   */
  idleTimeoutMs?: number;
  /** The clock and timers for the heartbeat and the idle check. @default the hub's */
  timers?: Timers;
  /** Random bytes for session ids. @default crypto.getRandomValues */
  random?: RandomBytes;
}

const encoder = new TextEncoder();

/**
 * One fallback session: the downstream stream as a {@link PeerSocket}. Unsent bytes wait in its
 * own queue and are handed to the response one chunk per read (a pull), so `bufferedAmount` is
 * exact and each pull proves the client still reads.
 */
class StreamSocket implements PeerSocket {
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** Takes frames; after `close` only the close event still goes out. */
  #open = true;
  /** The stream is closed or broken; nothing more goes out. */
  #done = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  /** The response asked for a chunk and got none yet: the next write goes straight to it. */
  #wanted = false;
  #lastRead: number;
  #now: () => number;
  #timers: Timers;
  #maxQueued: number;
  #heartbeat: TimerId;
  #liveness: TimerId;
  #onEnd: () => void;
  readonly stream: ReadableStream<Uint8Array>;
  connection: Connection | null = null;

  constructor(
    options: { heartbeatMs: number; idleTimeoutMs: number; maxQueued: number; timers: Timers },
    onEnd: () => void,
  ) {
    this.#onEnd = onEnd;
    const timers = this.#timers = options.timers;
    this.#now = timers.now;
    this.#maxQueued = options.maxQueued;
    this.#lastRead = this.#now();
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      pull: () => {
        this.#lastRead = this.#now();
        this.#wanted = true;
        this.#drain();
      },
      cancel: () => {
        // The client went away (closed the page, or the network dropped).
        this.#finish();
        this.#end();
        this.connection?.closed(1001, "stream closed by client");
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: 0 }));
    this.#heartbeat = timers.setInterval(
      () => this.#write(": keep-alive\n\n"),
      options.heartbeatMs,
    );
    this.#liveness = timers.setInterval(() => {
      if (this.#queued > 0 && this.#now() - this.#lastRead > options.idleTimeoutMs) {
        // What the relay holds for it is not being read: the client is gone or stuck.
        this.#abort();
        this.connection?.closed(1001, "event stream not read");
      }
    }, Math.max(10, Math.floor(options.idleTimeoutMs / 4)));
  }

  /** Queues the session id for the client (the first event). */
  announce(session: string): void {
    this.#write(`event: session\ndata: ${JSON.stringify({ session })}\n\n`);
  }

  send(text: string): void {
    this.#write(`data: ${text}\n\n`);
  }

  /** Ends the session: the close event goes out after what is queued, unless the client lags. */
  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#write(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
    this.#end();
    // A client this far behind (a slow peer closed with 1013) is not waited for.
    if (this.#queued > this.#maxQueued) this.#abort();
    else this.#drain();
  }

  get bufferedAmount(): number {
    return this.#queued;
  }

  bufferedAbove(bytes: number): boolean {
    return this.#queued > bytes;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  #write(text: string): void {
    if (!this.#open || this.#done) return;
    const bytes = encoder.encode(text);
    this.#queue.push(bytes);
    this.#queued += bytes.byteLength;
    this.#drain();
  }

  /** Hands the next chunk to a waiting read; closes the stream once a closed session is sent. */
  #drain(): void {
    if (this.#done || !this.#controller) return;
    try {
      if (this.#wanted && this.#queue.length > 0) {
        const chunk = this.#queue.shift()!;
        this.#queued -= chunk.byteLength;
        this.#wanted = false;
        this.#controller.enqueue(chunk);
      }
      if (!this.#open && this.#queue.length === 0) {
        this.#finish();
        this.#controller.close();
      }
    } catch {
      // The stream was cancelled meanwhile.
      this.#finish();
    }
  }

  /** Drops what waits and breaks the stream, so the response (and its connection) ends now. */
  #abort(): void {
    this.#end();
    if (this.#done) return;
    this.#finish();
    try {
      this.#controller?.error(new Error("event stream dropped"));
    } catch {
      // Already closed or errored.
    }
  }

  #finish(): void {
    this.#done = true;
    this.#queue = [];
    this.#queued = 0;
    this.#timers.clearInterval(this.#liveness);
  }

  #end(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#timers.clearInterval(this.#heartbeat);
    this.#onEnd();
  }
}

/**
 * Fallback sessions by id. `open` answers `POST /rt/<map>` (its body is the first frame, holding
 * `hello`) with the event stream; `deliver` answers `POST /rt/<map>/send` with the session header.
 */
export class HttpSessions {
  #hub: Hub;
  #heartbeatMs: number;
  #idleTimeoutMs: number;
  #timers: Timers;
  #random: RandomBytes;
  #sessions = new Map<string, { socket: StreamSocket; mapId: string }>();

  /** No sessions yet; the heartbeat and idle timeout come from `options`. */
  constructor(options: HttpSessionsOptions) {
    this.#hub = options.hub;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    if (!(this.#heartbeatMs >= 10)) {
      throw new RangeError(
        `Cannot create HttpSessions as 'heartbeatMs' must be >= 10: received ${this.#heartbeatMs}`,
      );
    }
    this.#idleTimeoutMs = options.idleTimeoutMs ?? options.hub.limits.idleTimeout * 1000;
    this.#timers = options.timers ?? options.hub.timers;
    this.#random = options.random ?? cryptoRandomBytes;
  }

  /** Opens a session: the response streams every server frame as a `data:` event. */
  open(info: ConnectionInfo, firstFrame: string): Response {
    const id = base64url(this.#random(16));
    const socket = new StreamSocket({
      heartbeatMs: this.#heartbeatMs,
      idleTimeoutMs: this.#idleTimeoutMs,
      maxQueued: this.#hub.limits.maxBufferedBytes,
      timers: this.#timers,
    }, () => this.#sessions.delete(id));
    this.#sessions.set(id, { socket, mapId: info.mapId });
    socket.announce(id);
    let connection: Connection;
    try {
      connection = this.#hub.accept(socket, info);
    } catch (err) {
      // The app answers 500; the session and its heartbeat must not outlive this request.
      socket.close(1011, "internal error; reconnect");
      throw err;
    }
    socket.connection = connection;
    connection.receive(firstFrame);
    return new Response(socket.stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        // Ask buffering proxies (nginx and friends) to pass events through at once.
        "x-accel-buffering": "no",
      },
    });
  }

  /** Hands an upstream frame to its session; `false` when there is no such open session. */
  deliver(mapId: string, session: string, frame: string): boolean {
    const entry = this.#sessions.get(session);
    if (!entry || entry.mapId !== mapId || !entry.socket.isOpen) return false;
    entry.socket.connection?.receive(frame);
    return true;
  }

  /** Ends a session at the client's request (the page is closing). */
  end(mapId: string, session: string): boolean {
    const entry = this.#sessions.get(session);
    if (!entry || entry.mapId !== mapId) return false;
    entry.socket.close(1000, "closed by client");
    entry.socket.connection?.closed(1000, "closed by client");
    return true;
  }
}
