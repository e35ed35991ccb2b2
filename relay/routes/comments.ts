/** The comments API: `GET .../comments` (JSON or the GeoJSON layer), `GET`/`PATCH .../settings`. */
import type { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import * as v from "valibot";
import { readText } from "../body.ts";
import { exportName } from "../export_names.ts";
import { MapSettingsSchema } from "../protocol.ts";
import { originCheck, problem, requestKey } from "./common.ts";
import type { Env, RouteContext } from "./common.ts";
import { REFUSAL_STATUS } from "./maps.ts";

/** A settings body holds one small object. */
const MAX_SETTINGS_BYTES = 4096;
const SettingsBody = v.strictObject(MapSettingsSchema.entries);

/** Adds the comments and settings routes; `PATCH` checks Origin like every changing route. */
export function commentRoutes(app: Hono<Env>, ctx: RouteContext): void {
  const { hub, options } = ctx;
  const origin = originCheck(options.origins);

  app.get("/api/maps/:id/comments", async (c) => {
    const format = c.req.query("format") ?? "json";
    if (format !== "json" && format !== "geojson") {
      return problem(c, 400, 'format must be "geojson" (or absent, for the comments as JSON)');
    }
    const result = await hub.comments.read(c.req.param("id"), requestKey(c), format);
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    const headers: Record<string, string> = { "cache-control": "no-store" };
    if (format === "json") {
      headers["content-type"] = "application/json";
    } else {
      headers["content-type"] = "application/geo+json";
      const name = exportName(result.value.title, "geojson").replace(/\.geojson$/, "");
      headers["content-disposition"] = `attachment; filename="${name}-comments.geojson"`;
    }
    return c.body(result.value.body, 200, headers);
  });

  app.get("/api/maps/:id/settings", async (c) => {
    const result = await hub.comments.settings(c.req.param("id"), requestKey(c));
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    return c.json(result.value, 200, { "cache-control": "no-store" });
  });

  app.patch("/api/maps/:id/settings", origin, async (c) => {
    const text = await readText(c.req.raw, {
      maxBytes: MAX_SETTINGS_BYTES,
      timeoutMs: hub.limits.bodyTimeoutMs,
    });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new HTTPException(400, { message: "body is not valid JSON" });
    }
    const parsed = v.safeParse(SettingsBody, body);
    if (!parsed.success) {
      throw new HTTPException(400, {
        message: 'body must be {"viewersMayComment": true} or {"viewersMayComment": false}',
      });
    }
    const result = await hub.comments.changeSettings(
      c.req.param("id"),
      requestKey(c),
      parsed.output,
    );
    if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
    return c.json(result.value, 200, { "cache-control": "no-store" });
  });
}
