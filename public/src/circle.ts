/** Circles as RFC 7946 Polygons, their centre and radius kept in properties so they round-trip. */
import type { Geometry } from "../../relay/geometry.ts";
import * as geographiclib from "geographiclib-geodesic";

// The package is CommonJS: its exports arrive as the default export under Deno and esbuild.
const lib = (geographiclib as unknown as { default?: typeof geographiclib }).default ??
  geographiclib;

/** The property holding a circle's centre, `[longitude, latitude]`. */
export const CIRCLE_CENTER = "circle-center";
/** The property holding a circle's radius in metres. */
export const CIRCLE_RADIUS = "circle-radius-m";

/** How many vertices a circle's polygon has (its ring has one more, closing it). */
export const CIRCLE_STEPS = 64;

/**
 * The Polygon approximating a circle: `steps` points at `radius` metres from `center`
 * (`[longitude, latitude]`) along geodesics on WGS84, counterclockwise as RFC 7946 asks, each
 * longitude within -180..180 (a circle across 180° has edges that cross it).
 *
 * @example
 * ```ts
 * import { circlePolygon } from "./circle.ts";
 * circlePolygon([13.4, 52.5], 1000).coordinates[0].length; // 65
 * ```
 */
export function circlePolygon(
  center: readonly [number, number],
  radius: number,
  steps = CIRCLE_STEPS,
): Geometry & { type: "Polygon" } {
  if (!(radius > 0) || !Number.isFinite(radius)) {
    throw new RangeError(
      `A circle's radius must be a positive number of metres: received ${radius}`,
    );
  }
  const [lng, lat] = center;
  const ring: number[][] = [];
  for (let i = 0; i < steps; i++) {
    // Azimuths clockwise from north, taken in decreasing order: the ring runs counterclockwise.
    const azimuth = 360 - (360 * i) / steps;
    const p = lib.Geodesic.WGS84.Direct(lat, lng, azimuth, radius);
    // Rounded like the drawing tools' positions (about 1 cm), so stored copies compare equal.
    ring.push([round(wrap(p.lon2!)), round(p.lat2!)]);
  }
  ring.push([...ring[0]]);
  return { type: "Polygon", coordinates: [ring] };
}

/** The circle a feature's properties describe, or null if they describe none. */
export function circleOf(
  properties: Readonly<Record<string, unknown>>,
): { center: [number, number]; radius: number } | null {
  const c = properties[CIRCLE_CENTER];
  const r = properties[CIRCLE_RADIUS];
  if (
    !Array.isArray(c) || c.length !== 2 || !c.every((n) => typeof n === "number" && isFinite(n)) ||
    typeof r !== "number" || !(r > 0) || !Number.isFinite(r)
  ) return null;
  return { center: [c[0], c[1]], radius: r };
}

/**
 * The op that drops a circle's properties from a feature whose shape was edited vertex by vertex
 * (it is a polygon now, and a stale centre and radius would lie); none for other features.
 */
export function circleForgotten(
  fid: string,
  properties: Readonly<Record<string, unknown>>,
): { op: "props"; fid: string; set: Record<string, unknown>; unset: string[] }[] {
  const keys = [CIRCLE_CENTER, CIRCLE_RADIUS].filter((k) => Object.hasOwn(properties, k));
  return keys.length === 0 ? [] : [{ op: "props", fid, set: {}, unset: keys }];
}

/** The properties that describe a circle. */
export function circleProperties(
  center: readonly [number, number],
  radius: number,
): Record<string, unknown> {
  return {
    [CIRCLE_CENTER]: [round(center[0]), round(center[1])],
    [CIRCLE_RADIUS]: roundRadius(radius),
  };
}

function roundRadius(r: number): number {
  return Math.round(r * 100) / 100;
}

function round(n: number): number {
  return Math.round(n * 1e7) / 1e7;
}

// Stored positions stay in -180..180: an edge of a circle across 180° jumps from one side to the
// other, which RFC 7946 readers (and the measurements here) take as the short way across.
function wrap(d: number): number {
  return ((d + 540) % 360) - 180;
}
