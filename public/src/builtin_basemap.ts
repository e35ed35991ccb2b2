/** The built-in offline basemap: Natural Earth countries (npm world-atlas) by zoom, and GeoNames place names from the relay. */
import { feature } from "topojson-client";
import L from "./leaflet.ts";
import {
  declutter,
  labelStyle,
  type LandPart,
  landParts,
  minPopulation,
  nearestCopy,
  partsInView,
  type Place,
  type PlacedLabel,
  type Scale,
  scaleForZoom,
  unwrapRing,
} from "./basemap_layout.ts";

export { unwrapRing };
import { clampBBox } from "./viewport.ts";

/** Options for {@link builtinBasemap}. */
export interface BuiltinBasemapOptions {
  /** Where `countries-<scale>.json` files are served. @default "/assets/" */
  assetBase?: string;
  /** The gazetteer's URL. @default "/api/places" */
  placesUrl?: string;
  /** Quiet time after a move before labels are asked for, in ms. @default 150 */
  debounceMs?: number;
  /** Show place names. @default true */
  labels?: boolean;
  /** Told when land cannot be loaded (place names failing only leave the names out). */
  onError?: (error: unknown) => void;
}

type Topology = Parameters<typeof feature>[0];

const ATTRIBUTION = '<a href="https://www.naturalearthdata.com/">Natural Earth</a>, places ' +
  '<a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0)';

const LAND_STYLE: L.PathOptions = {
  color: "#c4bcab",
  weight: 0.7,
  opacity: 1,
  fillColor: "#f4f1ea",
  fillOpacity: 1,
};

/**
 * The built-in basemap as one Leaflet layer: land drawn on its own canvas in the `basemap` pane
 * (below the features, so redrawing features never repaints the land), at the Natural Earth
 * scale the zoom needs, each scale fetched the first time it is needed; and place names as
 * light DOM labels above the land, asked for the view after each move. Nothing leaves the
 * relay. Removing the layer removes its listeners, timers, requests and drawings.
 *
 * @example
 * ```ts
 * builtinBasemap().addTo(map);
 * ```
 */
export function builtinBasemap(options: BuiltinBasemapOptions = {}): L.Layer {
  return new BuiltinBasemap(options);
}

class BuiltinBasemap extends L.Layer {
  #options: Required<Omit<BuiltinBasemapOptions, "onError">>;
  #onError: (error: unknown) => void;
  #map: L.Map | null = null;
  #renderer: L.Canvas | null = null;
  /**
   * The scale on screen: its polygons, their layers by `"<world copy>:<part>"` (made when first
   * near the view), and which of those are on the map now.
   */
  #land:
    | { scale: Scale; parts: LandPart[]; made: Map<string, L.Polygon>; shown: Set<string> }
    | null = null;
  #topologies = new Map<Scale, Promise<LandPart[]>>();
  #labelPane: HTMLElement | null = null;
  #places: Place[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #request: AbortController | null = null;
  #measure = document.createElement("canvas").getContext("2d");
  #painted = false;
  #onZoomEnd = () => {
    this.#showScale();
    this.#drawLabels();
  };
  #onMoveEnd = () => {
    this.#showLand();
    this.#scheduleLabels();
  };

  constructor(options: BuiltinBasemapOptions) {
    super();
    this.#options = {
      assetBase: options.assetBase ?? "/assets/",
      placesUrl: options.placesUrl ?? "/api/places",
      debounceMs: options.debounceMs ?? 150,
      labels: options.labels ?? true,
    };
    this.#onError = options.onError ??
      ((e) => console.warn(`the built-in basemap could not be loaded: ${e}`));
  }

  /** Read by the map's attribution control when the layer is added, and dropped when removed. */
  override getAttribution(): string {
    return ATTRIBUTION;
  }

  override onAdd(map: L.Map): this {
    this.#map = map;
    paneOf(map, "basemap", "250");
    this.#renderer = L.canvas({ pane: "basemap", padding: 0.3 });
    if (this.#options.labels) {
      this.#labelPane = L.DomUtil.create(
        "div",
        "place-labels leaflet-zoom-hide",
        paneOf(map, "basemap-labels", "260"),
      );
    }
    map.on("zoomend", this.#onZoomEnd);
    map.on("moveend", this.#onMoveEnd);
    this.#showScale();
    this.#scheduleLabels(0);
    return this;
  }

  override onRemove(map: L.Map): this {
    map.off("zoomend", this.#onZoomEnd);
    map.off("moveend", this.#onMoveEnd);
    clearTimeout(this.#timer);
    this.#request?.abort();
    this.#request = null;
    this.#hideLand(map);
    this.#land = null;
    this.#renderer?.remove();
    this.#renderer = null;
    this.#labelPane?.remove();
    this.#labelPane = null;
    this.#map = null;
    return this;
  }

  /** Draws the scale the zoom needs, keeping the current one on screen until it is ready. */
  #showScale(): void {
    const map = this.#map;
    if (!map) return;
    const scale = scaleForZoom(map.getZoom());
    if (this.#land?.scale === scale) return;
    this.#countries(scale).then((parts) => {
      if (this.#map !== map || scaleForZoom(map.getZoom()) !== scale) return;
      this.#hideLand(map);
      this.#land = { scale, parts, made: new Map(), shown: new Set() };
      this.#showLand();
      if (!this.#painted) {
        this.#painted = true;
        // Leaflet paints its canvas on the next frame; the mark is how first paint is measured.
        requestAnimationFrame(() => performance.mark("duplexmap:basemap-painted"));
      }
    }).catch((e) => this.#onError(e));
  }

  /**
   * Shows the parts of the land near the view (half a view around it, so small pans add nothing),
   * on every world copy in view: near the antimeridian the view runs past ±180°, where Samoa
   * (-172°) seen from Fiji (178°) is drawn at +188°. Leaflet projects every vertex of every path
   * on the map at each zoom, so the 1:10m world on the map at once made a zoom take seconds.
   */
  #showLand(): void {
    const map = this.#map;
    const land = this.#land;
    const renderer = this.#renderer;
    if (!map || !land || !renderer) return;
    const b = map.getBounds().pad(0.5);
    const wanted = new Set(partsInView(land.parts, {
      west: b.getWest(),
      south: b.getSouth(),
      east: b.getEast(),
      north: b.getNorth(),
    }));
    for (const key of land.shown) {
      if (wanted.has(key)) continue;
      const layer = land.made.get(key);
      if (layer) map.removeLayer(layer);
      land.shown.delete(key);
    }
    for (const key of wanted) {
      if (land.shown.has(key)) continue;
      let layer = land.made.get(key);
      if (!layer) {
        const [copy, index] = key.split(":").map(Number);
        const rings = land.parts[index].rings.map((ring) =>
          ring.map(([lon, lat]) => L.latLng(lat, lon + 360 * copy))
        );
        layer = L.polygon(rings, {
          ...LAND_STYLE,
          renderer,
          interactive: false,
          pmIgnore: true,
          bubblingMouseEvents: false,
        } as L.PolylineOptions);
        land.made.set(key, layer);
      }
      layer.addTo(map);
      land.shown.add(key);
    }
  }

  #hideLand(map: L.Map): void {
    for (const key of this.#land?.shown ?? []) {
      const layer = this.#land?.made.get(key);
      if (layer) map.removeLayer(layer);
    }
  }

  /** One scale's countries, fetched once, with rings across the antimeridian kept local. */
  #countries(scale: Scale): Promise<LandPart[]> {
    let loaded = this.#topologies.get(scale);
    if (!loaded) {
      loaded = fetch(`${this.#options.assetBase}countries-${scale}.json`).then(async (res) => {
        if (!res.ok) throw new Error(`countries-${scale}.json answered ${res.status}`);
        const topology: Topology = await res.json();
        const countries = topology.objects.countries;
        if (countries?.type !== "GeometryCollection") throw new Error("no countries in it");
        const polygons: number[][][][] = [];
        for (const f of feature(topology, countries).features) {
          const g = f.geometry;
          if (g.type === "Polygon") polygons.push(g.coordinates.map(unwrapRing));
          else if (g.type === "MultiPolygon") {
            for (const p of g.coordinates) polygons.push(p.map(unwrapRing));
          }
        }
        return landParts(polygons);
      });
      // A failed fetch is tried again the next time the scale is needed.
      loaded.catch(() => this.#topologies.delete(scale));
      this.#topologies.set(scale, loaded);
    }
    return loaded;
  }

  #scheduleLabels(delay = this.#options.debounceMs): void {
    if (!this.#labelPane) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fetchLabels(), delay);
  }

  /** Asks the gazetteer for the most populous places in view; a newer move cancels the request. */
  async #fetchLabels(): Promise<void> {
    const map = this.#map;
    if (!map) return;
    this.#request?.abort();
    const request = new AbortController();
    this.#request = request;
    const bbox = clampBBox(map.getBounds()).join(",");
    try {
      const res = await fetch(`${this.#options.placesUrl}?bbox=${bbox}&limit=150`, {
        signal: request.signal,
      });
      if (!res.ok) throw new Error(`places answered ${res.status}`);
      const body: { places: Place[] } = await res.json();
      if (request.signal.aborted) return;
      this.#places = body.places;
      this.#drawLabels();
    } catch (e) {
      if (!request.signal.aborted) console.warn(`place names could not be loaded: ${e}`);
    }
  }

  /** Lays the known places out for the current zoom, most populous first, without overlaps. */
  #drawLabels(): void {
    const map = this.#map;
    const pane = this.#labelPane;
    if (!map || !pane) return;
    const zoom = map.getZoom();
    const center = map.getCenter().lng;
    const min = minPopulation(zoom);
    const candidates = this.#places.filter((p) => p.population >= min).map((place) => {
      const style = labelStyle(place.population, zoom);
      const at = map.latLngToLayerPoint([place.lat, nearestCopy(place.lon, center)]);
      if (this.#measure) this.#measure.font = style.font;
      const width = this.#measure?.measureText(place.name).width ??
        place.name.length * style.size * 0.6;
      return { item: { place, style }, x: at.x, y: at.y, width, size: style.size };
    });
    pane.replaceChildren(...declutter(candidates).map(labelElement));
  }
}

/** One label: a dot at the place and its name beside it. */
function labelElement(
  label: PlacedLabel<{ place: Place; style: ReturnType<typeof labelStyle> }>,
): HTMLElement {
  const { place, style } = label.item;
  const el = L.DomUtil.create("div", `place-label place-label-${style.rank} ${label.side}`);
  el.textContent = place.name;
  el.title = `${place.name}, ${place.country}`;
  el.style.font = style.font;
  L.DomUtil.setPosition(el, L.point(Math.round(label.x), Math.round(label.y)));
  return el;
}

/** The map's pane `name`, made on first use below the features and ignoring the pointer. */
function paneOf(map: L.Map, name: string, zIndex: string): HTMLElement {
  const existing = map.getPane(name);
  if (existing) return existing;
  const pane = map.createPane(name);
  pane.style.zIndex = zIndex;
  pane.style.pointerEvents = "none";
  return pane;
}
