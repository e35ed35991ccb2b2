/** Turns a circle drawn with Geoman into the Polygon and properties a feature stores. */
import type { Geometry } from "../../relay/geometry.ts";
import { circlePolygon, circleProperties } from "./circle.ts";
import type L from "./leaflet.ts";

/** The stored form of a drawn circle, or null if it has no size. */
export function circleShape(
  layer: L.Circle,
): { geometry: Geometry; properties: Record<string, unknown> } | null {
  const radius = layer.getRadius();
  if (!(radius > 0)) return null;
  const c = layer.getLatLng();
  // Drawn on a world copy: the same place in -180..180.
  const lng = ((c.lng + 540) % 360) - 180;
  const center: [number, number] = [lng, c.lat];
  return { geometry: circlePolygon(center, radius), properties: circleProperties(center, radius) };
}
