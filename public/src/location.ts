/** Whether a feature has anywhere to zoom to: an empty MultiPoint or GeometryCollection has not. */
import type { Geometry } from "../../relay/protocol.ts";

/**
 * True when the geometry holds at least one position. Empty multi-geometries and collections are
 * valid GeoJSON (the relay accepts them) but have no location, so "Zoom to" has nowhere to go;
 * Leaflet throws "Bounds are not valid" when asked. Walks with a stack, and treats anything that
 * is not a proper position list as having no location.
 *
 * @example
 * ```ts
 * import { hasLocation } from "./location.ts";
 * hasLocation({ type: "MultiPoint", coordinates: [] }); // false
 * hasLocation({ type: "Point", coordinates: [1, 2] }); // true
 * ```
 */
export function hasLocation(geometry: Geometry | null | undefined): boolean {
  const stack: unknown[] = [geometry];
  while (stack.length > 0) {
    const g = stack.pop();
    if (typeof g !== "object" || g === null) continue;
    if ("geometries" in g && Array.isArray(g.geometries)) {
      stack.push(...g.geometries);
      continue;
    }
    const coordinates: unknown[] = "coordinates" in g ? [g.coordinates] : [];
    while (coordinates.length > 0) {
      const c = coordinates.pop();
      if (!Array.isArray(c)) continue;
      if (c.length >= 2 && c.every((n) => typeof n === "number" && Number.isFinite(n))) {
        return true;
      }
      coordinates.push(...c);
    }
  }
  return false;
}
