/** The Hono app: security headers and error answers around the route groups in relay/routes/. */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { secureHeaders } from "hono/secure-headers";
import type { TileSource } from "./basemaps/options.ts";
import { fill } from "./basemaps/options.ts";
import type { BasemapRegistry } from "./basemaps/registry.ts";
import { BodyRefused, closingAnswer, refuseUnread } from "./body.ts";
import type { Hub } from "./hub.ts";
import { clientAddress } from "./proxy.ts";
import type { Geocoder } from "./geocoder.ts";
import { basemapRoutes } from "./routes/basemaps.ts";
import { clientRoutes } from "./routes/client.ts";
import { commentRoutes } from "./routes/comments.ts";
import { problem } from "./routes/common.ts";
import type { Env, RouteContext } from "./routes/common.ts";
import { geocodeRoutes } from "./routes/geocode.ts";
import { mapRoutes } from "./routes/maps.ts";
import { historyRoutes } from "./routes/history.ts";
import { opsRoutes } from "./routes/ops.ts";
import { placesRoutes } from "./routes/places.ts";
import type { PlaceLookup } from "./places_thread.ts";
import { realtimeRoutes } from "./routes/realtime.ts";

export type { Env } from "./routes/common.ts";

/** Options for {@link createApp}. */
export interface AppOptions {
  /** The hub the routes act on. */
  hub: Hub;
  /** Allowed browser origins; empty: only the page's own host. */
  origins: readonly string[];
  /** Direct peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed. */
  trustProxy: readonly string[];
  /** Raster tile URL template for the client, or `null` for the built-in vector basemap. */
  tiles: string | null;
  /** Attribution shown with those tiles. */
  tilesAttribution: string | null;
  /** The `--basemap` files, opened. @default none */
  basemaps?: BasemapRegistry;
  /** Every `--tiles` source, the unnamed one included. @default none */
  tileSources?: readonly TileSource[];
  /** The relay's version, in `/api/config` and `/healthz`. */
  version: string;
  /** Origin share links are built from (`--public-url`). @default the first of `origins` */
  publicUrl?: string | null;
  /** The address the server listens on, once known: a `Host` naming it may be used in links. */
  listen?: () => { hostname: string; port: number } | undefined;
  /** Heartbeat of the HTTP fallback stream, in ms. @default 15000 */
  fallbackHeartbeatMs?: number;
  /** Answers `/api/places`; the caller closes it. @default a `PlacesThread` of the app's own */
  places?: PlaceLookup;
  /** The online geocoder (`--geocoder`); without it `/api/geocode` answers 404. @default null */
  geocoder?: Geocoder | null;
  /** Serve the map page with its test hook, `window.duplex` (`--test-hooks`). @default false */
  testHooks?: boolean;
}

/** Builds the relay's HTTP surface; `Deno.serve(app.fetch)` serves it. */
export function createApp(options: AppOptions): Hono<Env> {
  const { hub } = options;
  const app = new Hono<Env>();
  const tileOrigins = new Set(
    [options.tiles, ...(options.tileSources ?? []).map((t) => t.url)]
      .filter((u): u is string => !!u)
      .map((u) => new URL(fill(u)).origin),
  );

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:", "blob:", ...tileOrigins],
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

  const ctx: RouteContext = {
    hub,
    options,
    addrOf: (c) =>
      clientAddress(
        c.env?.remoteAddr?.hostname,
        c.req.header("x-forwarded-for"),
        options.trustProxy,
      ),
  };
  clientRoutes(app, ctx);
  mapRoutes(app, ctx);
  commentRoutes(app, ctx);
  historyRoutes(app, ctx);
  opsRoutes(app, ctx);
  realtimeRoutes(app, ctx);
  geocodeRoutes(app, ctx);
  placesRoutes(app, ctx);
  basemapRoutes(app, ctx);
  return app;
}
