/** A hand-written HTTP/1.1 client over TCP, for requests fetch cannot make: lying, slow or unread. */
import { withTimeout } from "./_ws.ts";

/** A response read off the wire. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  /** The body as far as it was read (a stream's first events, or a whole fixed-length body). */
  body: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One TCP connection to the relay, written and read by hand. */
export class RawHttp {
  readonly conn: Deno.Conn;
  #buffer = "";
  #eof = false;
  /** Everything received so far, framing included. */
  received = "";

  private constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Connects to the host and port of `baseUrl`. */
  static async open(baseUrl: string): Promise<RawHttp> {
    const url = new URL(baseUrl);
    return new RawHttp(await Deno.connect({ hostname: url.hostname, port: Number(url.port) }));
  }

  /** Writes text or bytes as they are. */
  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }

  /** Reads the status line, the headers and (with a `Content-Length`) the body. */
  answer(timeoutMs = 10_000): Promise<RawAnswer> {
    return withTimeout(this.#answer(), timeoutMs, "an HTTP answer");
  }

  /** Resolves once the server has closed the connection, discarding what it still sends. */
  closed(timeoutMs = 10_000): Promise<void> {
    return withTimeout(
      (async () => {
        while (!this.#eof) await this.#more();
      })(),
      timeoutMs,
      "the server to close the connection",
    );
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #answer(): Promise<RawAnswer> {
    while (!this.#buffer.includes("\r\n\r\n")) {
      if (this.#eof) throw new Error(`connection closed before an answer: ${this.#buffer}`);
      await this.#more();
    }
    const end = this.#buffer.indexOf("\r\n\r\n");
    const [statusLine, ...lines] = this.#buffer.slice(0, end).split("\r\n");
    this.#buffer = this.#buffer.slice(end + 4);
    const headers = new Headers();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get("content-length") ?? NaN);
    if (Number.isFinite(length)) {
      while (encoder.encode(this.#buffer).length < length && !this.#eof) await this.#more();
    }
    const body = this.#buffer;
    this.#buffer = "";
    return { status: Number(statusLine.split(" ")[1]), headers, body };
  }

  async #more(): Promise<void> {
    const chunk = new Uint8Array(16 * 1024);
    let n: number | null = null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      // A reset counts as closed.
    }
    if (n === null) this.#eof = true;
    else {
      const text = decoder.decode(chunk.subarray(0, n), { stream: true });
      this.#buffer += text;
      this.received += text;
    }
  }
}

/** The head of a request, with `Host` and `Connection: close` unless given. */
export function head(method: string, path: string, headers: Record<string, string> = {}): string {
  const all = { host: "127.0.0.1", connection: "close", ...headers };
  return `${method} ${path} HTTP/1.1\r\n${
    Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  }\r\n`;
}
