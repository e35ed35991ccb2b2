/** Brings shapes drawn on a world copy (longitude beyond ±180) back into the protocol's range. */
import type { Geometry } from "../../relay/protocol.ts";

type Position = number[];

function positions(g: Geometry): Position[] {
  switch (g.type) {
    case "Point":
      return [g.coordinates];
    case "MultiPoint":
    case "LineString":
      return g.coordinates;
    case "MultiLineString":
    case "Polygon":
      return g.coordinates.flat();
    case "MultiPolygon":
      return g.coordinates.flat(2);
    case "GeometryCollection":
      return g.geometries.flatMap(positions);
  }
}

function mapPositions(g: Geometry, f: (p: Position) => Position): Geometry {
  switch (g.type) {
    case "Point":
      return { type: g.type, coordinates: f(g.coordinates) };
    case "MultiPoint":
    case "LineString":
      return { type: g.type, coordinates: g.coordinates.map(f) };
    case "MultiLineString":
    case "Polygon":
      return { type: g.type, coordinates: g.coordinates.map((r) => r.map(f)) };
    case "MultiPolygon":
      return {
        type: g.type,
        coordinates: g.coordinates.map((p) => p.map((r) => r.map(f))),
      };
    case "GeometryCollection":
      return {
        type: g.type,
        geometries: g.geometries.map((c) => mapPositions(c, f)),
      };
  }
}

/**
 * Leaflet reports positions on the world copy where the user drew, e.g. longitude -200. The whole
 * shape is moved by a multiple of 360° so its middle lies in -180..180, and any position still
 * outside (a shape across the antimeridian) is clamped, so the relay accepts it.
 *
 * @example
 * ```ts
 * import { normalizeGeometry } from "./normalize.ts";
 * normalizeGeometry({ type: "Point", coordinates: [-200, 10] }); // { type: "Point", coordinates: [160, 10] }
 * ```
 */
export function normalizeGeometry(g: Geometry): Geometry {
  const all = positions(g);
  if (all.length === 0) return g;
  let west = Infinity;
  let east = -Infinity;
  for (const p of all) {
    west = Math.min(west, p[0]);
    east = Math.max(east, p[0]);
  }
  const mid = (west + east) / 2;
  const shift = mid > 180
    ? Math.ceil((mid - 180) / 360) * 360
    : mid < -180
    ? -Math.ceil((-180 - mid) / 360) * 360
    : 0;
  const fits = shift === 0 && west >= -180 && east <= 180 &&
    all.every((p) => p[1] >= -90 && p[1] <= 90);
  if (fits) return g;
  const round = (n: number) => Math.round(n * 1e7) / 1e7;
  return mapPositions(g, (p) => {
    const lng = Math.max(-180, Math.min(180, round(p[0] - shift)));
    const lat = Math.max(-90, Math.min(90, p[1]));
    return p.length > 2 ? [lng, lat, ...p.slice(2)] : [lng, lat];
  });
}
