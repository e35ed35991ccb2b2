/** The small interface the client talks through, and its WebSocket implementation. */
import { SUBPROTOCOLS } from "../../relay/protocol.ts";

/** What a transport reports to its owner. */
export interface TransportHandlers {
  /** The channel is open; the owner may send `hello`. */
  onOpen(): void;
  /** One text frame from the relay (a message object or an array of them, as JSON). */
  onMessage(text: string): void;
  /** The channel closed (or never opened); it will not be used again. */
  onClose(info: { code: number; reason: string }): void;
}

/** One connection to the relay for one map. Another transport (HTTP: SSE down, POST up) fits here. */
export interface Transport {
  /** Shown in the connection indicator, e.g. "websocket". */
  readonly name: string;
  /** Sends one text frame; frames sent before `onOpen` or after `onClose` are dropped. */
  send(text: string): void;
  /** Closes the channel; `onClose` still follows. */
  close(code?: number, reason?: string): void;
}

/** Where to connect. */
export interface TransportTarget {
  /** The page origin, e.g. `https://maps.example.org`. */
  origin: string;
  /** The map id. */
  mapId: string;
}

/** Makes a transport for a target; the connection calls it once per attempt. */
export type TransportFactory = (
  target: TransportTarget,
  handlers: TransportHandlers,
) => Transport;

export { UNKNOWN_MAP_OR_KEY } from "../../relay/protocol.ts";

/** How long a WebSocket handshake may take before the attempt counts as failed. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens a WebSocket to `/ws/<id>` on the page's own host (ws:// or wss:// to match the page).
 *
 * @example
 * ```ts ignore
 * const t = websocketTransport({ origin: location.origin, mapId: "abc" }, {
 *   onOpen: () => t.send(JSON.stringify({ type: "ping" })),
 *   onMessage: (text) => console.log(text),
 *   onClose: ({ code }) => console.log("closed", code),
 * });
 * ```
 */
export const websocketTransport: TransportFactory = (target, handlers) => {
  const url = new URL(`/ws/${encodeURIComponent(target.mapId)}`, target.origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(url, SUBPROTOCOLS[0]);
  let closed = false;
  const finish = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    handlers.onClose({ code, reason });
  };
  // A gateway that holds the handshake open instead of refusing it would otherwise leave the page
  // "connecting" for ever; giving up lets the fallback policy probe and switch to HTTP.
  const connectTimer = setTimeout(() => {
    if (socket.readyState !== WebSocket.CONNECTING) return;
    socket.close();
    finish(1006, "WebSocket handshake timed out");
  }, CONNECT_TIMEOUT_MS);
  socket.onopen = () => {
    clearTimeout(connectTimer);
    handlers.onOpen();
  };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") handlers.onMessage(event.data);
  };
  socket.onclose = (event) => {
    clearTimeout(connectTimer);
    finish(event.code, event.reason);
  };
  // An error is always followed by close in browsers; nothing else to do here.
  socket.onerror = () => {};
  return {
    name: "websocket",
    send(text) {
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
    },
    close(code = 1000, reason = "") {
      clearTimeout(connectTimer);
      if (
        socket.readyState === WebSocket.CONNECTING ||
        socket.readyState === WebSocket.OPEN
      ) {
        socket.close(code, reason);
      }
      // A socket stuck in CONNECTING (offline) may take long to report close: report it now.
      finish(code, reason);
    },
  };
};
