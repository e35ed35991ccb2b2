/** The Deno WebSocket adapter: upgrades a request and wires the socket to a hub connection. */
import type { Connection, ConnectionInfo, Hub } from "./hub.ts";
import type { PeerSocket } from "./peer.ts";
import { utf8Exceeds } from "./protocol.ts";
import type { AdmissionSlot } from "./admission.ts";
import { systemTimers } from "./timers.ts";
import type { TimerId, Timers } from "./timers.ts";

/** Options for {@link upgradeDenoWebSocket}. */
export interface UpgradeOptions {
  /** The subprotocol to answer with, if the client offered one. */
  protocol: string | undefined;
  /** Seconds without a pong before Deno closes the socket (it pings on its own). */
  idleTimeout: number;
  /** The connection's map, address and transport. */
  info: ConnectionInfo;
  /** The connection's place among those that have not said hello; released at hello or close. */
  slot?: AdmissionSlot;
  /**
   * Times the delayed close; one for all sockets (a timer set per socket would cost each idle
   * connection its own closures). @default new system timers on `performance.now`
   */
  timers?: Timers;
}

/** How long the client must have been silent before a server-side close is sent. */
const CLOSE_QUIET_MS = 50;
/** The longest a server-side close waits for that silence. */
const CLOSE_MAX_WAIT_MS = 1000;

/** Wraps a Deno server-side WebSocket as a {@link PeerSocket}; `raw` is the escape hatch. */
export class DenoPeerSocket implements PeerSocket {
  /** The Deno WebSocket underneath (the escape hatch). */
  readonly raw: WebSocket;
  #closing: { code: number; reason: string; deadline: number } | null = null;
  #timer: TimerId | undefined;
  #lastInbound = 0;
  #timers: Timers;
  /**
   * At least Deno's `bufferedAmount`: what it said when last asked, plus every byte sent since
   * (a UTF-16 code unit is at most 3 bytes of UTF-8).
   */
  #bufferedBound = 0;

  /** Wraps `raw`; `timers` time the delayed close. @default timers the runtime's */
  constructor(raw: WebSocket, timers: Timers = systemTimers(() => performance.now())) {
    this.raw = raw;
    this.#timers = timers;
  }

  send(text: string): void {
    this.raw.send(text);
    this.#bufferedBound += text.length * 3;
  }

  /**
   * Closes once the client has been quiet for a moment. Closing while the client is still
   * sending (a pipelining or flooding client) leaves unread bytes in the kernel's receive buffer,
   * which turns the close into a TCP reset that can destroy the close frame before the client
   * reads it: the client would see no close code at all.
   */
  close(code: number, reason: string): void {
    if (this.#closing) return;
    this.#closing = {
      code,
      reason: closeReason(reason),
      deadline: this.#timers.now() + CLOSE_MAX_WAIT_MS,
    };
    this.#schedule();
  }

  /** Notes inbound traffic; frames that arrive while closing are read and dropped. */
  inbound(): void {
    this.#lastInbound = this.#timers.now();
    if (this.#closing) this.#schedule();
  }

  /** The transport closed; stops a pending close. */
  dispose(): void {
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  get bufferedAmount(): number {
    return this.#bufferedBound = this.raw.bufferedAmount;
  }

  /** Asks Deno (an op call) only when what was sent since it was last asked could exceed `bytes`. */
  bufferedAbove(bytes: number): boolean {
    return this.#bufferedBound > bytes && this.bufferedAmount > bytes;
  }

  /** False once a close was asked for or the socket is no longer open. */
  get isOpen(): boolean {
    return !this.#closing && this.raw.readyState === WebSocket.OPEN;
  }

  #schedule(): void {
    const closing = this.#closing!;
    this.#timers.clearTimeout(this.#timer);
    const now = this.#timers.now();
    const quietAt = this.#lastInbound + CLOSE_QUIET_MS;
    const wait = Math.max(0, Math.min(quietAt, closing.deadline) - now);
    this.#timer = this.#timers.setTimeout(() => {
      if (this.#timers.now() >= closing.deadline) return this.#closeNow();
      // Timers run before I/O in an event-loop turn: after a stall (a busy machine), frames that
      // arrived meanwhile are still unread here. One more turn lets them in; any that come
      // restart the wait through inbound().
      this.#timer = this.#timers.setTimeout(() => this.#closeNow(), 0);
    }, wait);
  }

  #closeNow(): void {
    const closing = this.#closing!;
    this.#timer = undefined;
    try {
      this.raw.close(closing.code, closing.reason);
    } catch {
      // Already closed by the other side.
    }
  }
}

/** Upgrades `request` and hands the socket to `hub` once it is open. */
export function upgradeDenoWebSocket(
  request: Request,
  hub: Hub,
  options: UpgradeOptions,
): Response {
  // Deno splits the offered list on ", " exactly, so `a,duplexmap.v1` (valid per RFC 6455) would
  // make it throw; the app has parsed the list already, and the answer header is set here.
  const { socket, response } = Deno.upgradeWebSocket(request, {
    idleTimeout: options.idleTimeout,
  });
  if (options.protocol !== undefined) {
    response.headers.set("sec-websocket-protocol", options.protocol);
  }
  const peerSocket = new DenoPeerSocket(socket, options.timers);
  const { slot } = options;
  const info = slot ? { ...options.info, onJoin: () => slot.release() } : options.info;
  let conn: Connection | undefined;
  socket.onopen = () => {
    try {
      conn = hub.accept(peerSocket, info);
    } catch (err) {
      // An exception in an event handler would end the process: this socket fails, nothing else.
      console.error(
        JSON.stringify({ event: "internal_error", where: "accept", error: String(err) }),
      );
      peerSocket.close(1011, "internal error; reconnect");
    }
  };
  socket.onmessage = (event) => {
    peerSocket.inbound();
    conn?.receive(event.data);
  };
  socket.onclose = (event) => {
    slot?.release();
    peerSocket.dispose();
    conn?.closed(event.code, event.reason);
  };
  // Errors are followed by close; the close handler does the cleanup.
  socket.onerror = () => {};
  return response;
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
