/** `GET /api/geocode?q=`: the online geocoder through the relay, when `--geocoder` names one. */
import type { Hono } from "hono";
import { problem } from "./common.ts";
import type { Env, RouteContext } from "./common.ts";

// Longer than any place name people type; a bound on what is sent upstream.
const MAX_QUERY = 200;

/** Adds `/api/geocode`: 404 without `--geocoder`, so nothing leaves the server unless allowed. */
export function geocodeRoutes(app: Hono<Env>, { options, addrOf }: RouteContext): void {
  app.get("/api/geocode", async (c) => {
    const geocoder = options.geocoder;
    if (!geocoder) return problem(c, 404, "no online geocoder is configured (--geocoder)");
    const q = (c.req.query("q") ?? "").trim();
    if (q === "" || q.length > MAX_QUERY) {
      return problem(c, 400, `q must be 1 to ${MAX_QUERY} characters: received ${q.length}`);
    }
    // The browser's preferred languages, so names come back in them (part of the cache key).
    const language = (c.req.header("accept-language") ?? "").slice(0, 100);
    const result = await geocoder.search(q, addrOf(c), language);
    if (!result.ok) {
      return problem(
        c,
        result.status,
        result.detail,
        result.retryAfter ? { "retry-after": String(result.retryAfter) } : {},
      );
    }
    return c.json({ places: result.places }, 200, { "cache-control": "private, max-age=300" });
  });
}
