/** The "History" side panel: named versions, the timeline of edits and comments in sessions, paged as it scrolls, per feature on request. */
import { titleOf } from "../../relay/history_words.ts";
import { byId, h } from "./dom.ts";
import type { HistoryApi } from "./history_api.ts";
import {
  groupSessions,
  type HistoryEntry,
  loadedUpTo,
  type MapComment,
  type NamedVersion,
  timelineItems,
} from "./history_model.ts";
import type { HistoryPreview } from "./history_preview.ts";
import { TimelineView } from "./history_timeline.ts";
import { VersionsView } from "./history_versions.ts";
import type { Session } from "./session.ts";

/** Options for {@link HistoryPanel}. */
export interface HistoryPanelOptions {
  session: Session;
  api: HistoryApi;
  preview: HistoryPreview;
  /** The map's size changed (the panel opened or closed). */
  onResize: () => void;
  /** The clock times are written against. @default Date.now */
  now?: () => number;
  /** Entries per page. @default 50 */
  pageSize?: number;
}

/**
 * The map's history beside the map, Google Docs style: named versions at the top ("Name current
 * version" for editors), then sessions of one author, newest first, each expandable to its single
 * edits; a click previews that version. More is fetched as the list scrolls to its end; new edits
 * arriving while it is open are added at the top.
 */
export class HistoryPanel {
  #o: HistoryPanelOptions;
  #button = h("button", {
    type: "button",
    id: "history-toggle",
    "aria-expanded": "false",
    "aria-controls": "history-panel",
    title: "See who changed what, preview and restore earlier versions",
  }, "History");
  #title = h("h2", { id: "history-heading" }, "Version history");
  #scope = h("div", { class: "history-scope", hidden: true });
  #timeline: TimelineView;
  #versions: VersionsView;
  #more = h("p", { class: "history-more small", role: "status" });
  #root: HTMLElement;
  #entries: HistoryEntry[] = [];
  #comments: MapComment[] = [];
  #namedVersions: NamedVersion[] = [];
  #next: number | null = null;
  /** The head seq of the newest page loaded; null until the first page of a (re)load arrives. */
  #head: number | null = null;
  #fid: string | null = null;
  #loading = false;
  #generation = 0;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  #commented = false;
  #refreshing = false;
  /** Refreshes failed in a row: the next waits longer. */
  #refreshFailures = 0;
  #behind = 0;
  #onFeatureHistory = (e: Event) => {
    const fid = (e as CustomEvent<{ fid?: unknown }>).detail?.fid;
    if (typeof fid === "string") this.open({ fid });
  };
  #onHistoryAt = (e: Event) => {
    const seq = (e as CustomEvent<{ seq?: unknown }>).detail?.seq;
    this.open({});
    if (typeof seq === "number") void this.#previewSeq(seq);
  };

  constructor(options: HistoryPanelOptions) {
    this.#o = options;
    this.#versions = new VersionsView({
      preview: (ver) =>
        void options.preview.show({ seq: ver.seq, at: ver.at, author: ver.author, name: ver.name }),
      name: (name) => this.#nameVersion(name),
      now: () => this.#now(),
    });
    this.#timeline = new TimelineView({
      preview: (e) => void this.#preview(e),
      rerender: () => this.#render(),
      // The comments UI listens (comments_ui.ts): it pans to the pin and opens the thread.
      openComment: (id) =>
        dispatchEvent(new CustomEvent("duplex:comment-thread", { detail: { id } })),
    });
    this.#root = h(
      "aside",
      {
        id: "history-panel",
        class: "history-panel",
        "aria-labelledby": "history-heading",
        hidden: true,
      },
      h(
        "div",
        { class: "history-head" },
        this.#title,
        h("button", {
          type: "button",
          class: "icon history-close",
          "aria-label": "Close the history",
          onclick: () => this.toggle(false),
        }, "×"),
      ),
      this.#scope,
      this.#versions.element,
      this.#timeline.element,
      this.#more,
    );
    this.#root.addEventListener("scroll", () => this.#maybeLoadMore());
  }

  /** Whether the panel is open. */
  get isOpen(): boolean {
    return !this.#root.hidden;
  }

  /** Adds the toolbar button, the panel beside the map and the window events. */
  onAdd(): this {
    byId("share", HTMLElement).before(this.#button);
    document.querySelector(".layout")?.append(this.#root);
    this.#button.addEventListener("click", () => this.toggle());
    addEventListener("duplex:feature-history", this.#onFeatureHistory);
    addEventListener("duplex:history", this.#onHistoryAt);
    return this;
  }

  /** Opens the panel on the whole map's history, or on one feature's (`fid`). */
  open(scope: { fid?: string }): void {
    const fid = scope.fid ?? null;
    if (this.isOpen && fid === this.#fid) return;
    this.#fid = fid;
    this.toggle(true, true);
  }

  /** Opens or closes the panel (toggles without an argument); opening loads it afresh. */
  toggle(open = !this.isOpen, reload = false): void {
    const was = this.isOpen;
    this.#root.hidden = !open;
    this.#button.setAttribute("aria-expanded", String(open));
    if (!open) {
      this.#o.preview.close();
      this.#fid = null;
    }
    if (open !== was) this.#o.onResize();
    if (open && (!was || reload)) void this.#reload();
  }

  /**
   * The map changed (or, with `comment`, a comment came): while open, the new edits and comments
   * join the timeline soon after, one request for a burst of them.
   */
  changed(comment = false): void {
    this.#commented ||= comment;
    if (!this.isOpen || this.#refreshTimer !== null) return;
    // After failed refreshes (a relay too busy to answer), wait longer each time, up to 30 s.
    const wait = Math.min(800 * 2 ** this.#refreshFailures, 30_000);
    this.#refreshTimer = globalThis.setTimeout(() => {
      this.#refreshTimer = null;
      if (this.isOpen) void this.#loadNewer();
    }, wait);
  }

  /** The preview changed: its entry is marked. */
  previewed(seq: number | null): void {
    this.#timeline.mark(seq);
  }

  async #reload(): Promise<void> {
    const generation = ++this.#generation;
    this.#entries = [];
    this.#next = null;
    this.#head = null;
    this.#timeline.clear();
    this.#renderScope();
    this.#more.textContent = "Loading…";
    // The comments are read afresh here: those that came while the panel was closed are in them.
    if (this.#fid === null) this.#commented = false;
    this.#refreshFailures = 0;
    const api = this.#o.api;
    const [versions, comments] = await Promise.all([
      api.versions().catch(() => []),
      this.#fid === null ? api.comments().catch(() => null) : Promise.resolve(null),
    ]);
    if (generation !== this.#generation) return;
    this.#namedVersions = versions;
    this.#comments = comments ?? [];
    this.#versions.render(this.#namedVersions);
    await this.#load(undefined, generation);
  }

  /** Loads the page before `before` (the newest without it) and appends it. */
  async #load(before: number | undefined, generation: number): Promise<void> {
    this.#loading = true;
    try {
      const page = await this.#o.api.page({
        before,
        limit: this.#o.pageSize ?? 50,
        ...(this.#fid === null ? {} : { fid: this.#fid }),
      });
      if (generation !== this.#generation) return;
      if (before === undefined) {
        this.#head = loadedUpTo(page, 0, this.#fid !== null);
        // Edits or comments that came while this page was on its way join it.
        if (this.#o.session.doc.seq > this.#head || this.#commented) this.changed();
      }
      this.#entries.push(...page.entries);
      this.#next = page.next;
      this.#more.textContent = page.next !== null
        ? ""
        : page.oldest > 1
        ? `Older history (before edit ${page.oldest}) is no longer kept by the relay.`
        : "The beginning of the map's history.";
      this.#render();
    } catch (e) {
      if (generation !== this.#generation) return;
      this.#more.textContent = `The history could not be loaded: ${
        e instanceof Error ? e.message : e
      }`;
      // Not asked again at once (a relay too busy to answer would be asked in a loop): the next
      // scroll asks again.
      return;
    } finally {
      if (generation === this.#generation) this.#loading = false;
    }
    this.#maybeLoadMore();
  }

  async #loadNewer(): Promise<void> {
    const generation = this.#generation;
    const head = this.#head;
    // Until the first page is in, what it brings is all there is (see #load).
    if (head === null) return;
    // One refresh at a time, so no edit is added twice; a change meanwhile asks again after it.
    if (this.#refreshing) return this.changed();
    this.#refreshing = true;
    const commented = this.#commented;
    this.#commented = false;
    let again = false;
    try {
      let fresh: HistoryEntry[] = [];
      if (this.#o.session.doc.seq > head) {
        const page = await this.#o.api.page({
          // What is new (with room for edits the relay took since), not a whole page: on a busy
          // relay every open panel asks at once.
          limit: Math.min(500, this.#o.session.doc.seq - head + 50),
          ...(this.#fid ? { fid: this.#fid } : {}),
        });
        if (generation !== this.#generation) return;
        // More new edits than one page holds: start over rather than leave a gap.
        if (page.next !== null && page.next > head + 1) return void this.#reload();
        fresh = page.entries.filter((e) => e.seq > head);
        this.#head = loadedUpTo(page, head, this.#fid !== null);
        // The relay accepted more than it listed yet: look again shortly (a few times at most).
        this.#behind = page.seq > this.#head && this.#behind < 5 ? this.#behind + 1 : 0;
        again = this.#behind > 0;
      }
      const comments = this.#fid === null && (commented || fresh.length > 0)
        ? await this.#o.api.comments().catch(() => null)
        : null;
      if (generation !== this.#generation || (fresh.length === 0 && comments === null)) return;
      this.#entries.unshift(...fresh);
      if (comments) this.#comments = comments;
      this.#refreshFailures = 0;
      this.#render();
    } catch {
      // The panel keeps what it has and asks again later, then later still.
      this.#refreshFailures = Math.min(this.#refreshFailures + 1, 6);
      this.#commented ||= commented;
      again = true;
    } finally {
      this.#refreshing = false;
      if (again) this.changed();
    }
  }

  #maybeLoadMore(): void {
    if (this.#loading || this.#next === null || !this.isOpen) return;
    const r = this.#root;
    if (r.scrollTop + r.clientHeight < r.scrollHeight - 200) return;
    void this.#load(this.#next, this.#generation);
  }

  #renderScope(): void {
    const fid = this.#fid;
    this.#scope.hidden = fid === null;
    if (fid === null) return;
    const title = featureTitle(this.#o.session, fid);
    this.#scope.replaceChildren(
      h("span", {}, `Changes to ${title === null ? "this feature" : `'${title}'`}`),
      h("button", { type: "button", class: "link", onclick: () => this.open({}) }, "Show all"),
    );
  }

  #render(): void {
    const complete = this.#next === null;
    const items = timelineItems(
      this.#entries,
      this.#comments,
      complete,
      (fid) => featureTitle(this.#o.session, fid),
    );
    this.#timeline.render(groupSessions(items), this.#namedVersions, this.#now());
    this.previewed(this.#o.preview.seq);
    if (items.length === 0 && complete) this.#more.textContent = "No edits yet.";
  }

  #preview(e: HistoryEntry): Promise<void> {
    const named = this.#namedVersions.find((ver) => ver.seq === e.seq);
    return this.#o.preview.show({ seq: e.seq, at: e.at, author: e.name, name: named?.name });
  }

  async #previewSeq(seq: number): Promise<void> {
    const known = this.#entries.find((e) => e.seq === seq);
    if (known) return this.#preview(known);
    const page = await this.#o.api.page({ before: seq + 1, limit: 1 }).catch(() => null);
    const e = page?.entries[0];
    if (e) await this.#preview(e);
  }

  async #nameVersion(name: string): Promise<void> {
    const session = this.#o.session;
    // The head this page has seen, so the name goes to the version its author is looking at.
    await this.#o.api.nameVersion(name, session.you?.name ?? "", session.doc.seq);
    this.#namedVersions = await this.#o.api.versions().catch(() => this.#namedVersions);
    this.#versions.render(this.#namedVersions);
    this.#render();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }
}

/** A feature's name or title on the map now, if it has one. */
export function featureTitle(session: Session, fid: string): string | null {
  return titleOf(session.doc.features.get(fid)?.properties);
}
