/** The built-in basemap: Natural Earth countries (npm world-atlas) as vector layers, no internet. */
import { feature } from "topojson-client";
import L from "./leaflet.ts";

/** Options for {@link builtinBasemap}. */
export interface BuiltinBasemapOptions {
  /** Where the TopoJSON file is served. @default "/assets/countries-50m.json" */
  url?: string;
  /** The pane the land is drawn in. @default "basemap" */
  pane?: string;
  /** Told when the data cannot be loaded; the layer then stays empty. */
  onError?: (error: unknown) => void;
}

type Topology = Parameters<typeof feature>[0];

const NATURAL_EARTH = 'Basemap: <a href="https://www.naturalearthdata.com/">Natural Earth</a>';

/**
 * The built-in offline basemap as one Leaflet layer: the land is fetched when the layer is first
 * added (so choosing another basemap at startup fetches nothing) and drawn on a canvas in `pane`,
 * below the features, so redrawing features never repaints the land.
 */
export function builtinBasemap(options: BuiltinBasemapOptions = {}): L.Layer {
  const pane = options.pane ?? "basemap";
  const group = L.layerGroup([], { pane, attribution: NATURAL_EARTH } as L.LayerOptions);
  let loading: Promise<void> | null = null;
  group.on("add", () => {
    loading ??= loadLand(group, pane, options.url).catch((e) => {
      loading = null;
      options.onError?.(e);
    });
  });
  return group;
}

async function loadLand(group: L.LayerGroup, pane: string, url?: string): Promise<void> {
  const renderer = L.canvas({ pane, padding: 0.3 });
  const response = await fetch(url ?? "/assets/countries-50m.json");
  if (!response.ok) throw new Error(`basemap answered ${response.status}`);
  const topology: Topology = await response.json();
  const countries = topology.objects.countries;
  if (countries?.type !== "GeometryCollection") {
    throw new Error("basemap has no countries");
  }
  const land = feature(topology, countries);
  for (const f of land.features) {
    const g = f.geometry;
    if (g.type === "Polygon") g.coordinates = g.coordinates.map(unwrapRing);
    else if (g.type === "MultiPolygon") {
      g.coordinates = g.coordinates.map((p) => p.map(unwrapRing));
    }
  }
  const common = {
    renderer,
    interactive: false,
    pmIgnore: true,
    bubblingMouseEvents: false,
  };
  // Shared borders are stroked twice; at this weight that looks the same and saves a mesh pass.
  L.geoJSON(land, {
    ...common,
    style: {
      color: "#c4bcab",
      weight: 0.7,
      opacity: 1,
      fillColor: "#f4f1ea",
      fillOpacity: 1,
    },
  }).addTo(group);
}

/**
 * Natural Earth rings that cross the antimeridian jump from +180 to -180, which a flat map draws as
 * a band across the whole world; shifting longitudes by 360 after each jump keeps the ring local.
 * A ring around a pole (Antarctica) does not close after shifting and is left as it is.
 */
export function unwrapRing(ring: number[][]): number[][] {
  let offset = 0;
  const out = ring.map((p, i) => {
    if (i > 0) {
      const d = p[0] - ring[i - 1][0];
      if (d > 180) offset -= 360;
      else if (d < -180) offset += 360;
    }
    return offset === 0 ? p : [p[0] + offset, p[1]];
  });
  return offset === 0 ? out : ring;
}
