/** The embedded web client: its pages, its assets and `/api/config`. */
import type { Context, Hono } from "hono";
import { assets, pages, testHookAssets } from "../../public/assets.ts";
import { DEFAULT_SCHEMA_LIMITS } from "../protocol.ts";
import { basemapList } from "./basemaps.ts";
import { problem } from "./common.ts";
import type { Env, RouteContext } from "./common.ts";

/** Adds `/`, `/m/:id`, `/assets/:name` and `/api/config`. */
export function clientRoutes(app: Hono<Env>, { hub, options }: RouteContext): void {
  const html = (body: string) => (c: Context) => c.html(body, 200, { "cache-control": "no-cache" });
  app.get("/", html(pages.start));
  app.get("/m/:id", html(pages.map));
  const served = options.testHooks ? { ...assets, ...testHookAssets } : assets;
  app.get("/assets/:name", async (c) => {
    const asset = Object.hasOwn(served, c.req.param("name")) ? served[c.req.param("name")] : null;
    if (!asset) return problem(c, 404, "no such asset");
    const body = typeof asset.body === "string" ? asset.body : await asset.body();
    return c.body(body, 200, {
      "content-type": asset.contentType,
      "cache-control": "public, max-age=300",
    });
  });

  app.get("/api/config", (c) =>
    c.json({
      tiles: options.tiles,
      tilesAttribution: options.tilesAttribution,
      version: options.version,
      // The client keeps each frame (and so each edit) under this, instead of being closed 1009.
      maxFrameBytes: hub.limits.maxFrameBytes,
      // Imports in the page skip and split by the relay's own limits, as the import API does.
      maxVertices: hub.limits.maxVertices,
      maxPropsBytes: hub.limits.maxPropsBytes,
      maxOpsPerEdit: DEFAULT_SCHEMA_LIMITS.maxOpsPerEdit,
      geocoder: Boolean(options.geocoder),
      // Everything the basemap switcher offers (docs/PROTOCOL.md, "Basemaps").
      basemaps: basemapList(options),
    }));
}
