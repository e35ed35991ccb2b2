/** The measure tool: click points on the map for a distance, close them for an area; draws nothing. */
import type { Position } from "../../relay/geometry.ts";
import { h } from "./dom.ts";
import L from "./leaflet.ts";
import { formatArea, formatLength, pathLength, ringArea } from "./measure.ts";
import { usesImperial } from "./scale_bar.ts";

/** How close (CSS pixels) a click must be to the first point to close the shape. */
const CLOSE_PX = 10;
/** How far (CSS pixels) the pointer may move between press and release for a click. */
const CLICK_SLOP_PX = 5;
const LINE: L.PolylineOptions = {
  color: "#b45309",
  weight: 3,
  dashArray: "6 6",
  interactive: false,
  pmIgnore: true,
};

/**
 * A toolbar button that toggles measuring. While it is on, clicks on the map add points to a
 * path kept only on this page (its own layer, never the map's features, never sent); clicking
 * the first point again closes it into an area. Esc ({@link stop}) or the button ends it.
 */
export class MeasureTool extends L.Control {
  #map: L.Map | null = null;
  #button: HTMLAnchorElement | null = null;
  #readout: HTMLElement | null = null;
  #layer = L.layerGroup([], { pmIgnore: true });
  #points: L.LatLng[] = [];
  #closed = false;
  #down: { x: number; y: number } | null = null;
  #press = (e: MouseEvent) => {
    this.#down = { x: e.clientX, y: e.clientY };
  };
  // Capturing on the container takes the click before a feature under it is selected.
  #click = (e: MouseEvent) => {
    const map = this.#map;
    if (!map || !(e.target instanceof Element) || !e.target.closest(".leaflet-map-pane")) return;
    e.stopPropagation();
    const down = this.#down;
    if (down && Math.hypot(e.clientX - down.x, e.clientY - down.y) > CLICK_SLOP_PX) return;
    this.add(map.mouseEventToLatLng(e));
  };

  constructor() {
    super({ position: "topleft" });
  }

  /** Whether measuring is on. */
  get active(): boolean {
    return this.#map?.getContainer().classList.contains("measuring") ?? false;
  }

  /** The points clicked so far, `[lng, lat]` as clicked (a world copy's longitude kept). */
  get points(): Position[] {
    return this.#points.map((p) => [p.lng, p.lat]);
  }

  override onAdd(map: L.Map): HTMLElement {
    this.#map = map;
    const button = h("a", {
      class: "measure-button",
      href: "#",
      role: "button",
      title: "Measure a distance or an area",
      "aria-label": "Measure a distance or an area",
      "aria-pressed": "false",
    });
    this.#button = button;
    button.addEventListener("click", (e) => {
      e.preventDefault();
      if (this.active) this.stop();
      else this.start();
    });
    this.#readout = h("div", { class: "measure-readout", role: "status", hidden: true });
    const el = h("div", { class: "leaflet-bar measure-control" }, button, this.#readout);
    L.DomEvent.disableClickPropagation(el);
    map.on("pm:globaldrawmodetoggled", this.#onDrawMode, this);
    return el;
  }

  override onRemove(map: L.Map): void {
    this.stop();
    map.off("pm:globaldrawmodetoggled", this.#onDrawMode, this);
    this.#map = null;
  }

  #onDrawMode(e: { enabled: boolean }): void {
    // Drawing a feature and measuring both take the map's clicks: one at a time.
    if (e.enabled) this.stop();
  }

  /** Turns measuring on with no points yet. */
  start(): void {
    const map = this.#map;
    if (!map || this.active) return;
    map.pm?.disableDraw();
    const c = map.getContainer();
    c.classList.add("measuring");
    c.addEventListener("mousedown", this.#press, true);
    c.addEventListener("click", this.#click, true);
    map.doubleClickZoom.disable();
    this.#layer.addTo(map);
    this.#button?.setAttribute("aria-pressed", "true");
    this.#reset();
  }

  /** Ends measuring and clears what it showed; true if it was on. */
  stop(): boolean {
    const map = this.#map;
    if (!map || !this.active) return false;
    const c = map.getContainer();
    c.classList.remove("measuring");
    c.removeEventListener("mousedown", this.#press, true);
    c.removeEventListener("click", this.#click, true);
    map.doubleClickZoom.enable();
    this.#layer.remove();
    this.#button?.setAttribute("aria-pressed", "false");
    this.#points = [];
    if (this.#readout) this.#readout.hidden = true;
    return true;
  }

  /** Adds a point (a click does this); on the first point of three or more, closes the shape. */
  add(at: L.LatLng): void {
    const map = this.#map;
    if (!map) return;
    if (this.#closed) this.#reset();
    const first = this.#points[0];
    if (
      first && this.#points.length >= 3 &&
      map.latLngToContainerPoint(first).distanceTo(map.latLngToContainerPoint(at)) <= CLOSE_PX
    ) {
      this.#closed = true;
    } else this.#points.push(at);
    this.#draw();
  }

  #reset(): void {
    this.#points = [];
    this.#closed = false;
    this.#draw();
  }

  #draw(): void {
    this.#layer.clearLayers();
    const pts = this.#points;
    if (this.#closed) this.#layer.addLayer(L.polygon(pts, { ...LINE, fillOpacity: 0.1 }));
    else if (pts.length > 1) this.#layer.addLayer(L.polyline(pts, LINE));
    for (const p of pts) {
      this.#layer.addLayer(
        L.circleMarker(p, { ...LINE, dashArray: undefined, radius: 4, fillOpacity: 1 }),
      );
    }
    const readout = this.#readout;
    if (!readout) return;
    readout.hidden = false;
    readout.textContent = this.text();
  }

  /** What the readout says now. */
  text(): string {
    const imperial = usesImperial(navigator.language);
    const pts = this.points;
    if (pts.length < 2) {
      return "Click points on the map to measure; click the first one again for an area. Esc ends.";
    }
    if (!this.#closed) return `Distance: ${formatLength(pathLength(pts), imperial)}`;
    return `Area: ${formatArea(ringArea(pts), imperial)} · Perimeter: ${
      formatLength(pathLength(pts, true), imperial)
    }`;
  }
}
