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

/** Rings with more vertices than this are measured by the fast method (see {@link ringArea}). */
export const EXACT_RING_VERTICES = 1_000;
/** Edges shorter than this (degrees, each way) are measured with the local radii of curvature. */
const SHORT_EDGE_DEGREES = 0.05;

const A = 6378137;
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const E = Math.sqrt(E2);
const RAD = Math.PI / 180;

/** The ellipsoid's authalic `q` at a latitude (radians): equal-area latitude's building block. */
function authalicQ(phi: number): number {
  const s = Math.sin(phi);
  return (1 - E2) * (s / (1 - E2 * s * s) - Math.log((1 - E * s) / (1 + E * s)) / (2 * E));
}
const QP = authalicQ(Math.PI / 2);
/** The radius of the sphere with the ellipsoid's area. */
const AUTHALIC_RADIUS = A * Math.sqrt(QP / 2);

/** Longitude difference folded into -180..180: an edge across 180° is the short way. */
function lngDelta(from: number, to: number): number {
  const d = (to - from) % 360;
  return d > 180 ? d - 360 : d < -180 ? d + 360 : d;
}

/**
 * One edge's geodesic length in metres: exact (GeographicLib) for long edges; for short ones
 * (under ~5 km, most of a detailed coastline) the local radii of curvature, which agree to
 * better than a millimetre per kilometre and are about a hundred times faster.
 */
function edgeLength(a: Position, b: Position): number {
  const dLng = lngDelta(a[0], b[0]);
  const dLat = b[1] - a[1];
  if (Math.abs(dLng) > SHORT_EDGE_DEGREES || Math.abs(dLat) > SHORT_EDGE_DEGREES) {
    return WGS84.Inverse(a[1], a[0], b[1], a[0] + dLng).s12 ?? 0;
  }
  const phi = ((a[1] + b[1]) / 2) * RAD;
  const w = 1 - E2 * Math.sin(phi) ** 2;
  const meridian = (A * (1 - E2)) / (w * Math.sqrt(w));
  const normal = A / Math.sqrt(w);
  return Math.hypot(meridian * dLat * RAD, normal * Math.cos(phi) * dLng * RAD);
}

/**
 * The geodesic length of a path through `positions` (longitude, latitude), in metres. Each step
 * is the shortest way on the ellipsoid, so a step from 179° to -179° is 2° long, across 180°.
 */
export function pathLength(positions: readonly Position[], closed = false): number {
  if (positions.length < 2) return 0;
  let total = 0;
  for (let i = 1; i < positions.length; i++) total += edgeLength(positions[i - 1], positions[i]);
  if (closed) total += edgeLength(positions[positions.length - 1], positions[0]);
  return total;
}

/**
 * The geodesic area inside a ring of positions (closed or not), in square metres, whatever its
 * winding; edges are geodesics, so a ring across 180° measures as the small shape it is. Up to
 * {@link EXACT_RING_VERTICES} vertices it is GeographicLib's exact area; a bigger ring (a
 * detailed country, whose edges are short) is measured on the authalic sphere, the sphere of
 * equal area, within about 0.01 % of it and without stalling the page on 70 000 vertices.
 */
export function ringArea(ring: readonly Position[]): number {
  const open = ringOpen(ring);
  if (open.length < 3) return 0;
  if (open.length > EXACT_RING_VERTICES) return authalicArea(open);
  const p = new lib.PolygonArea.PolygonArea(WGS84, false);
  for (const [lng, lat] of open) p.AddPoint(lat, lng);
  // Signed (either winding), then unsigned: the smaller of the two areas the ring bounds.
  return Math.abs(p.Compute(false, true).area ?? 0);
}

/** A ring's area with its edges as great circles on the authalic sphere (exact spherical excess). */
export function authalicArea(open: readonly Position[]): number {
  const n = open.length;
  // tan(β/2) of each vertex's authalic latitude β, computed once per vertex.
  const t = open.map((p) => Math.tan(Math.asin(authalicQ(p[1] * RAD) / QP) / 2));
  let excess = 0;
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    const half = (lngDelta(open[i][0], open[j][0]) * RAD) / 2;
    excess += 2 * Math.atan2(Math.tan(half) * (t[i] + t[j]), 1 + t[i] * t[j]);
  }
  const whole = 4 * Math.PI;
  const e = Math.abs(excess) % whole;
  return Math.min(e, whole - e) * AUTHALIC_RADIUS ** 2;
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
