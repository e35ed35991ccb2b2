/** Circles on the map: a drawn one stored as a Polygon and properties, a stored one drawn as a circle. */
import type { Geometry } from "../../relay/geometry.ts";
import type { StoredFeature } from "../../relay/protocol.ts";
import { circleOf, circlePolygon, circleProperties } from "./circle.ts";
import L from "./leaflet.ts";

/**
 * A circle layer for a Polygon feature whose properties describe a circle, so Geoman edits it as
 * one (drag the centre, pull the radius); null for any other feature.
 */
export function circleLayer(feature: StoredFeature, options: L.PathOptions): L.Circle | null {
  const circle = feature.geometry?.type === "Polygon" ? circleOf(feature.properties) : null;
  if (!circle) return null;
  const [lng, lat] = circle.center;
  return L.circle([lat, lng], { ...options, radius: circle.radius });
}

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
