/** Reads a request body with a size bound and a deadline, so no client can fill or hold the relay. */
import { HTTPException } from "hono/http-exception";

/** Options for {@link readBody}. */
export interface ReadBodyOptions {
  /** Largest body accepted, in bytes; a larger one is answered 413 without being read whole. */
  maxBytes: number;
  /** Time allowed for the whole body, in ms; a slower one is answered 408. */
  timeoutMs: number;
}

/** A body the relay stopped reading; `unread` when the rest of it may still be on its way. */
export class BodyRefused extends HTTPException {
  /** True when the body was not read to its end (the connection must close). */
  readonly unread: boolean;
  /** A 408 or 413 with its message; `unread` when bytes may still be coming. */
  constructor(status: 408 | 413, message: string, unread: boolean) {
    super(status, { message });
    this.unread = unread;
  }
}

/**
 * The request body as bytes. A declared `Content-Length` over the bound is refused before reading
 * anything; otherwise the bytes are counted as they arrive, and a body still incomplete after
 * `timeoutMs` is refused with 408.
 *
 * Deno's server keeps a connection until a request body it has started reading is complete, and a
 * read cancelled while it waits does not change that; a read cancelled between chunks does (see
 * {@link closingAnswer}). So the deadline takes effect when the next chunk arrives, or, for a
 * client that sends nothing more, after a second `timeoutMs` (its connection then stays until it
 * goes away, like any idle one: the TLS proxy's request timeout is what bounds those).
 *
 * @example
 * ```ts
 * import { readBody } from "./body.ts";
 * const req = new Request("http://x/", { method: "POST", body: "{}" });
 * const bytes = await readBody(req, { maxBytes: 4096, timeoutMs: 10_000 });
 * ```
 */
export async function readBody(req: Request, options: ReadBodyOptions): Promise<Uint8Array> {
  const { maxBytes, timeoutMs } = options;
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes, false);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const started = Date.now();
  const late = () =>
    new BodyRefused(408, `the request body did not arrive within ${timeoutMs} ms`, true);
  const chunks: Uint8Array[] = [];
  let size = 0;
  let pending = reader.read().catch(() => null);
  while (true) {
    const elapsed = Date.now() - started;
    const wait = elapsed < timeoutMs ? timeoutMs - elapsed : 2 * timeoutMs - elapsed;
    const next = await raceTimeout(pending, wait);
    if (next === "timeout") {
      // Past the second deadline with a read still waiting: answer; the client keeps its socket.
      if (Date.now() - started >= 2 * timeoutMs) throw late();
      continue;
    }
    // The client went away mid-body; nobody will read the answer.
    if (next === null) throw new HTTPException(400, { message: "the request body broke off" });
    if (next.done) break;
    if (Date.now() - started >= timeoutMs) {
      await reader.cancel().catch(() => {});
      throw late();
    }
    size += next.value.byteLength;
    if (size > maxBytes) {
      // A client that sends a little too much gets a clean answer; more, and it is cut off.
      const left = Math.max(0, timeoutMs - (Date.now() - started));
      throw tooLarge(maxBytes, !await drain(reader, DRAIN_BYTES, left));
    }
    chunks.push(next.value);
    pending = reader.read().catch(() => null);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** Reads and drops up to `maxBytes` within `timeoutMs`; true when the body ended in that. */
async function drain(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let size = 0;
  while (size <= maxBytes) {
    const next = await raceTimeout(reader.read().catch(() => null), deadline - Date.now());
    if (next === "timeout" || next === null) return false;
    if (next.done) return true;
    size += next.value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return false;
}

function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), ms)),
  ]).finally(() => clearTimeout(timer));
}

/** {@link readBody} decoded as UTF-8 text (invalid bytes become U+FFFD, as `Request.text()` does). */
export async function readText(req: Request, options: ReadBodyOptions): Promise<string> {
  return new TextDecoder().decode(await readBody(req, options));
}

/** Bodies up to this size are read and dropped before a refusal, so it can be answered cleanly. */
const DRAIN_BYTES = 64 * 1024;

/**
 * Deno's server keeps a connection open after answering until the client has sent the whole
 * declared body, however slowly. A refusal of a request whose body may still be coming is
 * therefore sent and then the connection is broken: the client gets the status and the problem,
 * and nobody can hold the connection by trickling a body the relay no longer wants.
 */
export async function closingAnswer(res: Response): Promise<Response> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      // A chunked body that ends in an error is how a handler makes Deno drop the connection;
      // erroring at once would drop the answer too, so it waits for the next turn.
      setTimeout(() => {
        controller.error("duplexmap: connection closed after refusing an unread request body");
      }, 0);
    },
  });
  return new Response(body, { status: res.status, headers });
}

/**
 * Answers `res` to a request whose body was not read: small bodies that arrive in time are read
 * and dropped so the answer is an ordinary one; otherwise see {@link closingAnswer}.
 */
export async function refuseUnread(
  req: Request,
  res: Response,
  timeoutMs: number,
): Promise<Response> {
  if (!req.body || req.bodyUsed) return res;
  try {
    await readBody(req, { maxBytes: DRAIN_BYTES, timeoutMs });
    return res;
  } catch {
    return await closingAnswer(res);
  }
}

function tooLarge(maxBytes: number, unread: boolean): BodyRefused {
  return new BodyRefused(413, `request body larger than ${maxBytes} bytes`, unread);
}
