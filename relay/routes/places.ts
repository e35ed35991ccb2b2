/** The offline gazetteer's HTTP face: `GET /api/places?q=` (find) and `?bbox=` (map labels). */
import type { Context, Hono } from "hono";
import type { BBox, PlaceIndex } from "../places.ts";
import { inProcessPlaces, type PlaceLookup, PlacesThread } from "../places_thread.ts";
import { problem } from "./common.ts";
import type { Env, RouteContext } from "./common.ts";

/** Longest query accepted; no place name in the data is longer. */
export const MAX_QUERY_LENGTH = 200;

// The data only changes with the relay's own build, so answers may be cached for a day.
const CACHE = { "cache-control": "public, max-age=86400" };

/**
 * Adds `GET /api/places`: `?q=TEXT&limit=N` (default 10, at most 50) or `?bbox=W,S,E,N&limit=N`
 * (default 50, at most 200). No key: the data is public and the same for every map. Answers come
 * from the app's `places` (main.ts gives a {@link PlacesThread}); `load` builds an index on this
 * thread instead, for tests. A gazetteer that fails answers 503 and is tried again next time.
 */
export function placesRoutes(
  app: Hono<Env>,
  ctx: RouteContext,
  load?: () => Promise<PlaceIndex>,
): void {
  const places: PlaceLookup = load
    ? inProcessPlaces(load)
    : ctx.options?.places ?? new PlacesThread();
  const answer = async (c: Context<Env>, ask: () => Promise<unknown>) => {
    try {
      return c.json({ places: await ask() }, 200, CACHE);
    } catch (err) {
      console.error(JSON.stringify({ event: "places_failed", error: String(err) }));
      return problem(c, 503, "the gazetteer is not available now; try again");
    }
  };

  app.get("/api/places", (c) => {
    const q = c.req.query("q");
    const bbox = c.req.query("bbox");
    if ((q === undefined) === (bbox === undefined)) {
      return problem(c, 400, "give either q=TEXT (a place name) or bbox=WEST,SOUTH,EAST,NORTH");
    }
    if (q !== undefined) {
      if (q.trim() === "" || q.length > MAX_QUERY_LENGTH) {
        return problem(
          c,
          400,
          `q must be 1 to ${MAX_QUERY_LENGTH} characters: received ${q.length}`,
        );
      }
      const limit = parseLimit(c, 10, 50);
      if (typeof limit === "string") return problem(c, 400, limit);
      return answer(c, () => places.search(q, limit));
    }
    const box = parseBBox(bbox ?? "");
    if (typeof box === "string") return problem(c, 400, box);
    const limit = parseLimit(c, 50, 200);
    if (typeof limit === "string") return problem(c, 400, limit);
    return answer(c, () => places.within(box, limit));
  });
}

/** `?limit=` as a whole number in 1..max, or what is wrong with it. */
function parseLimit(c: Context, fallback: number, max: number): number | string {
  const raw = c.req.query("limit");
  if (raw === undefined) return fallback;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= max)) {
    return `limit must be a whole number from 1 to ${max}: received '${raw}'`;
  }
  return n;
}

/**
 * `W,S,E,N` in degrees: longitudes in -180..180 (west > east crosses the antimeridian), latitudes
 * in -90..90 with south <= north; or what is wrong with it.
 */
export function parseBBox(raw: string): BBox | string {
  const parts = raw.split(",");
  const nums = parts.map((p) => (/^\s*-?\d+(\.\d+)?\s*$/.test(p) ? Number(p) : NaN));
  const usage = "bbox must be WEST,SOUTH,EAST,NORTH in degrees";
  if (parts.length !== 4 || nums.some((n) => !Number.isFinite(n))) {
    return `${usage}: received '${raw.slice(0, 100)}'`;
  }
  const [west, south, east, north] = nums;
  if (Math.abs(west) > 180 || Math.abs(east) > 180) {
    return `${usage}, longitudes from -180 to 180 (west > east crosses the antimeridian)`;
  }
  if (Math.abs(south) > 90 || Math.abs(north) > 90 || south > north) {
    return `${usage}, latitudes from -90 to 90 with south <= north`;
  }
  return { west, south, east, north };
}
