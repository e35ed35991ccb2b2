/** The built-in basemap: Natural Earth countries (npm world-atlas) as vector layers, no internet. */
import { builtinBasemap } from "./builtin_basemap.ts";
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

/**
 * Adds the basemap in its own pane and canvas, below the features, so redrawing features never
 * repaints the land. Raster tiles are added on top of it only when the server was given `--tiles`.
 */
export function addBasemap(options: BasemapOptions): Promise<void> {
  const { map } = options;
  const pane = map.createPane("basemap");
  pane.style.zIndex = "250";
  pane.style.pointerEvents = "none";
  if (options.tiles) {
    L.tileLayer(options.tiles, {
      attribution: options.tilesAttribution ?? "",
      pane: "basemap",
      pmIgnore: true,
    }).addTo(map);
    return Promise.resolve();
  }
  builtinBasemap().addTo(map);
  return Promise.resolve();
}

export { unwrapRing } from "./builtin_basemap.ts";
