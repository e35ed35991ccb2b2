/** The Hono app: the maps API, the WebSocket upgrade, health and metrics, and the embedded client. */
import { Hono } from "hono";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { assets, pages } from "../public/assets.ts";
import type { Hub } from "./hub.ts";
import { upgradeDenoWebSocket } from "./deno_socket.ts";
import { HttpSessions, SESSION_HEADER } from "./http_transport.ts";
import { parseImport, SUBPROTOCOLS } from "./protocol.ts";
import { clientAddress, isTrustedProxy } from "./proxy.ts";

/** Options for {@link createApp}. */
export interface AppOptions {
  hub: Hub;
  /** Allowed browser origins; empty: only the page's own host. */
  origins: readonly string[];
  /** Direct peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed. */
  trustProxy: readonly string[];
  tiles: string | null;
  tilesAttribution: string | null;
  version: string;
  /** Largest `PUT .../features` body, in bytes. @default 64 MiB */
  maxImportBytes?: number;
  /** Heartbeat of the HTTP fallback stream, in ms. @default 15000 */
  fallbackHeartbeatMs?: number;
}

/** What Deno.serve passes as the second argument, which Hono exposes as `c.env`. */
export type Env = { Bindings: { remoteAddr?: { hostname: string } } };

const MAX_TITLE = 200;

/** Builds the relay's HTTP surface; `Deno.serve(app.fetch)` serves it. */
export function createApp(options: AppOptions): Hono<Env> {
  const { hub } = options;
  const app = new Hono<Env>();
  const tilesOrigin = options.tiles ? new URL(options.tiles.replace(/\{[a-z]\}/g, "0")).origin : "";

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "blob:", ...(tilesOrigin ? [tilesOrigin] : [])],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
      // HSTS belongs to the TLS edge (HAProxy); on plain http it would be meaningless.
      strictTransportSecurity: false,
    }),
  );

  app.onError((err, c) => {
    if (err instanceof HTTPException) return problem(c, err.status, err.message);
    console.error(JSON.stringify({ event: "http_error", path: c.req.path, error: String(err) }));
    return problem(c, 500, "internal error");
  });
  app.notFound((c) => problem(c, 404, "not found"));

  const html = (body: string) => (c: Context) => c.html(body, 200, { "cache-control": "no-cache" });
  app.get("/", html(pages.start));
  app.get("/m/:id", html(pages.map));
  app.get("/assets/:name", (c) => {
    const asset = Object.hasOwn(assets, c.req.param("name")) ? assets[c.req.param("name")] : null;
    if (!asset) return problem(c, 404, "no such asset");
    return c.body(
      typeof asset.body === "string" ? asset.body : new Uint8Array(asset.body),
      200,
      { "content-type": asset.contentType, "cache-control": "public, max-age=300" },
    );
  });

  app.get("/api/config", (c) =>
    c.json({
      tiles: options.tiles,
      tilesAttribution: options.tilesAttribution,
      version: options.version,
      // The client keeps each frame (and so each edit) under this, instead of being closed 1009.
      maxFrameBytes: hub.limits.maxFrameBytes,
    }));

  app.post("/api/maps", bodyLimit({ maxSize: 4096, onError: tooLarge }), async (c) => {
    const text = await c.req.text();
    let title = "Untitled map";
    if (text.trim() !== "") {
      const body = parseJson(text);
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new HTTPException(400, {
          message: 'body must be a JSON object like {"title": "..."}',
        });
      }
      if ("title" in body && body.title !== undefined) {
        if (typeof body.title !== "string" || body.title.trim().length > MAX_TITLE) {
          throw new HTTPException(400, {
            message: `title must be a string of at most ${MAX_TITLE} characters`,
          });
        }
        if (body.title.trim() !== "") title = body.title.trim();
      }
    }
    const { id, editKey, viewKey } = await hub.createMap(title);
    const base = publicOrigin(c, options.trustProxy);
    return c.json({
      id,
      title,
      editKey,
      viewKey,
      editUrl: `${base}/m/${id}#key=${editKey}`,
      viewUrl: `${base}/m/${id}#key=${viewKey}`,
    }, 201);
  });

  app.get("/api/maps/:id/features", async (c) => {
    const result = await hub.readFeatures(c.req.param("id"), requestKey(c));
    if (!result.ok) return problem(c, result.status, result.message);
    return c.body(result.value, 200, {
      "content-type": "application/geo+json",
      "cache-control": "no-store",
    });
  });

  app.put(
    "/api/maps/:id/features",
    bodyLimit({ maxSize: options.maxImportBytes ?? 64 << 20, onError: tooLarge }),
    async (c) => {
      const parsed = parseImport(parseJson(await c.req.text()));
      if (!parsed.ok) {
        throw new HTTPException(422, { message: `not a valid FeatureCollection: ${parsed.error}` });
      }
      const result = await hub.importFeatures(c.req.param("id"), requestKey(c), parsed.features);
      if (!result.ok) return problem(c, result.status, result.message);
      return c.json(result.value);
    },
  );

  app.get(
    "/healthz",
    (c) =>
      c.json(
        { status: hub.closing ? "stopping" : "ok", version: options.version, ...hub.stats() },
        hub.closing ? 503 : 200,
      ),
  );

  app.get("/metrics", (c) =>
    c.body(hub.metrics.render(hub.stats()), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }));

  const sessions = new HttpSessions({ hub, heartbeatMs: options.fallbackHeartbeatMs });
  const frameLimit = bodyLimit({ maxSize: hub.limits.maxFrameBytes * 4, onError: tooLarge });
  const addrOf = (c: Context<Env>) =>
    clientAddress(c.env?.remoteAddr?.hostname, c.req.header("x-forwarded-for"), options.trustProxy);
  const checkOrigin = (c: Context<Env>) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !originAllowed(origin, c.req.header("host"), options.origins)) {
      throw new HTTPException(403, { message: `origin ${origin} is not allowed to connect` });
    }
  };

  // The HTTP fallback transport (docs/PROTOCOL.md, "Fallback transport").
  app.post("/rt/:id", frameLimit, async (c) => {
    checkOrigin(c);
    if (hub.closing) return problem(c, 503, "server shutting down");
    return sessions.open(
      { mapId: c.req.param("id"), addr: addrOf(c), transport: "http" },
      await c.req.text(),
    );
  });
  app.post("/rt/:id/send", frameLimit, async (c) => {
    checkOrigin(c);
    const delivered = sessions.deliver(
      c.req.param("id"),
      c.req.header(SESSION_HEADER) ?? "",
      await c.req.text(),
    );
    return delivered ? c.body(null, 204) : problem(c, 404, "no such session; open a new one");
  });
  app.delete("/rt/:id", (c) => {
    checkOrigin(c);
    const ended = sessions.end(c.req.param("id"), c.req.header(SESSION_HEADER) ?? "");
    return ended ? c.body(null, 204) : problem(c, 404, "no such session");
  });

  app.get("/ws/:id", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return problem(
        c,
        426,
        "this endpoint needs a WebSocket upgrade; a proxy may have removed the Upgrade header",
      );
    }
    checkOrigin(c);
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
    return upgradeDenoWebSocket(c.req.raw, hub, {
      protocol,
      idleTimeout: hub.limits.idleTimeout,
      info: {
        mapId: c.req.param("id"),
        addr: addrOf(c),
        transport: "websocket",
      },
    });
  });

  return app;
}

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

function tooLarge(c: Context): Response {
  return problem(c, 413, "request body too large");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HTTPException(400, { message: "body is not valid JSON" });
  }
}

/** The key from `?key=` (the contract) or `Authorization: Bearer` (keeps it out of access logs). */
function requestKey(c: Context): string {
  const auth = c.req.header("authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return c.req.query("key") ?? "";
}

/** An RFC 9457 problem response. */
function problem(c: Context, status: number, detail: string): Response {
  return c.body(
    JSON.stringify({ type: "about:blank", title: statusTitle(status), status, detail }),
    status as ContentfulStatusCode,
    { "content-type": "application/problem+json" },
  );
}

function statusTitle(status: number): string {
  const titles: Record<number, string> = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Content Too Large",
    422: "Unprocessable Content",
    426: "Upgrade Required",
    500: "Internal Server Error",
    503: "Service Unavailable",
  };
  return titles[status] ?? "Error";
}

function originAllowed(
  origin: string,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (allowed.length > 0) return allowed.includes(origin);
  if (!URL.canParse(origin) || host === undefined) return false;
  return new URL(origin).host === host;
}

/** The origin users reach us at: behind a trusted proxy, its `X-Forwarded-Proto` counts. */
function publicOrigin(c: Context<Env>, trustProxy: readonly string[]): string {
  const url = new URL(c.req.url);
  const host = c.req.header("host") ?? url.host;
  const forwarded = c.req.header("x-forwarded-proto");
  const proto = isTrustedProxy(c.env?.remoteAddr?.hostname, trustProxy) &&
      (forwarded === "https" || forwarded === "http")
    ? `${forwarded}:`
    : url.protocol;
  return `${proto}//${host}`;
}
