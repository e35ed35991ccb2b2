/** Draws the map's features on a canvas, one Leaflet layer per feature, updating only changed ones. */
import type { Geometry, StoredFeature } from "../../relay/protocol.ts";
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
  /** Geoman finished changing a feature's shape or position. */
  onGeometry: (fid: string, geometry: Geometry) => void;
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

  constructor(options: FeatureLayersOptions) {
    this.#options = options;
    this.#group = L.featureGroup([], { pmIgnore: true }).addTo(options.map);
  }

  /** The layer that shows a feature. */
  layer(fid: string): L.Layer | undefined {
    return this.#entries.get(fid)?.layer;
  }

  /** The kind of layer that shows a feature (a rectangle is drawn as one, not as a polygon). */
  kind(fid: string): LayerKind | null {
    const layer = this.#entries.get(fid)?.layer;
    if (!layer) return null;
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

  /** The bounds of everything drawn, if anything is. */
  bounds(): L.LatLngBounds | null {
    const b = this.#group.getBounds();
    return b.isValid() ? b : null;
  }

  /** Records that a layer already shows this geometry (Geoman changed it in place). */
  adopt(fid: string, geometry: Geometry): void {
    const entry = this.#entries.get(fid);
    if (entry) entry.shown = geometry;
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
      // A point gains or loses its pin when its marker properties come or go: a new layer.
      const pinChange = entry !== undefined && (entry.layer instanceof L.Marker) !==
          (shown.type === "Point" && hasMarkerStyle(feature.properties));
      // A props edit keeps the geometry object; an echo of our own reshape brings an equal copy.
      if (
        entry && !pinChange && (entry.shown === shown || sameGeometry(entry.shown, shown) ||
          this.#reshape(entry.layer, feature.geometry))
      ) {
        entry.shown = shown;
        if (entry.styled !== feature.properties) {
          entry.styled = feature.properties;
          this.#style(fid);
        }
        continue;
      }
      if (entry) this.#group.removeLayer(entry.layer);
      const layer = this.#create({ ...feature, geometry: shown });
      this.#entries.set(fid, { layer, shown, styled: feature.properties });
      this.#fids.set(layer, fid);
      this.#group.addLayer(layer);
    }
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

  #create(feature: StoredFeature & { geometry: Geometry }): L.Layer {
    const fid = feature.id;
    const base = {
      ...this.#pathOptions(fid, feature.properties),
      pmIgnore: !this.#options.editable,
    };
    const pin = hasMarkerStyle(feature.properties);
    const rectangle = rectangleBounds(feature.geometry);
    const layer = rectangle ? L.rectangle(boundsOf(rectangle), base) : L.GeoJSON.geometryToLayer(
      { type: "Feature", geometry: feature.geometry, properties: {} },
      {
        ...base,
        // A styled point is a pin (a DOM element); a plain one stays a dot on the canvas, so a
        // 100 000-point import stays cheap to draw.
        pointToLayer: (_f, latlng) =>
          pin
            ? L.marker(latlng, {
              icon: pinFor(feature.properties, fid === this.#selected),
              pmIgnore: !this.#options.editable,
            })
            : L.circleMarker(latlng, {
              ...base,
              ...dotStyle(feature.properties),
              ...(fid === this.#selected ? SELECTED : {}),
            }),
      },
    );
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
      if (current === undefined) return;
      const geojson = layer instanceof L.Polyline || layer instanceof L.CircleMarker ||
          layer instanceof L.Marker || layer instanceof L.FeatureGroup
        ? layer.toGeoJSON()
        : null;
      if (!geojson || geojson.type !== "Feature" || !geojson.geometry) return;
      // Leaflet's GeoJSON types and the relay's describe the same RFC 7946 shapes.
      const geometry = geojson.geometry as Geometry;
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
