/**
 * The HTTP fallback transport for networks whose proxies strip WebSocket upgrades: a streamed
 * `text/event-stream` response carries server frames down, POSTs carry client frames up. The
 * frames are the very same protocol messages, so ordering, acks and limits are the hub's.
 */
import { base64url, cryptoRandomBytes } from "./keys.ts";
import type { RandomBytes } from "./keys.ts";
import type { Connection, ConnectionInfo, Hub } from "./hub.ts";
import type { PeerSocket } from "./peer.ts";

export { SESSION_HEADER } from "./protocol.ts";

/** Options for {@link HttpSessions}. */
export interface HttpSessionsOptions {
  hub: Hub;
  /** A comment line is sent this often so proxies do not time out an idle stream. @default 15000 */
  heartbeatMs?: number;
  random?: RandomBytes;
}

const encoder = new TextEncoder();

/** One fallback session: the downstream stream as a {@link PeerSocket}. */
class StreamSocket implements PeerSocket {
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #open = true;
  #heartbeat: ReturnType<typeof setInterval>;
  #onEnd: () => void;
  readonly stream: ReadableStream<Uint8Array>;
  connection: Connection | null = null;

  constructor(heartbeatMs: number, onEnd: () => void) {
    this.#onEnd = onEnd;
    this.stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => {
        // The client went away (closed the page, or the network dropped).
        this.#end();
        this.connection?.closed(1001, "stream closed by client");
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: 0 }));
    this.#heartbeat = setInterval(() => this.#write(": keep-alive\n\n"), heartbeatMs);
  }

  /** Queues the session id for the client (the first event). */
  announce(session: string): void {
    this.#write(`event: session\ndata: ${JSON.stringify({ session })}\n\n`);
  }

  send(text: string): void {
    this.#write(`data: ${text}\n\n`);
  }

  close(code: number, reason: string): void {
    if (!this.#open) return;
    this.#write(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
    this.#end();
    try {
      this.#controller?.close();
    } catch {
      // Already closed or errored.
    }
  }

  get bufferedAmount(): number {
    const desired = this.#controller?.desiredSize ?? 0;
    return desired < 0 ? -desired : 0;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  #write(text: string): void {
    if (!this.#open || !this.#controller) return;
    try {
      this.#controller.enqueue(encoder.encode(text));
    } catch {
      this.#end();
    }
  }

  #end(): void {
    if (!this.#open) return;
    this.#open = false;
    clearInterval(this.#heartbeat);
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
  #random: RandomBytes;
  #sessions = new Map<string, { socket: StreamSocket; mapId: string }>();

  constructor(options: HttpSessionsOptions) {
    this.#hub = options.hub;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    if (!(this.#heartbeatMs >= 10)) {
      throw new RangeError(
        `Cannot create HttpSessions as 'heartbeatMs' must be >= 10: received ${this.#heartbeatMs}`,
      );
    }
    this.#random = options.random ?? cryptoRandomBytes;
  }

  /** Opens a session: the response streams every server frame as a `data:` event. */
  open(info: ConnectionInfo, firstFrame: string): Response {
    const id = base64url(this.#random(16));
    const socket = new StreamSocket(this.#heartbeatMs, () => this.#sessions.delete(id));
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
