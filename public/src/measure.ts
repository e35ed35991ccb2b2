/** Geodesic lengths and areas on the WGS84 ellipsoid, and how they are written for people. */
import type { Geometry, Position } from "../../relay/geometry.ts";
import * as geographiclib from "geographiclib-geodesic";

// The package is CommonJS: its exports arrive as the default export under Deno and esbuild.
const lib = (geographiclib as unknown as { default?: typeof geographiclib }).default ??
  geographiclib;
const WGS84 = lib.Geodesic.WGS84;

/** What can be measured of a geometry, in metres and square metres (zero where none applies). */
export interface Measurement {
  /** Total length of its lines. */
  length: number;
  /** Total length of its polygons' rings (holes included). */
  perimeter: number;
  /** Total area of its polygons (holes subtracted). */
  area: number;
}

/**
 * The geodesic length of a path through `positions` (longitude, latitude), in metres. Each step
 * is the shortest way on the ellipsoid, so a step from 179° to -179° is 2° long, across 180°.
 */
export function pathLength(positions: readonly Position[], closed = false): number {
  if (positions.length < 2) return 0;
  const p = new lib.PolygonArea.PolygonArea(WGS84, !closed);
  for (const [lng, lat] of positions) p.AddPoint(lat, lng);
  return p.Compute(false, true).perimeter;
}

/**
 * The geodesic area inside a ring of positions (closed or not), in square metres, whatever its
 * winding; edges are geodesics, so a ring across 180° measures as the small shape it is.
 */
export function ringArea(ring: readonly Position[]): number {
  const open = ringOpen(ring);
  if (open.length < 3) return 0;
  const p = new lib.PolygonArea.PolygonArea(WGS84, false);
  for (const [lng, lat] of open) p.AddPoint(lat, lng);
  // Signed (either winding), then unsigned: the smaller of the two areas the ring bounds.
  return Math.abs(p.Compute(false, true).area ?? 0);
}

function ringOpen(ring: readonly Position[]): readonly Position[] {
  const first = ring[0];
  const last = ring[ring.length - 1];
  return ring.length > 1 && first[0] === last[0] && first[1] === last[1] ? ring.slice(0, -1) : ring;
}

function addPolygon(m: Measurement, rings: readonly (readonly Position[])[]): void {
  rings.forEach((ring, i) => {
    m.perimeter += pathLength(ringOpen(ring), true);
    m.area += (i === 0 ? 1 : -1) * ringArea(ring);
  });
}

/**
 * Measures a geometry: lines' length, polygons' perimeter and area. Points measure zero.
 *
 * @example
 * ```ts
 * import { measureGeometry } from "./measure.ts";
 * measureGeometry({ type: "LineString", coordinates: [[0, 0], [0, 1]] }).length; // ~110 574 m
 * ```
 */
export function measureGeometry(geometry: Geometry): Measurement {
  const m: Measurement = { length: 0, perimeter: 0, area: 0 };
  const add = (g: Geometry): void => {
    switch (g.type) {
      case "LineString":
        m.length += pathLength(g.coordinates);
        break;
      case "MultiLineString":
        for (const line of g.coordinates) m.length += pathLength(line);
        break;
      case "Polygon":
        addPolygon(m, g.coordinates);
        break;
      case "MultiPolygon":
        for (const polygon of g.coordinates) addPolygon(m, polygon);
        break;
      case "GeometryCollection":
        for (const part of g.geometries) add(part);
        break;
      default:
        break;
    }
  };
  add(geometry);
  return m;
}

const FOOT = 0.3048;
const MILE = 1609.344;
const ACRE = 4046.8564224;

function round(value: number): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return value.toLocaleString("en-US", { maximumFractionDigits: digits });
}

/**
 * A length for people: metres below 1 km, kilometres above; with `imperial`, feet below a tenth
 * of a mile, miles above, after the metric value.
 *
 * @example
 * ```ts
 * import { formatLength } from "./measure.ts";
 * formatLength(111_195); // "111 km"
 * ```
 */
export function formatLength(metres: number, imperial = false): string {
  const metric = metres < 1000 ? `${round(metres)} m` : `${round(metres / 1000)} km`;
  if (!imperial) return metric;
  const miles = metres / MILE;
  return `${metric} (${miles < 0.1 ? `${round(metres / FOOT)} ft` : `${round(miles)} mi`})`;
}

/**
 * An area for people: m² below a hectare, hectares below 1 km², km² above; with `imperial`,
 * square feet, acres or square miles after the metric value.
 */
export function formatArea(squareMetres: number, imperial = false): string {
  const metric = squareMetres < 10_000
    ? `${round(squareMetres)} m²`
    : squareMetres < 1_000_000
    ? `${round(squareMetres / 10_000)} ha`
    : `${round(squareMetres / 1_000_000)} km²`;
  if (!imperial) return metric;
  const acres = squareMetres / ACRE;
  const other = acres < 1
    ? `${round(squareMetres / (FOOT * FOOT))} ft²`
    : acres < 640
    ? `${round(acres)} acres`
    : `${round(squareMetres / (MILE * MILE))} mi²`;
  return `${metric} (${other})`;
}

/** The lines the properties panel shows for a geometry's measurement, label and value. */
export function measurementLines(
  geometry: Geometry | null,
  imperial = false,
): [string, string][] {
  if (geometry === null) return [];
  const m = measureGeometry(geometry);
  const lines: [string, string][] = [];
  if (m.length > 0) lines.push(["Length", formatLength(m.length, imperial)]);
  if (m.area > 0 || m.perimeter > 0) {
    lines.push(["Area", formatArea(m.area, imperial)]);
    lines.push(["Perimeter", formatLength(m.perimeter, imperial)]);
  }
  return lines;
}
