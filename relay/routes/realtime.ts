/** The real-time transports: the WebSocket at `/ws/:id` and the HTTP fallback at `/rt/:id`. */
import type { Context, Hono, MiddlewareHandler } from "hono";
import { Admission } from "../admission.ts";
import { readText } from "../body.ts";
import { upgradeDenoWebSocket } from "../deno_socket.ts";
import { HttpSessions, SESSION_HEADER } from "../http_transport.ts";
import { SUBPROTOCOLS } from "../protocol.ts";
import { originCheck, problem } from "./common.ts";
import { systemTimers } from "../timers.ts";
import type { Env, RouteContext } from "./common.ts";

/** Adds `GET /ws/:id` and the fallback's `POST /rt/:id`, `POST /rt/:id/send`, `DELETE /rt/:id`. */
export function realtimeRoutes(app: Hono<Env>, ctx: RouteContext): void {
  const { hub, options, addrOf } = ctx;
  const bodyTimeoutMs = hub.limits.bodyTimeoutMs;
  const origin = originCheck(options.origins);
  const sessions = new HttpSessions({ hub, heartbeatMs: options.fallbackHeartbeatMs });
  const frame = (c: Context<Env>) =>
    readText(c.req.raw, { maxBytes: hub.limits.maxFrameBytes * 4, timeoutMs: bodyTimeoutMs });
  const admission = new Admission(hub.limits);

  // The HTTP fallback transport (docs/PROTOCOL.md, "Fallback transport").
  app.post("/rt/:id", origin, async (c) => {
    if (hub.closing) return problem(c, 503, "server shutting down");
    const first = await frame(c);
    return sessions.open({ mapId: c.req.param("id"), addr: addrOf(c), transport: "http" }, first);
  });
  app.post("/rt/:id/send", origin, async (c) => {
    const delivered = sessions.deliver(
      c.req.param("id"),
      c.req.header(SESSION_HEADER) ?? "",
      await frame(c),
    );
    return delivered ? c.body(null, 204) : problem(c, 404, "no such session; open a new one");
  });
  app.delete("/rt/:id", origin, (c) => {
    const ended = sessions.end(c.req.param("id"), c.req.header(SESSION_HEADER) ?? "");
    return ended ? c.body(null, 204) : problem(c, 404, "no such session");
  });

  // One clock and timer set for every socket's delayed close.
  const socketTimers = systemTimers(() => performance.now());
  // A request without the upgrade is answered 426 whatever its Origin.
  app.get("/ws/:id", upgradeRequired, origin, (c) => {
    const offered = parseTokenList(c.req.header("sec-websocket-protocol") ?? "");
    if (offered === null) {
      return c.text(
        "invalid Sec-WebSocket-Protocol header: it must be a comma-separated list of tokens",
        400,
      );
    }
    const protocol = SUBPROTOCOLS.find((p) => offered.includes(p));
    if (offered.length > 0 && !protocol) {
      return c.text(
        `unsupported subprotocol ${offered.join(", ")}; this relay speaks ${
          SUBPROTOCOLS.join(", ")
        }`,
        400,
      );
    }
    if (hub.closing) return problem(c, 503, "server shutting down");
    // Refused before upgrading: once upgraded, Deno buffers a whole frame before we can say no.
    const addr = addrOf(c);
    const admitted = admission.admit(addr);
    if (!admitted.ok) {
      c.header("retry-after", "1");
      return problem(c, admitted.status, admitted.message);
    }
    return upgradeDenoWebSocket(c.req.raw, hub, {
      slot: admitted.slot,
      timers: socketTimers,
      protocol,
      idleTimeout: hub.limits.idleTimeout,
      info: {
        mapId: c.req.param("id"),
        addr,
        transport: "websocket",
      },
    });
  });
}

const upgradeRequired: MiddlewareHandler<Env> = async (c, next) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    return problem(
      c,
      426,
      "this endpoint needs a WebSocket upgrade; a proxy may have removed the Upgrade header",
    );
  }
  await next();
};

/** An RFC 7230 token: what a subprotocol name must be (RFC 6455 section 4.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a `1#token` header list (RFC 7230 section 7): elements separated by commas with
 * optional spaces or tabs around them, empty elements ignored. `null` when an element is not a
 * token, so a malformed header is refused instead of half understood.
 */
function parseTokenList(header: string): string[] | null {
  const tokens: string[] = [];
  for (const element of header.split(",")) {
    const token = element.replace(/^[ \t]+|[ \t]+$/g, "");
    if (token === "") continue;
    if (!TOKEN.test(token)) return null;
    tokens.push(token);
  }
  return tokens;
}
