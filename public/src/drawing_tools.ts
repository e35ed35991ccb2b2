/** Geoman's drawing and editing toolbar for editors, each drawn shape handed over as a geometry. */
import type { Geometry } from "../../relay/protocol.ts";
import L from "./leaflet.ts";
import { normalizeGeometry } from "./normalize.ts";

/**
 * Adds the toolbar to `map`; `onCreate` receives each shape drawn (the drawn layer itself is
 * removed: the feature layers draw it once the edit is made).
 */
export function addDrawingTools(map: L.Map, onCreate: (geometry: Geometry) => void): void {
  L.PM.setOptIn(true);
  map.pm.setLang("en", {
    buttonTitles: { drawCircleMarkerButton: "Draw point", drawLineButton: "Draw line" },
  }, "en");
  map.pm.setGlobalOptions({
    pathOptions: { color: "#2563eb", weight: 2, fillOpacity: 0.18 },
    templineStyle: { color: "#db2777" },
    hintlineStyle: { color: "#db2777", dashArray: "5 5" },
    limitMarkersToViewport: true,
    // One shape per click on a tool; Geoman would otherwise keep placing points.
    continueDrawing: false,
  });
  map.pm.addControls({
    position: "topleft",
    drawMarker: false,
    drawCircleMarker: true,
    drawPolyline: true,
    drawRectangle: true,
    drawPolygon: true,
    drawCircle: false,
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
    const geojson =
      layer instanceof L.Polyline || layer instanceof L.CircleMarker || layer instanceof L.Marker
        ? layer.toGeoJSON()
        : null;
    if (!geojson?.geometry) return;
    // Leaflet's GeoJSON types and the relay's describe the same RFC 7946 shapes.
    onCreate(normalizeGeometry(geojson.geometry as Geometry));
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
