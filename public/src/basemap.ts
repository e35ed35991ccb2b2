/** The built-in basemap: Natural Earth countries (npm world-atlas) as vector layers, no internet. */
import { feature } from "topojson-client";
import L from "./leaflet.ts";

/** Options for {@link addBasemap}. */
export interface BasemapOptions {
  map: L.Map;
  /** Where the TopoJSON file is served. @default "/assets/countries-50m.json" */
  url?: string;
  /** A raster tile URL template from the server's config, drawn instead of the vector land. */
  tiles?: string | null;
  tilesAttribution?: string | null;
}

type Topology = Parameters<typeof feature>[0];

const NATURAL_EARTH = 'Basemap: <a href="https://www.naturalearthdata.com/">Natural Earth</a>';

/**
 * Adds the basemap in its own pane and canvas, below the features, so redrawing features never
 * repaints the land. Raster tiles are added on top of it only when the server was given `--tiles`.
 */
export async function addBasemap(options: BasemapOptions): Promise<void> {
  const { map } = options;
  const pane = map.createPane("basemap");
  pane.style.zIndex = "250";
  pane.style.pointerEvents = "none";
  const renderer = L.canvas({ pane: "basemap", padding: 0.3 });
  if (options.tiles) {
    L.tileLayer(options.tiles, {
      attribution: options.tilesAttribution ?? "",
      pane: "basemap",
      pmIgnore: true,
    }).addTo(map);
    return;
  }
  map.attributionControl.addAttribution(NATURAL_EARTH);
  const response = await fetch(options.url ?? "/assets/countries-50m.json");
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
  }).addTo(map);
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
