/** Geoman's drawing and editing toolbar for editors, each drawn shape handed over as a geometry. */
import type { Geometry } from "../../relay/protocol.ts";
import { circleShape } from "./circle_draw.ts";
import L from "./leaflet.ts";
import { normalizeGeometry } from "./normalize.ts";

/**
 * Adds the toolbar to `map`; `onCreate` receives each shape drawn (the drawn layer itself is
 * removed: the feature layers draw it once the edit is made), and the properties it starts with (a
 * circle's centre and radius).
 */
export function addDrawingTools(
  map: L.Map,
  onCreate: (geometry: Geometry, properties: Record<string, unknown>) => void,
): void {
  L.PM.setOptIn(true);
  map.pm.setLang("en", {
    buttonTitles: { drawCircleMarkerButton: "Draw point", drawLineButton: "Draw line" },
    tooltips: {
      finishLine: "Click the last point to finish; Esc cancels",
      finishPoly: "Click the first point to finish; Esc cancels",
    },
  }, "en");
  map.pm.setGlobalOptions({
    pathOptions: { color: "#2563eb", weight: 2, fillOpacity: 0.18 },
    templineStyle: { color: "#db2777" },
    hintlineStyle: { color: "#db2777", dashArray: "5 5" },
    limitMarkersToViewport: true,
    // One shape per click on a tool; Geoman would otherwise keep placing points.
    continueDrawing: false,
    // Snap to other features' vertices and edges within 20 px (Geoman measures in pixels, so it
    // works on the canvas renderer too).
    snappable: true,
    snapDistance: 20,
  });
  map.pm.addControls({
    position: "topleft",
    drawMarker: false,
    drawCircleMarker: true,
    drawPolyline: true,
    drawRectangle: true,
    drawPolygon: true,
    drawCircle: true,
    drawText: false,
    editMode: true,
    dragMode: true,
    cutPolygon: false,
    removalMode: true,
    rotateMode: false,
  });
  map.on("pm:create", (e) => {
    const layer = e.layer;
    map.removeLayer(layer);
    // RFC 7946 has no circle: it is stored as a Polygon, its centre and radius as properties.
    if (layer instanceof L.Circle) {
      const circle = circleShape(layer);
      if (circle) onCreate(circle.geometry, circle.properties);
      return;
    }
    const geojson =
      layer instanceof L.Polyline || layer instanceof L.CircleMarker || layer instanceof L.Marker
        ? layer.toGeoJSON()
        : null;
    if (!geojson?.geometry) return;
    // Leaflet's GeoJSON types and the relay's describe the same RFC 7946 shapes.
    onCreate(normalizeGeometry(geojson.geometry as Geometry), {});
  });
  // Geoman's buttons are links without href: make them reachable and usable with the keyboard.
  for (const a of document.querySelectorAll<HTMLAnchorElement>(".leaflet-pm-toolbar a")) {
    a.setAttribute("role", "button");
    a.setAttribute("tabindex", "0");
    const title = a.closest("[title]")?.getAttribute("title");
    if (title) a.setAttribute("aria-label", title);
    a.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        a.click();
      }
    });
  }
}
