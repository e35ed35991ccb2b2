/** Shows features' `name` (or `title`) on the map as light labels, decluttered at every zoom. */
import type { StoredFeature } from "../../relay/protocol.ts";
import { type Box, declutter, type LabelCandidate, labelText } from "./label_declutter.ts";
import L from "./leaflet.ts";

/** Options for {@link FeatureLabels}. */
export interface FeatureLabelsOptions {
  map: L.Map;
  /** The features as the user sees them. */
  features: () => ReadonlyMap<string, StoredFeature>;
  /** The layer drawing a feature (its position and size come from there). */
  layer: (fid: string) => L.Layer | undefined;
  /** The selected feature, whose label always wins. */
  selected: () => string | null;
  /** People's cursors `[lng, lat]`, which no label may cover. */
  cursors: () => Iterable<[number, number]>;
}

const PANE = "feature-labels";
const HEIGHT = 16;
/** The box a cursor with its name tag takes, right and below its tip. */
const CURSOR_BOX = { width: 150, height: 28 };

/**
 * One absolutely placed element per shown label in a pane above the shapes and below markers,
 * pins and people's cursors (so a label never hides a cursor). Placement is redone once per
 * animation frame after a move, a zoom or a change, and only for features in view.
 */
export class FeatureLabels {
  #o: FeatureLabelsOptions;
  #pane: HTMLElement | null = null;
  #shown = new Map<string, HTMLElement>();
  #frame: number | null = null;
  #schedule = () => {
    if (this.#frame === null) this.#frame = requestAnimationFrame(() => this.#draw());
  };
  // Positions are in layer pixels, which a zoom animation invalidates: hidden until it ends.
  #hide = () => this.#pane?.classList.add("zooming");

  constructor(options: FeatureLabelsOptions) {
    this.#o = options;
  }

  /** The fids whose labels are on the map now (for tests). */
  get shown(): string[] {
    return [...this.#shown.keys()];
  }

  /** Makes the pane and starts following the map. */
  onAdd(): this {
    const map = this.#o.map;
    this.#pane = map.getPane(PANE) ?? map.createPane(PANE);
    this.#pane.style.zIndex = "550";
    this.#pane.style.pointerEvents = "none";
    map.on("zoomstart", this.#hide);
    map.on("moveend zoomend resize", this.#schedule);
    this.#schedule();
    return this;
  }

  /** Stops following the map and removes the labels. */
  onRemove(): void {
    this.#o.map.off("zoomstart", this.#hide);
    this.#o.map.off("moveend zoomend resize", this.#schedule);
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
    for (const el of this.#shown.values()) el.remove();
    this.#shown.clear();
  }

  /** Features changed (or the selection): place the labels again at the next frame. */
  update(): void {
    this.#schedule();
  }

  #draw(): void {
    this.#frame = null;
    const pane = this.#pane;
    if (!pane) return;
    pane.classList.remove("zooming");
    const map = this.#o.map;
    const view = map.getBounds().pad(0.1);
    const selected = this.#o.selected();
    const candidates: (LabelCandidate & { text: string })[] = [];
    for (const [fid, feature] of this.#o.features()) {
      const text = labelText(feature.properties);
      if (text === null) continue;
      const place = this.#anchor(fid);
      if (!place || !view.contains(place.at)) continue;
      const p = map.latLngToLayerPoint(place.at);
      // A rough width (12 px bold system font) is enough to keep labels apart.
      const width = Math.ceil(text.length * 7 + 10);
      candidates.push({
        fid,
        text,
        x: place.point ? p.x + 12 : p.x - width / 2,
        y: place.point ? p.y - HEIGHT - 4 : p.y - HEIGHT / 2,
        width,
        height: HEIGHT,
        priority: fid === selected ? Infinity : place.size,
      });
    }
    const avoid: Box[] = [];
    for (const [lng, lat] of this.#o.cursors()) {
      const p = map.latLngToLayerPoint([lat, lng]);
      avoid.push({ x: p.x - 4, y: p.y - 4, ...CURSOR_BOX });
    }
    const keep = declutter(candidates, { avoid });
    for (const [fid, el] of this.#shown) {
      if (!keep.has(fid)) {
        el.remove();
        this.#shown.delete(fid);
      }
    }
    for (const c of candidates) {
      if (!keep.has(c.fid)) continue;
      let el = this.#shown.get(c.fid);
      if (!el) {
        el = document.createElement("div");
        el.className = "feature-label";
        el.dataset.fid = c.fid;
        pane.append(el);
        this.#shown.set(c.fid, el);
      }
      if (el.textContent !== c.text) el.textContent = c.text;
      el.classList.toggle("selected", c.fid === selected);
      L.DomUtil.setPosition(el, L.point(Math.round(c.x), Math.round(c.y)));
    }
  }

  /** Where a feature's label goes and how big the feature is on screen (its priority). */
  #anchor(fid: string): { at: L.LatLng; size: number; point: boolean } | null {
    const layer = this.#o.layer(fid);
    if (layer instanceof L.Marker || layer instanceof L.CircleMarker) {
      return { at: layer.getLatLng(), size: 0, point: true };
    }
    if (layer instanceof L.Polyline || layer instanceof L.FeatureGroup) {
      const b = layer.getBounds();
      if (!b.isValid()) return null;
      const map = this.#o.map;
      const nw = map.latLngToLayerPoint(b.getNorthWest());
      const se = map.latLngToLayerPoint(b.getSouthEast());
      // Screen area of the bounds (lines count their diagonal twice): bigger features win.
      const size = Math.max(1, (se.x - nw.x) * (se.y - nw.y), 2 * nw.distanceTo(se));
      return { at: b.getCenter(), size, point: false };
    }
    return null;
  }
}
