/** The preview of an earlier version: a read-only overlay over the dimmed live map, its banner, and "Restore this version". */
import type { StoredFeature } from "../../relay/protocol.ts";
import { h, toast } from "./dom.ts";
import type { HistoryApi } from "./history_api.ts";
import L from "./leaflet.ts";
import { restoreLabel, restoreOps } from "./restore_ops.ts";
import type { Session } from "./session.ts";
import { columnEdits } from "./table_model.ts";

/** What is previewed: the version right after edit `seq`, and how the banner names it. */
export interface PreviewTarget {
  seq: number;
  /** When that edit was made (ms). */
  at: number;
  /** Who made it. */
  author: string;
  /** The version's name, when it is a named version. */
  name?: string;
}

/** Options for {@link HistoryPreview}. */
export interface HistoryPreviewOptions {
  map: L.Map;
  session: Session;
  api: HistoryApi;
  /** Where the banner goes (the map's wrapper). */
  container: HTMLElement;
  /** The relay's limits on one edit: a restore larger is split, like a column change. */
  limits: { maxOps: number; maxBytes: number };
  /** How a time is written in the banner. */
  moment: (ms: number) => string;
  /** The preview started (its seq) or ended (`null`). */
  onChange?: (seq: number | null) => void;
}

const PANE = "history-preview";
const STYLE: L.PathOptions = {
  color: "#7c3aed",
  weight: 3,
  dashArray: "6 4",
  fillColor: "#a78bfa",
  fillOpacity: 0.3,
  interactive: false,
};

/**
 * Shows the map as it was at a seq over the live map, which stays live but dimmed underneath, with
 * a banner: "Viewing version of <time> by <name>", "Restore this version" (editors only) and
 * "Back to live". Esc leaves the preview.
 */
export class HistoryPreview {
  #options: HistoryPreviewOptions;
  #layer: L.GeoJSON | null = null;
  #target: PreviewTarget | null = null;
  #features: StoredFeature[] = [];
  #banner = h("div", { class: "history-banner", role: "status", hidden: true });
  #ticket = 0;
  /** One renderer for every preview: a renderer stays on the map once a layer has used it. */
  #renderer: L.Renderer;
  #keydown = (e: KeyboardEvent) => {
    if (e.key !== "Escape" || this.#target === null) return;
    // Esc leaves the preview before it ends anything else (a selection, a half-drawn shape).
    e.stopPropagation();
    this.close();
  };

  constructor(options: HistoryPreviewOptions) {
    this.#options = options;
    const pane = options.map.getPane(PANE) ?? options.map.createPane(PANE);
    pane.style.zIndex = "450";
    pane.style.pointerEvents = "none";
    this.#renderer = L.svg({ pane: PANE });
  }

  /** The seq previewed now, or null when the map is live. */
  get seq(): number | null {
    return this.#target?.seq ?? null;
  }

  /** Fetches the version and shows it; a newer call wins over one still loading. */
  async show(target: PreviewTarget): Promise<void> {
    const ticket = ++this.#ticket;
    let features: StoredFeature[];
    try {
      features = await this.#options.api.featuresAt(target.seq);
    } catch (e) {
      if (ticket === this.#ticket) {
        toast(`That version cannot be shown: ${e instanceof Error ? e.message : e}`, "error");
      }
      return;
    }
    if (ticket !== this.#ticket) return;
    this.#layer?.remove();
    this.#target = target;
    this.#features = features;
    const renderer = this.#renderer;
    this.#layer = L.geoJSON({ type: "FeatureCollection", features } as GeoJSON.FeatureCollection, {
      pane: PANE,
      style: () => ({ ...STYLE, renderer }),
      pointToLayer: (_f, at) =>
        L.circleMarker(at, { ...STYLE, radius: 7, pane: PANE, renderer, dashArray: undefined }),
    }).addTo(this.#options.map);
    document.body.classList.add("history-previewing");
    this.#renderBanner(target);
    this.#options.onChange?.(target.seq);
  }

  /** Back to the live map. */
  close(): void {
    this.#ticket++;
    if (this.#target === null) return;
    this.#layer?.remove();
    this.#layer = null;
    this.#target = null;
    this.#features = [];
    this.#banner.hidden = true;
    document.body.classList.remove("history-previewing");
    this.#options.onChange?.(null);
  }

  /**
   * Turns the map into the previewed version as one ordinary edit (several only when the relay's
   * limits force it) with the restore's label, so Undo reverts it and everyone sees it live.
   */
  async restore(): Promise<void> {
    const target = this.#target;
    const session = this.#options.session;
    if (target === null || !session.canEdit) return;
    const ops = restoreOps(session.doc.features, this.#features);
    const label = restoreLabel({ name: target.name, at: target.at });
    this.close();
    if (ops.length === 0) {
      toast("The map already is this version: nothing to restore.");
      return;
    }
    const batches = columnEdits(ops, this.#options.limits);
    for (const batch of batches) {
      const outcome = await session.edit(batch, label);
      if (!outcome.ok) {
        toast(`The restore stopped: ${outcome.message}`, "error");
        return;
      }
    }
    toast(
      batches.length === 1
        ? `${label}. Undo reverts it.`
        : `${label}, in ${batches.length} edits (more than the relay takes in one).`,
    );
  }

  /** Adds the banner and the Esc key. */
  onAdd(): this {
    this.#options.container.append(this.#banner);
    globalThis.addEventListener("keydown", this.#keydown, true);
    return this;
  }

  /** Removes what {@link onAdd} added, and the preview. */
  onRemove(): void {
    this.close();
    this.#banner.remove();
    globalThis.removeEventListener("keydown", this.#keydown, true);
  }

  #renderBanner(target: PreviewTarget): void {
    const what = target.name ? `“${target.name}”, ` : "";
    const restore = this.#options.session.canEdit
      ? [h("button", {
        type: "button",
        class: "primary history-restore",
        onclick: () => void this.restore(),
      }, "Restore this version")]
      : [];
    this.#banner.replaceChildren(
      h(
        "span",
        { class: "history-banner-text" },
        `Viewing ${what}version of ${this.#options.moment(target.at)} by ${target.author}`,
      ),
      ...restore,
      h(
        "button",
        { type: "button", class: "history-live", onclick: () => this.close() },
        "Back to live",
      ),
    );
    this.#banner.hidden = false;
  }
}
