/** Draws the map's features on a canvas, one Leaflet layer per feature, updating only changed ones. */
import type { Geometry, StoredFeature } from "../../relay/protocol.ts";
import { type Box, copyOffset, coveringBox, shiftGeometry, shownGeometry } from "./antimeridian.ts";
import { restoredGeometry } from "./antimeridian_edit.ts";
import { circleLayer, circleShape } from "./circle_draw.ts";
import L from "./leaflet.ts";
import { stringifyAnyDepth } from "./json_text.ts";
import { rectangleBounds } from "./rectangle.ts";
import { hasMarkerStyle, pathStyle, pinIcon, readStyle } from "./simplestyle.ts";

/** Options for {@link FeatureLayers}. */
export interface FeatureLayersOptions {
  map: L.Map;
  /** Whether Geoman may edit the layers (editors only). */
  editable: boolean;
  /** A feature was clicked (outside Geoman's draw/remove modes). */
  onSelect: (fid: string) => void;
  /**
   * Geoman finished changing a feature's shape or position (given in the stored form; a circle's
   * with its properties).
   */
  onGeometry: (fid: string, geometry: Geometry, properties?: Record<string, unknown>) => void;
  /** Geoman's removal mode removed a feature. */
  onRemove: (fid: string) => void;
  /** What hovering a feature shows (its name, who changed it last); nothing when it is empty. */
  hoverText?: (fid: string) => string;
}

// Near-black, so a selected feature is never mistaken for a peer's colour; its fill stays its own.
const SELECTED: L.PathOptions = { color: "#0f172a", weight: 4, opacity: 1 };

/** The kinds of layer a feature can be drawn as. */
export type LayerKind = "point" | "line" | "polygon" | "rectangle" | "collection";

interface Entry {
  layer: L.Layer;
  /** The geometry the layer shows, to skip redraws when only properties changed. */
  shown: Geometry;
  /** Where it is drawn ({@link shownGeometry}), before `offset`; null when it has no positions. */
  box: Box | null;
  /** Which copy of the world it is drawn on: a multiple of 360 added to its longitudes. */
  offset: number;
  /** The properties its style was read from, to restyle only when they changed. */
  styled: Readonly<Record<string, unknown>>;
}

/**
 * Keeps a layer per feature in sync with the map copy. Updating a set of feature ids touches only
 * those layers, so a remote edit on a map of 10 000 features redraws one or two of them.
 */
export class FeatureLayers {
  #options: FeatureLayersOptions;
  #entries = new Map<string, Entry>();
  #fids = new WeakMap<L.Layer, string>();
  #group: L.FeatureGroup;
  #selected: string | null = null;
  /** The longitude of the view's middle when the features were last placed on copies. */
  #placedAt = 0;
  #moved = () => {
    // Dragging across the antimeridian jumps the view by 360° (worldCopyJump): place at once.
    if (Math.abs(this.#options.map.getCenter().lng - this.#placedAt) > 90) this.#place();
  };
  #place = () => this.#placeAll();

  constructor(options: FeatureLayersOptions) {
    this.#options = options;
    this.#group = L.featureGroup([], { pmIgnore: true }).addTo(options.map);
    options.map.on("moveend", this.#place).on("move", this.#moved);
  }

  /** Removes the layers and stops following the view. */
  remove(): void {
    this.#options.map.off("moveend", this.#place).off("move", this.#moved);
    this.#group.remove();
  }

  /** The layer that shows a feature. */
  layer(fid: string): L.Layer | undefined {
    return this.#entries.get(fid)?.layer;
  }

  /** The kind of layer that shows a feature (a rectangle is drawn as one, not as a polygon). */
  kind(fid: string): LayerKind | null {
    const layer = this.#entries.get(fid)?.layer;
    if (!layer) return null;
    if (layer instanceof L.Circle) return "polygon";
    if (layer instanceof L.Rectangle) return "rectangle";
    if (layer instanceof L.Polygon) return "polygon";
    if (layer instanceof L.Polyline) return "line";
    if (layer instanceof L.CircleMarker || layer instanceof L.Marker) return "point";
    return "collection";
  }

  /** How many features are drawn. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The bounds of these features (all when not given), if any has a location: the smallest box,
   * so features on both sides of the antimeridian give a box around it, not the whole world.
   */
  bounds(fids?: Iterable<string>): L.LatLngBounds | null {
    const boxes: Box[] = [];
    for (const fid of fids ?? this.#entries.keys()) {
      const box = this.#entries.get(fid)?.box;
      if (box) boxes.push(box);
    }
    const b = coveringBox(boxes);
    return b ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : null;
  }

  /** Records that a layer already shows this geometry (Geoman changed it in place). */
  adopt(fid: string, geometry: Geometry): void {
    const entry = this.#entries.get(fid);
    if (!entry) return;
    entry.shown = geometry;
    entry.box = shownGeometry(geometry).box;
    // The layer stays on the copy of the world where it was edited.
    const at = this.#middle(entry.layer);
    entry.offset = entry.box && at !== null
      ? 360 * Math.round((at - (entry.box[0] + entry.box[2]) / 2) / 360)
      : 0;
  }

  /** Brings the given features in line with `features` (added, changed or removed). */
  update(
    fids: Iterable<string>,
    features: ReadonlyMap<string, StoredFeature>,
  ): void {
    for (const fid of fids) {
      const feature = features.get(fid);
      const entry = this.#entries.get(fid);
      // A feature without geometry (an attribute-only row) is kept on the map but has no layer.
      if (!feature || feature.geometry === null) {
        if (entry) {
          this.#group.removeLayer(entry.layer);
          this.#entries.delete(fid);
        }
        continue;
      }
      const shown = feature.geometry;
      const styled = feature.properties;
      // A point gains or loses its pin when its marker properties come or go: a new layer.
      const pinChange = entry !== undefined && (entry.layer instanceof L.Marker) !==
          (shown.type === "Point" && hasMarkerStyle(styled));
      // A props edit keeps the geometry object; an echo of our own reshape brings an equal copy.
      if (entry && !pinChange && (entry.shown === shown || sameGeometry(entry.shown, shown))) {
        entry.shown = shown;
        if (entry.styled !== styled) {
          entry.styled = styled;
          this.#style(fid);
        }
        continue;
      }
      if (entry && pinChange) this.#group.removeLayer(entry.layer);
      const drawn = shownGeometry(shown);
      const offset = drawn.box ? copyOffset(drawn.box, this.#view()) : 0;
      this.#draw(
        fid,
        { layer: pinChange ? null : entry?.layer ?? null, shown, box: drawn.box, offset, styled },
        drawn.geometry,
      );
      // A layer reshaped in place keeps the style it had.
      if (entry && !pinChange && entry.styled !== styled) this.#style(fid);
    }
  }

  /** Shows `next.shown` moved by `next.offset`, in `next.layer` if it can change in place. */
  #draw(
    fid: string,
    next: Omit<Entry, "layer"> & { layer: L.Layer | null },
    drawn: Geometry,
  ): void {
    const geometry = shiftGeometry(drawn, next.offset);
    if (next.layer && this.#reshape(next.layer, geometry)) {
      this.#entries.set(fid, { ...next, layer: next.layer });
      return;
    }
    if (next.layer) this.#group.removeLayer(next.layer);
    const layer = this.#create(fid, geometry, next.styled);
    this.#entries.set(fid, { ...next, layer });
    this.#fids.set(layer, fid);
    this.#group.addLayer(layer);
  }

  /** The view's west and east longitudes (past ±180 when it shows another copy of the world). */
  #view(): [number, number] {
    const b = this.#options.map.getBounds();
    return [b.getWest(), b.getEast()];
  }

  /** Moves each feature near the antimeridian to the copy of the world in view. */
  #placeAll(): void {
    this.#placedAt = this.#options.map.getCenter().lng;
    const view = this.#view();
    for (const [fid, entry] of this.#entries) {
      if (!entry.box) continue;
      const offset = copyOffset(entry.box, view);
      if (offset === entry.offset) continue;
      this.#draw(fid, { ...entry, offset }, shownGeometry(entry.shown).geometry);
    }
  }

  /** The longitude of a layer's middle, as drawn. */
  #middle(layer: L.Layer): number | null {
    if (layer instanceof L.CircleMarker || layer instanceof L.Marker) return layer.getLatLng().lng;
    if (layer instanceof L.Polyline || layer instanceof L.FeatureGroup) {
      const b = layer.getBounds();
      return b.isValid() ? b.getCenter().lng : null;
    }
    return null;
  }

  /** Highlights one feature (or none). */
  select(fid: string | null): void {
    const previous = this.#selected;
    this.#selected = fid;
    if (previous !== null) this.#style(previous);
    if (fid !== null) this.#style(fid);
  }

  /** The Leaflet options a feature is drawn with: its simplestyle properties, then selection. */
  #pathOptions(fid: string, properties: Readonly<Record<string, unknown>>): L.PathOptions {
    return { ...pathStyle(readStyle(properties)), ...(fid === this.#selected ? SELECTED : {}) };
  }

  #style(fid: string): void {
    const entry = this.#entries.get(fid);
    if (!entry) return;
    const layer = entry.layer;
    if (layer instanceof L.Marker) {
      layer.setIcon(pinFor(entry.styled, fid === this.#selected));
      return;
    }
    const style = this.#pathOptions(fid, entry.styled);
    // A plain point is a dot in the marker colour, filled more than an area is.
    if (layer instanceof L.CircleMarker) Object.assign(style, dotStyle(entry.styled));
    if (layer instanceof L.Path) layer.setStyle(style);
    else if (layer instanceof L.FeatureGroup) layer.setStyle(style);
  }

  // Change a layer's shape in place, which keeps any Geoman editing on it; false if it cannot be.
  #reshape(layer: L.Layer, geometry: Geometry): boolean {
    // A rectangle stays a rectangle layer (so the drawing tools keep its corners square) and a
    // polygon stays a polygon layer; a change from one to the other makes a new layer.
    const rectangle = rectangleBounds(geometry);
    if ((layer instanceof L.Rectangle) !== (rectangle !== null)) return false;
    if (layer instanceof L.Rectangle && rectangle) {
      const editing = layer.pm?.enabled() ?? false;
      if (editing) layer.pm.disable();
      layer.setBounds(boundsOf(rectangle));
      if (editing) layer.pm.enable();
      return true;
    }
    if (
      geometry.type === "Point" && (layer instanceof L.CircleMarker || layer instanceof L.Marker)
    ) {
      layer.setLatLng([geometry.coordinates[1], geometry.coordinates[0]]);
      return true;
    }
    const lines = geometry.type === "LineString" ||
      geometry.type === "MultiLineString";
    const polygons = geometry.type === "Polygon" ||
      geometry.type === "MultiPolygon";
    if (
      (lines && layer instanceof L.Polyline && !(layer instanceof L.Polygon)) ||
      (polygons && layer instanceof L.Polygon)
    ) {
      const depth = geometry.type === "LineString" ? 0 : geometry.type === "MultiPolygon" ? 2 : 1;
      const editing = layer.pm?.enabled() ?? false;
      if (editing) layer.pm.disable();
      layer.setLatLngs(L.GeoJSON.coordsToLatLngs(geometry.coordinates, depth));
      if (editing) layer.pm.enable();
      return true;
    }
    return false;
  }

  #create(fid: string, geometry: Geometry, properties: Readonly<Record<string, unknown>>): L.Layer {
    const base = {
      ...this.#pathOptions(fid, properties),
      pmIgnore: !this.#options.editable,
    };
    const pin = hasMarkerStyle(properties);
    const rectangle = rectangleBounds(geometry);
    const made = rectangle ? L.rectangle(boundsOf(rectangle), base) : L.GeoJSON.geometryToLayer(
      { type: "Feature", geometry, properties: {} },
      {
        ...base,
        // A styled point is a pin (a DOM element); a plain one stays a dot on the canvas, so a
        // 100 000-point import stays cheap to draw.
        pointToLayer: (_f, latlng) =>
          pin
            ? L.marker(latlng, {
              icon: pinFor(properties, fid === this.#selected),
              pmIgnore: !this.#options.editable,
            })
            : L.circleMarker(latlng, {
              ...base,
              ...dotStyle(properties),
              ...(fid === this.#selected ? SELECTED : {}),
            }),
      },
    );
    // A Polygon with a circle's properties is edited as a circle (centre and radius).
    const layer = circleLayer({ type: "Feature", id: fid, geometry, properties }, base) ?? made;
    const hover = this.#options.hoverText;
    if (hover) {
      layer.bindTooltip(() => hover(this.#fids.get(layer) ?? fid), {
        sticky: true,
        direction: "top",
        offset: [0, -12],
        className: "feature-hover",
      });
    }
    layer.on("click", (e) => {
      const mode = this.#options.map.pm.globalRemovalModeEnabled() ||
        this.#options.map.pm.globalDrawModeEnabled();
      if (mode) return;
      L.DomEvent.stopPropagation(e);
      this.#options.onSelect(this.#fids.get(layer) ?? fid);
    });
    layer.on("pm:edit", () => {
      const current = this.#fids.get(layer);
      const entry = current === undefined ? undefined : this.#entries.get(current);
      if (current === undefined || !entry) return;
      if (layer instanceof L.Circle) {
        const circle = circleShape(layer);
        if (!circle) return;
        this.adopt(current, circle.geometry);
        this.#options.onGeometry(current, circle.geometry, circle.properties);
        return;
      }
      // Unrounded, so the positions the edit left alone come back exactly as they are stored.
      const geojson = layer instanceof L.Polyline || layer instanceof L.CircleMarker ||
          layer instanceof L.Marker || layer instanceof L.FeatureGroup
        ? layer.toGeoJSON(false)
        : null;
      if (!geojson || geojson.type !== "Feature" || !geojson.geometry) return;
      // Leaflet's GeoJSON types and the relay's describe the same RFC 7946 shapes.
      const edited = geojson.geometry as Geometry;
      const geometry = restoredGeometry(edited, entry.shown, entry.offset);
      this.adopt(current, geometry);
      this.#options.onGeometry(current, geometry);
    });
    layer.on("pm:remove", () => {
      const current = this.#fids.get(layer);
      if (current === undefined) return;
      this.#group.removeLayer(layer);
      this.#entries.delete(current);
      this.#options.onRemove(current);
    });
    return layer;
  }
}

function boundsOf([west, south, east, north]: [number, number, number, number]): L.LatLngBounds {
  return L.latLngBounds([south, west], [north, east]);
}

function sameGeometry(a: Geometry, b: Geometry): boolean {
  return a.type === b.type && stringifyAnyDepth(a) === stringifyAnyDepth(b);
}

/** A point's pin as a Leaflet icon. */
function pinFor(properties: Readonly<Record<string, unknown>>, selected: boolean): L.DivIcon {
  const pin = pinIcon(readStyle(properties), selected);
  return L.divIcon({
    html: pin.html,
    className: "feature-pin",
    iconSize: pin.size,
    iconAnchor: pin.anchor,
  });
}

/** A plain point's dot: the marker colour, sized by `marker-size`. */
function dotStyle(properties: Readonly<Record<string, unknown>>): L.CircleMarkerOptions {
  const style = readStyle(properties);
  return {
    fillColor: style.markerColor,
    fillOpacity: 0.7,
    radius: style.markerSize === "small" ? 5 : style.markerSize === "large" ? 10 : 7,
  };
}
