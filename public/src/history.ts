/** Wires the map's history onto the page: the endpoints, the preview over the map and the side panel. */
import { HistoryApi } from "./history_api.ts";
import { momentText } from "./history_model.ts";
import { HistoryPanel } from "./history_panel.ts";
import { HistoryPreview } from "./history_preview.ts";
import { importLimits } from "./import_export.ts";
import type L from "./leaflet.ts";
import type { PageConfig } from "./page_map.ts";
import type { Session } from "./session.ts";

/** Options for {@link addHistory}. */
export interface AddHistoryOptions {
  map: L.Map;
  session: Session;
  mapId: string;
  key: string;
  /** `/api/config`: the relay's limits on one edit, which a restore follows as imports do. */
  config: PageConfig;
}

/** Adds the History button, its panel and the version preview; returns the panel. */
export function addHistory(options: AddHistoryOptions): HistoryPanel {
  const { map, session } = options;
  const api = new HistoryApi({ origin: location.origin, mapId: options.mapId, key: options.key });
  const limits = importLimits(options.config);
  const container = map.getContainer().parentElement ?? document.body;
  const preview: HistoryPreview = new HistoryPreview({
    map,
    session,
    api,
    container,
    limits: { maxOps: limits.maxOps, maxBytes: limits.maxFrameBytes },
    // Mid-sentence in the banner: "version of today 14:05".
    moment: (ms) => momentText(ms, { now: Date.now() }).replace(/^[TY]/, (c) => c.toLowerCase()),
    onChange: (seq) => panel.previewed(seq),
  }).onAdd();
  const panel = new HistoryPanel({
    session,
    api,
    preview,
    onResize: () => map.invalidateSize(),
  }).onAdd();
  return panel;
}
