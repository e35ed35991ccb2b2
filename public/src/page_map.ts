/** The page's Leaflet map, with the basemap and limits the relay's `/api/config` gives. */
import { addBasemaps } from "./basemap.ts";
import { toast } from "./dom.ts";
import L from "./leaflet.ts";

/** What `/api/config` tells the page; missing or unreachable, the built-in basemap is used. */
export interface PageConfig {
  tiles: string | null;
  tilesAttribution: string | null;
  /** Every basemap the relay offers (see basemap_list.ts); older relays send only `tiles`. */
  basemaps?: unknown;
  /** The relay's frame limit. */
  maxFrameBytes?: number;
  /** The relay's limits on one feature and one edit, which imports follow. */
  maxVertices?: number;
  maxPropsBytes?: number;
  maxOpsPerEdit?: number;
  /** Whether `/api/geocode` answers (`--geocoder`). */
  geocoder?: boolean;
}

/** Makes the map in `element` on the whole world, then reads the config and adds the basemap. */
export async function openPageMap(
  element: HTMLElement,
): Promise<{ map: L.Map; config: PageConfig }> {
  const map = L.map(element, {
    preferCanvas: true,
    worldCopyJump: true,
    minZoom: 1,
    maxZoom: 19,
    zoomControl: true,
  }).setView([20, 0], 2);
  map.attributionControl.setPrefix(false);
  const noConfig: PageConfig = { tiles: null, tilesAttribution: null };
  const config: PageConfig = await fetch("/api/config")
    .then((r) => r.ok ? r.json() : noConfig)
    .catch(() => noConfig);
  addBasemaps({ map, config, onError: (m) => toast(m, "error") });
  return { map, config };
}
