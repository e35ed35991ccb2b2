/** The map's features on the page: their layers, the drawing tools, the selection and its panel. */
import type { Geometry } from "../../relay/protocol.ts";
import { circleForgotten } from "./circle.ts";
import { toast } from "./dom.ts";
import { addDrawingTools } from "./drawing_tools.ts";
import { FeatureLabels } from "./feature_labels.ts";
import { FeatureLayers, type LayerKind } from "./feature_layers.ts";
import { randomId } from "./identity.ts";
import L from "./leaflet.ts";
import { changedText } from "./last_changed.ts";
import { labelText } from "./label_declutter.ts";
import { PropsPanel } from "./props_panel.ts";
import type { Session } from "./session.ts";

/**
 * Draws the session's features once it knows whether they may be edited ({@link setup}), keeps
 * one feature selected with its properties in the side panel, and zooms to features.
 */
export class MapFeatures {
  #map: L.Map;
  #session: Session;
  #layers: FeatureLayers | null = null;
  #labels: FeatureLabels | null = null;
  #now: () => number;
  #selected: string | null = null;
  #fitted = false;
  #panel: PropsPanel;
  #onSelect: (fid: string | null) => void;
  #click = () => {
    if (!this.#map.pm.globalDrawModeEnabled()) this.select(null);
  };

  constructor(
    options: {
      map: L.Map;
      session: Session;
      panel: HTMLElement;
      /** Told of every selection (the feature table follows it). */
      onSelect?: (fid: string | null) => void;
      /** The clock "Changed by … ago" reads. @default Date.now */
      now?: () => number;
    },
  ) {
    this.#map = options.map;
    this.#onSelect = options.onSelect ?? (() => {});
    this.#session = options.session;
    this.#now = options.now ?? Date.now;
    this.#panel = new PropsPanel({
      now: this.#now,
      root: options.panel,
      edit: (ops) => void this.#session.edit(ops),
      notice: (m) => toast(m, "error"),
      zoomTo: (fid) => this.zoomTo(fid),
    });
  }

  /** The selected feature's id. */
  get selected(): string | null {
    return this.#selected;
  }

  /** Draws the features, with Geoman's tools and editing when `editable` (on the first welcome). */
  setup(editable: boolean): void {
    const session = this.#session;
    this.#layers = new FeatureLayers({
      map: this.#map,
      editable,
      onSelect: (fid) => this.select(fid),
      // Already in the stored form (FeatureLayers maps Geoman's edits back to it); a circle's comes
      // with its centre and radius, and a reshaped one that was a circle forgets them.
      onGeometry: (fid, geometry: Geometry, properties) =>
        void session.edit([
          { op: "geom", fid, geometry },
          ...(properties
            ? [{ op: "props" as const, fid, set: properties }]
            : circleForgotten(fid, session.doc.features.get(fid)?.properties ?? {})),
        ]),
      onRemove: (fid) => {
        if (this.#selected === fid) this.select(null);
        void session.edit([{ op: "del", fid }]);
      },
      hoverText: (fid) => this.hoverText(fid),
    });
    this.#layers.update(session.doc.features.keys(), session.doc.features);
    // The empty panel was made before the role was known: now it can say what this person can do.
    if (this.#selected === null) this.#panel.show(null, editable);
    this.#labels = new FeatureLabels({
      map: this.#map,
      features: () => session.doc.features,
      layer: (fid) => this.#layers?.layer(fid),
      selected: () => this.#selected,
      cursors: () =>
        [...session.peers.values()].flatMap((p) => p.cursor ? [p.cursor as [number, number]] : []),
    }).onAdd();
    if (!editable) return;
    addDrawingTools(this.#map, (geometry, properties) => {
      const fid = `f-${randomId(16)}`;
      void session.edit([{
        op: "put",
        feature: { type: "Feature", id: fid, geometry, properties },
      }]);
      this.select(fid);
    });
  }

  /** Redraws these features; the panel follows a change to (or the removal of) the selected one. */
  update(fids: ReadonlySet<string>): void {
    const features = this.#session.doc.features;
    this.#layers?.update(fids, features);
    this.#labels?.update();
    if (this.#selected !== null && fids.has(this.#selected)) {
      const f = features.get(this.#selected);
      if (!f) this.select(null);
      else this.#panel.show(f, this.#session.canEdit);
    }
  }

  /** Selects a feature (or none) and shows its properties. */
  select(fid: string | null): void {
    this.#selected = fid;
    this.#layers?.select(fid);
    this.#labels?.update();
    this.#panel.show(
      fid === null ? null : this.#session.doc.features.get(fid) ?? null,
      this.#session.canEdit,
    );
    document.body.classList.toggle("has-selection", fid !== null);
    this.#onSelect(fid);
  }

  /** What hovering a feature shows: its label and who changed it last, one per line. */
  hoverText(fid: string): string {
    const f = this.#session.doc.features.get(fid);
    if (!f) return "";
    const name = labelText(f.properties);
    const changed = changedText(f.meta, this.#now());
    return [name, changed ?? "No change recorded"].filter((t) => t !== null).map(escapeHtml)
      .join("<br>");
  }

  /** The fids whose labels are on the map now. */
  get labels(): string[] {
    return this.#labels?.shown ?? [];
  }

  /** How a feature is drawn, or null if it is not. */
  kind(fid: string): LayerKind | null {
    return this.#layers?.kind(fid) ?? null;
  }

  /** Zooms to one feature, or says it has nowhere to zoom to. */
  zoomTo(fid: string): void {
    const map = this.#map;
    const layer = this.#layers?.layer(fid);
    if (layer instanceof L.CircleMarker || layer instanceof L.Marker) {
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), 12));
    } else if (layer instanceof L.Polyline || layer instanceof L.FeatureGroup) {
      // Empty geometries draw as empty layers, whose bounds Leaflet refuses to fit.
      const bounds = layer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 16, padding: [24, 24] });
      else toast("This feature has no location to zoom to.");
    }
  }

  /** Fits the map to these features, if any of them has a location. */
  fit(fids: readonly string[]): void {
    const bounds = this.#layers?.bounds(fids);
    if (bounds) this.#map.fitBounds(bounds, { maxZoom: 14, padding: [24, 24] });
  }

  /** The first time only: fits the map to all features, so a link opens on the map's content. */
  fitOnce(): void {
    if (this.#fitted) return;
    this.#fitted = true;
    const b = this.#layers?.bounds();
    if (b) this.#map.fitBounds(b, { maxZoom: 14, padding: [24, 24], animate: false });
  }

  /** A click on the map (not while drawing) clears the selection. */
  onAdd(): this {
    this.#map.on("click", this.#click);
    return this;
  }

  /** Stops listening to the map. */
  onRemove(): void {
    this.#map.off("click", this.#click);
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
