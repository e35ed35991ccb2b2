/** The Deno WebSocket adapter: upgrades a request and wires the socket to a hub connection. */
import type { Connection, ConnectionInfo, Hub } from "./hub.ts";
import type { PeerSocket } from "./peer.ts";

/** Options for {@link upgradeDenoWebSocket}. */
export interface UpgradeOptions {
  /** The subprotocol to answer with, if the client offered one. */
  protocol: string | undefined;
  /** Seconds without a pong before Deno closes the socket (it pings on its own). */
  idleTimeout: number;
  info: ConnectionInfo;
}

/** Wraps a Deno server-side WebSocket as a {@link PeerSocket}; `raw` is the escape hatch. */
export class DenoPeerSocket implements PeerSocket {
  readonly raw: WebSocket;
  constructor(raw: WebSocket) {
    this.raw = raw;
  }
  send(text: string): void {
    this.raw.send(text);
  }
  close(code: number, reason: string): void {
    this.raw.close(code, reason);
  }
  get bufferedAmount(): number {
    return this.raw.bufferedAmount;
  }
  get isOpen(): boolean {
    return this.raw.readyState === WebSocket.OPEN;
  }
}

/** Upgrades `request` and hands the socket to `hub` once it is open. */
export function upgradeDenoWebSocket(
  request: Request,
  hub: Hub,
  options: UpgradeOptions,
): Response {
  const { socket, response } = Deno.upgradeWebSocket(request, {
    protocol: options.protocol,
    idleTimeout: options.idleTimeout,
  });
  let conn: Connection | undefined;
  socket.onopen = () => {
    conn = hub.accept(new DenoPeerSocket(socket), options.info);
  };
  socket.onmessage = (event) => conn?.receive(event.data);
  socket.onclose = (event) => conn?.closed(event.code, event.reason);
  // Errors are followed by close; the close handler does the cleanup.
  socket.onerror = () => {};
  return response;
}
