/** Recognises rectangles among polygons, so a rectangle someone drew stays one for everyone. */
import type { Geometry } from "../../relay/protocol.ts";

/**
 * `[west, south, east, north]` when `geometry` is a rectangle in longitude and latitude: a polygon
 * with one ring of four corners (plus the closing position), its edges running along meridians
 * and parallels, with an area. GeoJSON has no rectangle type; this is how the drawing tools' rectangles
 * come back from the wire. Anything else: `null`.
 *
 * @example
 * ```ts
 * import { rectangleBounds } from "./rectangle.ts";
 * rectangleBounds({ type: "Polygon", coordinates: [[[0, 0], [0, 1], [2, 1], [2, 0], [0, 0]]] });
 * // [0, 0, 2, 1]
 * ```
 */
export function rectangleBounds(geometry: Geometry): [number, number, number, number] | null {
  if (geometry.type !== "Polygon" || geometry.coordinates.length !== 1) return null;
  const ring = geometry.coordinates[0];
  if (ring.length !== 5) return null;
  const [first, last] = [ring[0], ring[4]];
  if (first.length !== 2 || last.length !== 2) return null;
  if (first[0] !== last[0] || first[1] !== last[1]) return null;
  const corners = ring.slice(0, 4);
  if (corners.some((p) => p.length !== 2)) return null;
  // Each edge keeps one coordinate and changes the other.
  for (let i = 0; i < 4; i++) {
    const [a, b] = [corners[i], corners[(i + 1) % 4]];
    const sameLng = a[0] === b[0];
    const sameLat = a[1] === b[1];
    if (sameLng === sameLat) return null;
  }
  const lngs = [...new Set(corners.map((p) => p[0]))];
  const lats = [...new Set(corners.map((p) => p[1]))];
  if (lngs.length !== 2 || lats.length !== 2) return null;
  return [Math.min(...lngs), Math.min(...lats), Math.max(...lngs), Math.max(...lats)];
}
