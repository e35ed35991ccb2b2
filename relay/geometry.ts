/** GeoJSON geometry checks (RFC 7946), written by hand: they run on every edit of big polygons. */

export type Position = number[];

/** A GeoJSON geometry object. */
export type Geometry =
  | { type: "Point"; coordinates: Position }
  | { type: "MultiPoint"; coordinates: Position[] }
  | { type: "LineString"; coordinates: Position[] }
  | { type: "MultiLineString"; coordinates: Position[][] }
  | { type: "Polygon"; coordinates: Position[][] }
  | { type: "MultiPolygon"; coordinates: Position[][][] }
  | { type: "GeometryCollection"; geometries: Geometry[] };

const MAX_NESTING = 4;

/**
 * Says what is wrong with a would-be geometry, or `null` when it is valid: known type, positions of
 * two or three finite numbers with longitude in -180..180 and latitude in -90..90, lines of two or
 * more positions, polygon rings closed with four or more positions.
 *
 * @example
 * ```ts
 * import { geometryProblem } from "./geometry.ts";
 * geometryProblem({ type: "Point", coordinates: [200, 0] }); // "coordinates: longitude 200 is outside -180..180"
 * ```
 */
export function geometryProblem(input: unknown, depth = 0): string | null {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return "geometry must be an object";
  }
  const g = input as Record<string, unknown>;
  switch (g.type) {
    case "Point":
      return position(g.coordinates);
    case "MultiPoint":
      return list(g.coordinates, 0, position);
    case "LineString":
      return line(g.coordinates);
    case "MultiLineString":
      return list(g.coordinates, 0, line);
    case "Polygon":
      return polygon(g.coordinates);
    case "MultiPolygon":
      return list(g.coordinates, 0, polygon);
    case "GeometryCollection": {
      if (depth >= MAX_NESTING) return "geometry collections are nested too deeply";
      if (!Array.isArray(g.geometries)) return "geometries must be an array";
      for (const child of g.geometries) {
        const problem = geometryProblem(child, depth + 1);
        if (problem) return problem;
      }
      return null;
    }
    default:
      // Not String(g.type): an object whose own `toString` is not a function makes that throw.
      return typeof g.type === "string"
        ? `unknown geometry type ${JSON.stringify(g.type.slice(0, 40))}`
        : `unknown geometry type: it must be a string, not ${
          g.type === null ? "null" : typeof g.type
        }`;
  }
}

/** Counts the positions in a valid geometry. */
export function vertexCount(g: Geometry): number {
  switch (g.type) {
    case "Point":
      return 1;
    case "MultiPoint":
    case "LineString":
      return g.coordinates.length;
    case "MultiLineString":
    case "Polygon":
      return g.coordinates.reduce((n, ring) => n + ring.length, 0);
    case "MultiPolygon":
      return g.coordinates.reduce(
        (n, poly) => n + poly.reduce((m, ring) => m + ring.length, 0),
        0,
      );
    case "GeometryCollection":
      return g.geometries.reduce((n, child) => n + vertexCount(child), 0);
  }
}

function position(p: unknown): string | null {
  if (!Array.isArray(p) || p.length < 2 || p.length > 3) {
    return "coordinates: a position must be [lng, lat] or [lng, lat, alt]";
  }
  for (const n of p) {
    if (typeof n !== "number" || !Number.isFinite(n)) {
      return "coordinates: a position must hold finite numbers";
    }
  }
  if (p[0] < -180 || p[0] > 180) return `coordinates: longitude ${p[0]} is outside -180..180`;
  if (p[1] < -90 || p[1] > 90) return `coordinates: latitude ${p[1]} is outside -90..90`;
  return null;
}

function list(
  items: unknown,
  min: number,
  each: (item: unknown) => string | null,
): string | null {
  if (!Array.isArray(items)) return "coordinates must be an array";
  if (items.length < min) return `coordinates need at least ${min} entries`;
  for (const item of items) {
    const problem = each(item);
    if (problem) return problem;
  }
  return null;
}

function line(items: unknown): string | null {
  if (Array.isArray(items) && items.length < 2) return "a line needs at least 2 positions";
  return list(items, 2, position);
}

function ring(items: unknown): string | null {
  if (!Array.isArray(items) || items.length < 4) {
    return "a polygon ring needs at least 4 positions";
  }
  const problem = list(items, 4, position);
  if (problem) return problem;
  const first = items[0] as number[];
  const last = items[items.length - 1] as number[];
  if (first.length !== last.length || first.some((n, i) => n !== last[i])) {
    return "a polygon ring must be closed (first and last positions equal)";
  }
  return null;
}

function polygon(items: unknown): string | null {
  if (Array.isArray(items) && items.length === 0) return "a polygon needs at least one ring";
  return list(items, 1, ring);
}
