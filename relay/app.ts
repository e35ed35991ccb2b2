/** The Hono app: the maps API, the WebSocket upgrade, health and metrics, and the embedded client. */
import { Hono } from "hono";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { assets, pages, testHookAssets } from "../public/assets.ts";
import { AddressBuckets } from "./address_limits.ts";
import { BodyRefused, closingAnswer, readBody, readText, refuseUnread } from "./body.ts";
import type { Hub, Refusal } from "./hub.ts";
import { upgradeDenoWebSocket } from "./deno_socket.ts";
import { Admission } from "./admission.ts";
import { HttpSessions, SESSION_HEADER } from "./http_transport.ts";
import { Imports } from "./imports.ts";
import { SUBPROTOCOLS } from "./protocol.ts";
import { clientAddress, isTrustedProxy } from "./proxy.ts";
import { shareOrigin } from "./share_links.ts";

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
  /** Largest `PUT .../features` body, in bytes. @default the hub's `maxImportBytes` */
  maxImportBytes?: number;
  /** Origin share links are built from (`--public-url`). @default the first of `origins` */
  publicUrl?: string | null;
  /** The address the server listens on, once known: a `Host` naming it may be used in links. */
  listen?: () => { hostname: string; port: number } | undefined;
  /** Admits and parses imports. @default one per map and address, 4 at once, on workers */
  imports?: Imports;
  /** Milliseconds clock for the per-address limits. @default Date.now */
  now?: () => number;
  /** Heartbeat of the HTTP fallback stream, in ms. @default 15000 */
  fallbackHeartbeatMs?: number;
  /** Serve the map page with its test hook, `window.duplex` (`--test-hooks`). @default false */
  testHooks?: boolean;
}

/** What Deno.serve passes as the second argument, which Hono exposes as `c.env`. */
export type Env = { Bindings: { remoteAddr?: { hostname: string } } };

/** The HTTP status of each way the hub says no. */
const REFUSAL_STATUS: Record<Refusal, number> = {
  not_found: 404,
  forbidden: 403,
  invalid: 422,
  unavailable: 500,
  capacity: 503,
  not_saved: 503,
};

const MAX_TITLE = 200;
/** `POST /api/maps` bodies hold a title and nothing else. */
const MAX_CREATE_BYTES = 4096;

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
    if (err instanceof HTTPException) {
      const res = problem(c, err.status, err.message);
      // readBody stopped reading and the rest of the body may still be coming.
      if (err instanceof BodyRefused && err.unread) return closingAnswer(res);
      return refuseUnread(c.req.raw, res, hub.limits.bodyTimeoutMs);
    }
    console.error(JSON.stringify({ event: "http_error", path: c.req.path, error: String(err) }));
    return problem(c, 500, "internal error");
  });
  app.notFound((c) => problem(c, 404, "not found"));

  const html = (body: string) => (c: Context) => c.html(body, 200, { "cache-control": "no-cache" });
  app.get("/", html(pages.start));
  app.get("/m/:id", html(pages.map));
  const served = options.testHooks ? { ...assets, ...testHookAssets } : assets;
  app.get("/assets/:name", (c) => {
    const asset = Object.hasOwn(served, c.req.param("name")) ? served[c.req.param("name")] : null;
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

  const limits = hub.limits;
  const bodyTimeoutMs = limits.bodyTimeoutMs;
  const creates = new AddressBuckets({
    rate: limits.createRate / 60,
    burst: limits.createBurst,
    now: options.now ?? Date.now,
  });
  const imports = options.imports ?? new Imports({ maxConcurrent: 4 });
  const addrOf = (c: Context<Env>) =>
    clientAddress(c.env?.remoteAddr?.hostname, c.req.header("x-forwarded-for"), options.trustProxy);
  // State-changing routes apply the WebSocket's Origin rule, so a foreign page cannot use a
  // visitor's browser (a text/plain POST needs no preflight); non-browsers send no Origin.
  const checkOrigin = (c: Context<Env>) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && !originAllowed(origin, c.req.header("host"), options.origins)) {
      throw new HTTPException(403, { message: `origin ${origin} is not allowed to connect` });
    }
  };

  app.post("/api/maps", async (c) => {
    checkOrigin(c);
    if (!creates.take(addrOf(c))) {
      const wait = creates.retryAfterSeconds;
      return refuseUnread(
        c.req.raw,
        problem(c, 429, `too many maps created from your address; try again in ${wait} s`, {
          "retry-after": String(wait),
        }),
        bodyTimeoutMs,
      );
    }
    const text = await readText(c.req.raw, {
      maxBytes: MAX_CREATE_BYTES,
      timeoutMs: bodyTimeoutMs,
    });
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
    const forwarded = c.req.header("x-forwarded-proto");
    const base = shareOrigin({
      publicUrl: options.publicUrl ?? null,
      origins: options.origins,
      host: c.req.header("host"),
      // Behind a trusted proxy, its X-Forwarded-Proto says whether users came over https.
      protocol: isTrustedProxy(c.env?.remoteAddr?.hostname, options.trustProxy) &&
          (forwarded === "https" || forwarded === "http")
        ? `${forwarded}:`
        : new URL(c.req.url).protocol,
      listen: options.listen?.(),
    });
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
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    return c.body(result.value, 200, {
      "content-type": "application/geo+json",
      "cache-control": "no-store",
    });
  });

  app.put("/api/maps/:id/features", async (c) => {
    checkOrigin(c);
    const mapId = c.req.param("id");
    const key = requestKey(c);
    // Map and key first: nobody without the edit key gets the relay to read a big body.
    const auth = hub.authoriseEdit(mapId, key);
    if (!auth.ok) {
      return refuseUnread(
        c.req.raw,
        problem(c, REFUSAL_STATUS[auth.reason], auth.message),
        bodyTimeoutMs,
      );
    }
    const slot = imports.begin(mapId, addrOf(c));
    if (!slot.ok) {
      const why = {
        map: "an import into this map is already running",
        addr: "an import from your address is already running",
        relay: "the server is busy with other imports",
      }[slot.reason];
      const res = problem(c, slot.reason === "relay" ? 503 : 429, `${why}; try again shortly`, {
        "retry-after": "2",
      });
      return refuseUnread(c.req.raw, res, bodyTimeoutMs);
    }
    try {
      const bytes = await readBody(c.req.raw, {
        maxBytes: options.maxImportBytes ?? limits.maxImportBytes,
        timeoutMs: bodyTimeoutMs,
      });
      const parsed = await imports.parse(bytes);
      if (!parsed.ok) return problem(c, parsed.status, parsed.message);
      const result = await hub.importFeatures(mapId, key, parsed.features);
      if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
      return c.json(result.value);
    } finally {
      slot.release();
    }
  });

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
  const frame = (c: Context<Env>) =>
    readText(c.req.raw, { maxBytes: hub.limits.maxFrameBytes * 4, timeoutMs: bodyTimeoutMs });
  const admission = new Admission(hub.limits);

  // The HTTP fallback transport (docs/PROTOCOL.md, "Fallback transport").
  app.post("/rt/:id", async (c) => {
    checkOrigin(c);
    if (hub.closing) return problem(c, 503, "server shutting down");
    const first = await frame(c);
    return sessions.open({ mapId: c.req.param("id"), addr: addrOf(c), transport: "http" }, first);
  });
  app.post("/rt/:id/send", async (c) => {
    checkOrigin(c);
    const delivered = sessions.deliver(
      c.req.param("id"),
      c.req.header(SESSION_HEADER) ?? "",
      await frame(c),
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
    // Refused before upgrading: once upgraded, Deno buffers a whole frame before we can say no.
    const admitted = admission.admit(addrOf(c));
    if (!admitted.ok) {
      c.header("retry-after", "1");
      return problem(c, admitted.status, admitted.message);
    }
    return upgradeDenoWebSocket(c.req.raw, hub, {
      slot: admitted.slot,
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
function problem(
  c: Context,
  status: number,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return c.body(
    JSON.stringify({ type: "about:blank", title: statusTitle(status), status, detail }),
    status as ContentfulStatusCode,
    { "content-type": "application/problem+json", ...headers },
  );
}

function statusTitle(status: number): string {
  const titles: Record<number, string> = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    413: "Content Too Large",
    422: "Unprocessable Content",
    426: "Upgrade Required",
    429: "Too Many Requests",
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
