/** The HTTP fallback transport: an event stream down (read with fetch), POSTs up (docs/PROTOCOL.md section 7). */
import { CloseCode, SESSION_HEADER } from "../../relay/protocol.ts";
import { SendQueue } from "./send_queue.ts";
import { type SseEvent, SseParser } from "./sse.ts";
import { type Transport, type TransportFactory, UNKNOWN_MAP_OR_KEY } from "./transport.ts";

/** What the connection indicator shows for this transport. */
export const HTTP_TRANSPORT_NAME = "http fallback";

/** Options for {@link createHttpTransport}. */
export interface HttpTransportOptions {
  /** The fetch to use (tests pass a fake). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Largest batch of queued frames merged into one POST, in characters. @default 262144 */
  maxBatchChars?: number;
}

/** Close codes for an opening POST the relay (or a proxy) refused before any stream began. */
function closeCodeFor(status: number): number {
  if (status === 403) return CloseCode.Policy; // Origin refused: trying again cannot help.
  if (status === 413) return CloseCode.TooLarge;
  if (status === 503) return CloseCode.TryAgainLater; // Shutting down or overloaded.
  return 1006;
}

async function refusalReason(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const problem: unknown = JSON.parse(text);
    if (
      typeof problem === "object" && problem !== null && "detail" in problem &&
      typeof problem.detail === "string"
    ) {
      return problem.detail;
    }
  } catch {
    // Not a problem document (a proxy's error page): say what status it was.
  }
  return `the relay answered HTTP ${res.status}`;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : null;
  } catch {
    return null;
  }
}

/**
 * Makes the HTTP fallback transport for networks whose proxies strip WebSocket upgrades. It keeps
 * the {@link Transport} contract of the WebSocket one: it reports `onOpen` at once, so the owner's
 * first `send` (the `hello`, with the key) becomes the body of `POST /rt/<id>`, whose streamed
 * answer is read with fetch and parsed as server-sent events (not `EventSource`, which can only
 * GET and would put the key in a URL). Later frames wait until the `session` event names the
 * session, then go up one POST at a time ({@link SendQueue}).
 *
 * @example
 * ```ts ignore
 * const t = httpTransport({ origin: location.origin, mapId: "abc" }, {
 *   onOpen: () => t.send(JSON.stringify({ type: "hello", key: "..." })),
 *   onMessage: (text) => console.log(text),
 *   onClose: ({ code, reason }) => console.log("closed", code, reason),
 * });
 * ```
 */
export function createHttpTransport(options: HttpTransportOptions = {}): TransportFactory {
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  return (target, handlers) => {
    const base = new URL(`/rt/${encodeURIComponent(target.mapId)}`, target.origin).href;
    const stream = new AbortController();
    let phase: "new" | "opening" | "closed" = "new";
    let session: string | null = null;

    const finish = (code: number, reason: string) => {
      if (phase === "closed") return;
      phase = "closed";
      queue.close();
      stream.abort();
      handlers.onClose({ code, reason });
    };

    const queue = new SendQueue({
      maxBatchChars: options.maxBatchChars,
      post: async (frame) => {
        const res = await doFetch(`${base}/send`, {
          method: "POST",
          headers: { [SESSION_HEADER]: session ?? "" },
          body: frame,
          cache: "no-store",
        });
        await res.body?.cancel();
        if (res.status === 404) throw new Error("the relay no longer knows this session");
        if (!res.ok) throw new Error(`sending failed with HTTP ${res.status}`);
      },
      onError: (error) => finish(1006, error instanceof Error ? error.message : String(error)),
    });

    const onEvent = (event: SseEvent) => {
      if (phase === "closed") return;
      if (event.event === "message") {
        handlers.onMessage(event.data);
      } else if (event.event === "session") {
        const value = parseJsonObject(event.data)?.session;
        if (typeof value !== "string" || value === "") {
          finish(1006, "the relay sent no session id");
          return;
        }
        session = value;
        queue.start();
      } else if (event.event === "close") {
        const info = parseJsonObject(event.data);
        finish(
          typeof info?.code === "number" ? info.code : 1005,
          typeof info?.reason === "string" ? info.reason : "",
        );
      }
    };

    const open = async (first: string) => {
      let res: Response;
      try {
        res = await doFetch(base, {
          method: "POST",
          headers: { accept: "text/event-stream" },
          body: first,
          cache: "no-store",
          signal: stream.signal,
        });
      } catch (error) {
        finish(1006, `the relay could not be reached (${error})`);
        return;
      }
      if (!res.ok || !res.body) {
        const reason = await refusalReason(res);
        // The relay's own 404 for a wrong key is the WebSocket's close 1008 with the same words.
        const wrongKey = res.status === 404 && reason === UNKNOWN_MAP_OR_KEY;
        finish(wrongKey ? CloseCode.Policy : closeCodeFor(res.status), reason);
        return;
      }
      if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) {
        await res.body.cancel().catch(() => {});
        finish(1006, "the answer was not an event stream (a proxy in between?)");
        return;
      }
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        while (phase !== "closed") {
          const { value, done } = await reader.read();
          if (done) break;
          for (const event of parser.push(value)) onEvent(event);
        }
      } catch {
        // Aborted by close(), or the network dropped: the finish below tells which.
      } finally {
        reader.cancel().catch(() => {});
      }
      // Ending without `event: close` is what a dropped link or a killed relay looks like.
      finish(1006, "the event stream ended");
    };

    const transport: Transport = {
      name: HTTP_TRANSPORT_NAME,
      send(text) {
        if (phase === "closed") return;
        if (phase === "new") {
          phase = "opening";
          void open(text);
          return;
        }
        queue.push(text);
      },
      close(code = 1000, reason = "") {
        if (phase === "closed") return;
        if (session !== null) {
          // Tell the relay at once (the peer leaves now, not when the stream's end is noticed).
          // keepalive lets it go out even while the page unloads.
          doFetch(base, {
            method: "DELETE",
            headers: { [SESSION_HEADER]: session },
            keepalive: true,
          }).then((res) => res.body?.cancel(), () => {});
        }
        finish(code, reason);
      },
    };
    // The owner sends `hello` from onOpen, which must come after this factory has returned.
    queueMicrotask(() => {
      if (phase === "new") handlers.onOpen();
    });
    return transport;
  };
}

/** The HTTP fallback transport with the page's own `fetch`. */
export const httpTransport: TransportFactory = createHttpTransport();
