/** The page's basemaps: the list from the config, the chosen one drawn, the switcher, the over-zoom line, the scale bar. */
import {
  type BasemapInfo,
  basemapsFromConfig,
  beyondBasemap,
  loadChoice,
  saveChoice,
} from "./basemap_list.ts";
import { BasemapSwitcher } from "./basemap_switcher.ts";
import { builtinBasemap } from "./builtin_basemap.ts";
import L from "./leaflet.ts";
import { scaleBarOptions } from "./scale_bar.ts";
import { vectorBasemap } from "./vector_basemap.ts";

/** Options for {@link addBasemaps}. */
export interface BasemapsOptions {
  map: L.Map;
  /** `/api/config` as the relay sent it (`basemaps`, or the old `tiles`), or null without one. */
  config: { basemaps?: unknown; tiles?: unknown; tilesAttribution?: unknown } | null;
  /** Where the person's choice is remembered. @default localStorage */
  storage?: Storage;
  /** The browser's language, for the scale bar's units. @default navigator.language */
  language?: string;
  /** Told when a basemap cannot be loaded. */
  onError?: (message: string) => void;
}

/** The page's handle on its basemaps. */
export interface Basemaps {
  readonly list: readonly BasemapInfo[];
  /** The id of the basemap shown now. */
  current(): string;
  /** Shows another basemap and remembers it in this browser, as the switcher does. */
  choose(id: string): void;
}

const PANE = "basemap";

/** Makes the Leaflet layer of one basemap; tiles and data are only fetched once it is added. */
function makeLayer(info: BasemapInfo, onError: (message: string) => void): L.Layer {
  switch (info.kind) {
    case "builtin":
      // Draws in the "basemap" pane itself (PANE); only the failure is told back.
      return builtinBasemap({ onError: (e) => onError(`The basemap could not be loaded (${e}).`) });
    case "vector":
      return vectorBasemap(info, { pane: PANE });
    case "raster": {
      const b = info.bounds;
      return L.tileLayer(info.tiles ?? "", {
        pane: PANE,
        attribution: info.attribution ?? "",
        // Past its last level the file's tiles are stretched rather than missing.
        maxNativeZoom: info.maxzoom,
        maxZoom: 22,
        ...info.minzoom !== undefined && { minZoom: info.minzoom },
        ...b && { bounds: L.latLngBounds([b[1], b[0]], [b[3], b[2]]) },
        pmIgnore: true,
      });
    }
  }
}

/** The quiet line saying the basemap has nothing here, with a way to the switcher. */
function hintLine(map: L.Map, canSwitch: boolean, openSwitcher: () => void): HTMLElement {
  const hint = L.DomUtil.create("div", "basemap-hint", map.getContainer());
  hint.setAttribute("role", "status");
  hint.hidden = true;
  hint.append("This basemap has no detail here.");
  if (canSwitch) {
    const button = L.DomUtil.create("button", "link", hint);
    button.type = "button";
    button.textContent = "Choose another basemap ▸";
    button.addEventListener("click", openSwitcher);
    hint.insertBefore(document.createTextNode(" "), button);
  }
  L.DomEvent.disableClickPropagation(hint);
  return hint;
}

/**
 * Adds the basemap this browser last chose (or the built-in one), the switcher listing every
 * basemap the relay offers, the over-zoom line and the scale bar. Basemaps are drawn in their own
 * pane below the features and never take pointer events.
 */
export function addBasemaps(options: BasemapsOptions): Basemaps {
  const { map } = options;
  const storage = options.storage ?? localStorage;
  const onError = options.onError ?? ((m: string) => console.error(m));
  const pane = map.createPane(PANE);
  pane.style.zIndex = "250";
  pane.style.pointerEvents = "none";

  const list = basemapsFromConfig(options.config);
  const layers = new Map<string, L.Layer>();
  let current = loadChoice(storage, list);
  let shown: L.Layer | null = null;

  const switcher = new BasemapSwitcher({
    list,
    current,
    onChoose: (id) => choose(id),
  });
  const hint = hintLine(map, list.length > 1, () => switcher.open());

  const updateHint = () => {
    const info = list.find((b) => b.id === current);
    const b = map.getBounds();
    hint.hidden = !info ||
      !beyondBasemap(info, map.getZoom(), [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]);
  };

  const show = (id: string) => {
    const info = list.find((b) => b.id === id);
    if (!info) return;
    if (shown) map.removeLayer(shown);
    let layer = layers.get(id);
    if (!layer) {
      layer = makeLayer(info, onError);
      layers.set(id, layer);
    }
    shown = layer.addTo(map);
    current = id;
    switcher.select(id);
    map.getContainer().dataset.basemap = id;
    updateHint();
  };

  const choose = (id: string) => {
    if (id === current || !list.some((b) => b.id === id)) return;
    saveChoice(storage, id);
    show(id);
  };

  show(current);
  if (list.length > 1) switcher.addTo(map);
  L.control.scale(scaleBarOptions(options.language ?? navigator.language)).addTo(map);
  map.on("zoomend moveend", updateHint);

  return { list, current: () => current, choose };
}
