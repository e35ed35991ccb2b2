/** WebSocket test peers for the relay end-to-end tests: a real client, and a hand-made one over TCP. */

import * as v from "valibot";
import { ServerMessageSchema } from "../relay/protocol.ts";

/** One message the server sent (a JSON array frame is flattened into several). */
export type Msg = { type: string; [field: string]: unknown };

/** A feature as the contract describes it on the wire. */
export interface WireFeature {
  type: "Feature";
  id: string;
  geometry: { type: string; [field: string]: unknown };
  properties?: Record<string, unknown> | null;
}

/** An edit op as the contract describes it. */
export type WireOp =
  | { op: "put"; feature: WireFeature }
  | { op: "geom"; fid: string; geometry: WireFeature["geometry"] }
  | { op: "props"; fid: string; set: Record<string, unknown>; unset?: string[] }
  | { op: "del"; fid: string };

/** The server messages of the contract, by `type`, with the fields the tests read. */
export interface ServerMsgs {
  welcome: Msg & {
    type: "welcome";
    you: { peer: string; name: string; color: string; role: "editor" | "viewer" };
    peers: Array<Record<string, unknown> & { peer: string; name: string; color: string }>;
    seq: number;
    epoch?: string;
    features?: { type: "FeatureCollection"; features: WireFeature[] };
    ops?: EditMsg[];
    map?: { id: string; title: string };
  };
  joined: Msg & { type: "joined"; peer: string; name: string; color: string };
  left: Msg & { type: "left"; peer: string };
  view: Msg & { type: "view"; peer: string; bbox: number[]; zoom: number };
  cursor: Msg & { type: "cursor"; peer: string; at: [number, number] | null };
  edit: EditMsg;
  rejected: Msg & { type: "rejected"; id: string | number; code: string; message: string };
  error: Msg & { type: "error"; code: string; message: string };
  pong: Msg & { type: "pong"; t?: unknown };
}

/** An accepted edit as broadcast by the server. */
export type EditMsg = Msg & {
  type: "edit";
  seq: number;
  by: string;
  id: string | number;
  ops: WireOp[];
};

/** How a socket was closed. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** Options for {@link connect}. */
export interface ConnectOptions {
  /** Subprotocols to offer (default `["duplexmap.v1"]`; `[]` offers none). */
  protocols?: string[];
  /** Extra handshake headers (Deno's non-standard WebSocket option), e.g. `Origin`. */
  headers?: Record<string, string>;
  /** How long to wait for the socket to open. @default 5000 */
  timeoutMs?: number;
}

/** What `hello` carries besides the key. */
export interface HelloOptions {
  name?: string;
  color?: string;
  since?: number;
  /** The epoch `since` was seen under (from a `welcome`). */
  epoch?: string;
  client?: string;
}

interface Waiter {
  match: (m: Msg) => boolean;
  resolve: (m: Msg) => void;
  reject: (e: Error) => void;
  what: string;
}

/** A real WebSocket client peer that records everything it receives. */
export class TestPeer {
  /** The underlying socket. */
  readonly ws: WebSocket;
  /** Every message received, in arrival order, array frames flattened. */
  readonly messages: Msg[] = [];
  /** Raw text of every frame received. */
  readonly frames: string[] = [];
  /** Resolves when the socket is closed, by either side. */
  readonly closed: Promise<CloseInfo>;
  #consumed = new Set<number>();
  #waiters = new Set<Waiter>();
  #closeInfo: CloseInfo | undefined;
  #label: string;

  constructor(ws: WebSocket, label: string) {
    this.ws = ws;
    this.#label = label;
    ws.binaryType = "arraybuffer";
    this.closed = new Promise<CloseInfo>((resolve) => {
      ws.addEventListener("close", (e) => {
        this.#closeInfo = { code: e.code, reason: e.reason };
        for (const w of this.#waiters) {
          w.reject(
            new Error(
              `${this.#label}: closed (${e.code} ${
                JSON.stringify(e.reason)
              }) while waiting for ${w.what}; ` +
                `last messages: ${this.#tail()}`,
            ),
          );
        }
        this.#waiters.clear();
        resolve(this.#closeInfo);
      });
    });
    ws.addEventListener("message", (e) => {
      if (typeof e.data !== "string") {
        this.#push({ type: "__binary__" });
        return;
      }
      this.frames.push(e.data);
      let parsed: unknown;
      try {
        parsed = JSON.parse(e.data);
      } catch {
        this.#push({ type: "__not_json__", text: e.data });
        return;
      }
      for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
        const isMsg = typeof item === "object" && item !== null && "type" in item &&
          typeof item.type === "string";
        if (!isMsg) {
          this.#push({ type: "__not_a_message__", value: item });
          continue;
        }
        // Every message must match the published server schema: a test waiting for a message
        // that does not sees "__invalid__" in its failure instead.
        const checked = v.safeParse(ServerMessageSchema, item);
        this.#push(
          checked.success
            ? item as Msg
            : { type: "__invalid__", issue: checked.issues[0].message, value: item },
        );
      }
    });
  }

  /** Whether the socket is open. */
  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The close code and reason, once closed. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /** Sends one message, or an array of messages as one frame. */
  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends a text or binary frame as it is. */
  sendRaw(data: string | Uint8Array): void {
    this.ws.send(typeof data === "string" ? data : new Uint8Array(data));
  }

  /**
   * Resolves with the first received message (already here or future) that matches and was not
   * returned by an earlier `next`; rejects on timeout or when the socket closes first.
   */
  next(match: (m: Msg) => boolean, timeoutMs = 5000, what = "a matching message"): Promise<Msg> {
    for (let i = 0; i < this.messages.length; i++) {
      if (!this.#consumed.has(i) && match(this.messages[i])) {
        this.#consumed.add(i);
        return Promise.resolve(this.messages[i]);
      }
    }
    if (this.#closeInfo) {
      return Promise.reject(
        new Error(
          `${this.#label}: already closed (${this.#closeInfo.code}) while waiting for ${what}; ` +
            `last messages: ${this.#tail()}`,
        ),
      );
    }
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(
            `${this.#label}: no ${what} within ${timeoutMs} ms; last messages: ${this.#tail()}`,
          ),
        );
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        what,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /**
   * Resolves with the first message ever received that matches (whether or not an earlier `next`
   * returned it), or waits for one like {@link next}.
   */
  waitFor(match: (m: Msg) => boolean, timeoutMs = 5000, what = "a matching message"): Promise<Msg> {
    const seen = this.messages.find(match);
    return seen ? Promise.resolve(seen) : this.next(match, timeoutMs, what);
  }

  /** {@link next} for one message type, typed. */
  async nextOf<K extends keyof ServerMsgs>(
    type: K,
    match: (m: ServerMsgs[K]) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ServerMsgs[K]> {
    const m = await this.next(
      (m) => m.type === type && match(m as ServerMsgs[K]),
      timeoutMs,
      `a ${type} message`,
    );
    return m as ServerMsgs[K];
  }

  /** Every received message of one type, typed. */
  all<K extends keyof ServerMsgs>(type: K): ServerMsgs[K][] {
    return this.messages.filter((m) => m.type === type) as ServerMsgs[K][];
  }

  /** Sends `hello` and waits for `welcome`. */
  async hello(key: string, options: HelloOptions = {}): Promise<ServerMsgs["welcome"]> {
    this.send({
      type: "hello",
      key,
      name: options.name ?? this.#label,
      color: options.color ?? "#3366cc",
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(options.epoch === undefined ? {} : { epoch: options.epoch }),
      ...(options.client === undefined ? {} : { client: options.client }),
    });
    return await this.nextOf("welcome");
  }

  /** Round-trips a ping, so everything the server sent before its pong has arrived. */
  async sync(timeoutMs = 5000): Promise<void> {
    const t = `sync-${this.messages.length}-${crypto.randomUUID()}`;
    this.send({ type: "ping", t });
    await this.nextOf("pong", (m) => m.t === t, timeoutMs);
  }

  /** Closes (if still open) and waits until the socket is closed. */
  async close(): Promise<CloseInfo> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(1000, "bye");
    }
    return await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #push(m: Msg): void {
    const index = this.messages.length;
    this.messages.push(m);
    for (const w of this.#waiters) {
      if (w.match(m)) {
        this.#waiters.delete(w);
        this.#consumed.add(index);
        w.resolve(m);
        return;
      }
    }
  }

  #tail(): string {
    return JSON.stringify(this.messages.slice(-5)).slice(0, 600);
  }
}

/**
 * Opens a WebSocket to `<wsUrl>/ws/<mapId>` and waits until it is open; rejects when the
 * handshake fails.
 */
export async function connect(
  wsUrl: string,
  mapId: string,
  options: ConnectOptions & { label?: string } = {},
): Promise<TestPeer> {
  const ws = new WebSocket(`${wsUrl}/ws/${mapId}`, {
    protocols: options.protocols ?? ["duplexmap.v1"],
    headers: options.headers,
  });
  return await openedPeer(ws, options.label ?? "peer", options.timeoutMs);
}

/**
 * Wraps a WebSocket (direct, or through HAProxy) as a {@link TestPeer} once it is open; throws
 * when it closes first or is not open within `timeoutMs`.
 */
export async function openedPeer(
  ws: WebSocket,
  label: string,
  timeoutMs = 5000,
): Promise<TestPeer> {
  const peer = new TestPeer(ws, label);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const opened = await Promise.race([
    new Promise<boolean>((resolve) => {
      ws.addEventListener("open", () => resolve(true), { once: true });
      ws.addEventListener("close", () => resolve(false), { once: true });
    }),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), timeoutMs)),
  ]);
  clearTimeout(timer);
  if (!opened) {
    if (ws.readyState !== WebSocket.CLOSED) ws.close();
    await peer.closed;
    throw new Error(
      `${label}: the WebSocket did not open (refused, or not within ${timeoutMs} ms)`,
    );
  }
  return peer;
}

/** Connects and joins with `hello`; returns the peer and its `welcome`. */
export async function join(
  wsUrl: string,
  mapId: string,
  key: string,
  options: HelloOptions & ConnectOptions = {},
): Promise<{ peer: TestPeer; welcome: ServerMsgs["welcome"] }> {
  const peer = await connect(wsUrl, mapId, { ...options, label: options.name });
  try {
    const welcome = await peer.hello(key, options);
    return { peer, welcome };
  } catch (e) {
    await peer.close();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// A hand-made WebSocket client over TCP: to read handshake refusals (status, headers, body), and
// to be a peer that never reads what the server sends.

/** The answer to a handshake request. */
export interface HandshakeAnswer {
  status: number;
  headers: Headers;
  /** The body, for a refused upgrade. */
  body: string;
}

const CRLF2 = new TextEncoder().encode("\r\n\r\n");

/** Where `needle` first occurs in `haystack` at or after `from`, or -1. */
export function indexOf(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** `a` followed by `b`, as one new array. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function readWithTimeout(
  conn: Deno.Conn,
  buf: Uint8Array,
  deadline: number,
): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      conn.read(buf),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("raw socket: read timed out")),
          Math.max(1, deadline - Date.now()),
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A WebSocket client written by hand over a TCP socket. */
export class RawWsClient {
  readonly conn: Deno.Conn;
  /** The handshake answer. */
  readonly answer: HandshakeAnswer;
  #pending: Uint8Array;
  #closed = false;

  private constructor(conn: Deno.Conn, answer: HandshakeAnswer, leftover: Uint8Array) {
    this.conn = conn;
    this.answer = answer;
    this.#pending = leftover;
  }

  /**
   * Sends an upgrade request for `path` to the relay at `httpUrl` (`http://host:port`), with the
   * given extra headers (e.g. `Origin`, `Sec-WebSocket-Protocol`), and reads the answer. A
   * refused upgrade is read fully (body included) and the socket closed.
   */
  static async open(
    httpUrl: string,
    path: string,
    headers: Record<string, string> = {},
    timeoutMs = 5000,
  ): Promise<RawWsClient> {
    const url = new URL(httpUrl);
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    const deadline = Date.now() + timeoutMs;
    try {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      const lines = [
        `GET ${path} HTTP/1.1`,
        `Host: ${url.host}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${key}`,
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      await writeAll(conn, new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
      let data: Uint8Array = new Uint8Array(0);
      let end = -1;
      const buf = new Uint8Array(64 * 1024);
      while ((end = indexOf(data, CRLF2)) < 0) {
        const n = await readWithTimeout(conn, buf, deadline);
        if (n === null) throw new Error("raw socket: connection closed during the handshake");
        data = concat(data, buf.subarray(0, n));
      }
      const head = new TextDecoder().decode(data.subarray(0, end)).split("\r\n");
      const status = Number(head[0].split(" ")[1]);
      const responseHeaders = new Headers();
      for (const line of head.slice(1)) {
        const colon = line.indexOf(":");
        if (colon > 0) {
          responseHeaders.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
        }
      }
      let rest = data.subarray(end + 4);
      if (status === 101) {
        return new RawWsClient(conn, { status, headers: responseHeaders, body: "" }, rest);
      }
      // A refused upgrade: read the body (content-length, chunked, or until the server closes).
      const length = responseHeaders.get("content-length");
      const chunked = /chunked/i.test(responseHeaders.get("transfer-encoding") ?? "");
      const done = () => {
        if (length !== null) return rest.length >= Number(length);
        if (chunked) return indexOf(rest, new TextEncoder().encode("0\r\n\r\n")) >= 0;
        return false;
      };
      while (!done()) {
        const n = await readWithTimeout(conn, buf, deadline);
        if (n === null) break;
        rest = concat(rest, buf.subarray(0, n));
      }
      let body = length !== null ? rest.subarray(0, Number(length)) : rest;
      if (chunked) body = dechunk(rest);
      conn.close();
      const client = new RawWsClient(conn, {
        status,
        headers: responseHeaders,
        body: new TextDecoder().decode(body),
      }, new Uint8Array(0));
      client.#closed = true;
      return client;
    } catch (e) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      throw e;
    }
  }

  /** Sends one masked text frame (clients must mask). */
  async sendText(text: string): Promise<void> {
    await writeAll(this.conn, encodeClientFrame(0x1, new TextEncoder().encode(text)));
  }

  /**
   * Reads every frame until the server's close frame (or the end of the stream), and answers
   * what the close frame said; `null` when the stream ended without one.
   */
  async readUntilClose(timeoutMs = 10_000): Promise<{ close: CloseInfo | null; frames: number }> {
    const deadline = Date.now() + timeoutMs;
    const buf = new Uint8Array(256 * 1024);
    let frames = 0;
    let data = this.#pending;
    // Payloads other than the close frame's are skipped, not kept, so megabytes of backlog stay
    // cheap: only frame headers (and the close frame) are ever buffered.
    let skip = 0;
    for (;;) {
      if (skip > 0) {
        const dropped = Math.min(skip, data.length);
        skip -= dropped;
        data = data.subarray(dropped);
      }
      while (skip === 0) {
        const header = parseServerHeader(data);
        if (!header) break;
        frames++;
        if (header.opcode === 0x8) {
          if (data.length < header.start + header.length) break;
          const p = data.subarray(header.start, header.start + header.length);
          const code = p.length >= 2 ? (p[0] << 8) | p[1] : 1005;
          return { close: { code, reason: new TextDecoder().decode(p.subarray(2)) }, frames };
        }
        const available = Math.min(header.length, data.length - header.start);
        skip = header.length - available;
        data = data.subarray(header.start + available);
      }
      const n = await readWithTimeout(this.conn, buf, deadline);
      if (n === null) return { close: null, frames };
      data = skip > 0 ? buf.slice(0, n) : concat(data, buf.subarray(0, n));
    }
  }

  /** Closes the TCP socket (no close handshake). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function encodeClientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const headerLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(headerLen + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, headerLen);
  for (let i = 0; i < len; i++) out[headerLen + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/** Reads a server frame header (servers do not mask): opcode, payload start and length. */
function parseServerHeader(
  data: Uint8Array,
): { opcode: number; start: number; length: number } | null {
  if (data.length < 2) return null;
  const opcode = data[0] & 0x0f;
  let length = data[1] & 0x7f;
  let start = 2;
  if (length === 126) {
    if (data.length < 4) return null;
    length = (data[2] << 8) | data[3];
    start = 4;
  } else if (length === 127) {
    if (data.length < 10) return null;
    length = Number(new DataView(data.buffer, data.byteOffset + 2, 8).getBigUint64(0));
    start = 10;
  }
  if (data[1] & 0x80) start += 4;
  return { opcode, start, length };
}

function dechunk(data: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(data);
  let out = "";
  let pos = 0;
  for (;;) {
    const eol = text.indexOf("\r\n", pos);
    if (eol < 0) break;
    const size = parseInt(text.slice(pos, eol), 16);
    if (!size) break;
    out += text.slice(eol + 2, eol + 2 + size);
    pos = eol + 2 + size + 2;
  }
  return new TextEncoder().encode(out);
}

/** Resolves like `p`, or rejects saying what did not happen within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
