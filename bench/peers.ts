/** Client connections for the load generator: the v1 relay protocol, raw broadcast, Socket.IO, and a peer that never reads. */
import { io } from "socket.io-client";
import type { ServerKind } from "./servers.ts";

/** Called for every message a peer receives, with the arrival time (`performance.now()`). */
export type OnMessage = (msg: unknown, now: number) => void;

/** One connected load-generator peer. */
export interface BenchPeer {
  /** The relay's `welcome` (relay peers only). */
  welcome?: Record<string, unknown>;
  /** Sends one message as one frame, without waiting for anything. */
  send(msg: unknown): void;
  /** Whether the server has closed the connection. */
  readonly closed: boolean;
  /** The close code the server sent, if any. */
  readonly closeCode: number | undefined;
  /** Closes and waits (bounded) for the close to finish. */
  close(): Promise<void>;
}

/** Where and how to connect. */
export interface ConnectOptions {
  kind: ServerKind;
  /** `http://127.0.0.1:<port>` (or `https://...` through a proxy). */
  baseUrl: string;
  /** A map id (relay) or a room name (baselines). */
  room: string;
  /** The edit key (relay only). */
  key?: string;
  name: string;
  onMessage: OnMessage;
  /** HTTP client for the WebSocket (to trust a local CA through a TLS proxy). */
  client?: Deno.HttpClient;
  /** How long to wait for the connection to be usable. @default 20000 */
  timeoutMs?: number;
}

const COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0"];

function deliver(data: unknown, onMessage: OnMessage): void {
  const now = performance.now();
  if (typeof data !== "string") return;
  const parsed: unknown = JSON.parse(data);
  if (Array.isArray(parsed)) { for (const m of parsed) onMessage(m, now); }
  else onMessage(parsed, now);
}

/** Connects one peer and resolves when it can send (after `welcome` for the relay). */
export function connectPeer(options: ConnectOptions): Promise<BenchPeer> {
  return options.kind === "socketio" ? connectSocketIo(options) : connectWebSocket(options);
}

function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  onTimeout: () => void,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new Error(`${what} did not complete in ${ms} ms`));
      }, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function connectWebSocket(o: ConnectOptions): Promise<BenchPeer> {
  const wsUrl = o.baseUrl.replace(/^http/, "ws") + `/ws/${o.room}`;
  const ws = o.client
    ? new WebSocket(wsUrl, { protocols: ["duplexmap.v1"], client: o.client })
    : new WebSocket(wsUrl, "duplexmap.v1");
  let closeCode: number | undefined;
  let closed = false;
  const closedP = new Promise<void>((resolve) => {
    ws.addEventListener("close", (e) => {
      closed = true;
      closeCode = e.code;
      resolve();
    });
  });
  ws.onerror = () => {};
  const peer: BenchPeer = {
    send: (msg) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
    },
    get closed() {
      return closed;
    },
    get closeCode() {
      return closeCode;
    },
    close: async () => {
      if (!closed) ws.close(1000);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([closedP, new Promise((r) => timer = setTimeout(r, 3000))]);
      clearTimeout(timer);
    },
  };
  const ready = new Promise<BenchPeer>((resolve, reject) => {
    closedP.then(() => reject(new Error(`${wsUrl} closed before ready (code ${closeCode})`)));
    ws.onopen = () => {
      if (o.kind !== "relay") {
        ws.onmessage = (e) => deliver(e.data, o.onMessage);
        resolve(peer);
        return;
      }
      const color = COLORS[o.name.length % COLORS.length];
      ws.send(JSON.stringify({ type: "hello", key: o.key ?? "", name: o.name, color }));
      ws.onmessage = (e) => {
        const first: unknown = JSON.parse(e.data);
        const list = Array.isArray(first) ? first : [first];
        const welcome = list.find((m) => (m as { type?: string }).type === "welcome");
        if (!welcome) {
          const err = list.find((m) => (m as { type?: string }).type === "error");
          if (err) reject(new Error(`relay refused hello: ${JSON.stringify(err)}`));
          return;
        }
        peer.welcome = welcome as Record<string, unknown>;
        ws.onmessage = (ev) => deliver(ev.data, o.onMessage);
        // Anything batched after the welcome in the same frame is ordinary traffic.
        const now = performance.now();
        for (const m of list.slice(list.indexOf(welcome) + 1)) o.onMessage(m, now);
        resolve(peer);
      };
    };
  });
  return withTimeout(ready, o.timeoutMs ?? 20_000, `connecting ${wsUrl}`, () => ws.close());
}

function connectSocketIo(o: ConnectOptions): Promise<BenchPeer> {
  const socket = io(o.baseUrl, {
    transports: ["websocket"],
    query: { room: o.room },
    forceNew: true,
    reconnection: false,
  });
  let closed = false;
  const peer: BenchPeer = {
    send: (msg) => {
      socket.emit("m", JSON.stringify(msg));
    },
    get closed() {
      return closed;
    },
    get closeCode() {
      return undefined;
    },
    close: () => {
      closed = true;
      socket.close();
      return Promise.resolve();
    },
  };
  socket.on("disconnect", () => closed = true);
  socket.on("m", (data: string) => deliver(data, o.onMessage));
  const ready = new Promise<BenchPeer>((resolve, reject) => {
    socket.on("connect", () => resolve(peer));
    socket.on("connect_error", (e: Error) => reject(e));
  });
  return withTimeout(ready, o.timeoutMs ?? 20_000, `Socket.IO connect`, () => socket.close());
}

/**
 * A peer that completes the WebSocket handshake and `hello`, may keep sending, and never reads
 * again: the server's writes to it pile up, like a stalled browser tab on a bad link.
 */
export class StalledPeer {
  #conn: Deno.TcpConn;
  #closed = false;
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  /** Connects, upgrades, sends `hello` (relay) and stops reading. */
  static async connect(o: { baseUrl: string; room: string; key?: string; relay: boolean }) {
    const url = new URL(o.baseUrl);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    const keyBytes = crypto.getRandomValues(new Uint8Array(16));
    const request = [
      `GET /ws/${o.room} HTTP/1.1`,
      `Host: ${url.host}`,
      "Upgrade: websocket",
      "Connection: Upgrade",
      `Sec-WebSocket-Key: ${btoa(String.fromCharCode(...keyBytes))}`,
      "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Protocol: duplexmap.v1",
      "",
      "",
    ].join("\r\n");
    await conn.write(new TextEncoder().encode(request));
    // Read just the HTTP answer; after it, never read again.
    const buf = new Uint8Array(4096);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("server closed during the upgrade");
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    if (!head.startsWith("HTTP/1.1 101")) {
      conn.close();
      throw new Error(`upgrade refused: ${head.split("\r\n")[0]}`);
    }
    const peer = new StalledPeer(conn);
    if (o.relay) {
      peer.send({ type: "hello", key: o.key ?? "", name: "stalled", color: "#888888" });
    }
    return peer;
  }

  /** Whether a write has failed (the server closed on us). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one masked text frame; writes are queued so frames never interleave. */
  send(msg: unknown): void {
    if (this.#closed) return;
    const frame = maskedTextFrame(JSON.stringify(msg));
    this.#writing = this.#writing.then(() => this.#conn.write(frame)).catch(() => {
      this.#closed = true;
    });
  }

  /**
   * Closes the TCP connection without waiting for queued writes: a peer that never reads can
   * have writes blocked for good on a full socket buffer; closing makes them fail.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
    }
    return this.#writing.then(() => {}, () => {});
  }
}

function maskedTextFrame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const len = payload.length;
  const headerLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const frame = new Uint8Array(headerLen + 4 + len);
  frame[0] = 0x81;
  if (len < 126) frame[1] = 0x80 | len;
  else if (len < 65536) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, len);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(len));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, headerLen);
  for (let i = 0; i < len; i++) frame[headerLen + 4 + i] = payload[i] ^ mask[i & 3];
  return frame;
}
