/** The "History" side panel: named versions, the timeline of edits and comments in sessions, paged as it scrolls, per feature on request. */
import { byId, h, toast } from "./dom.ts";
import type { HistoryApi } from "./history_api.ts";
import {
  groupSessions,
  type HistoryEntry,
  type MapComment,
  momentText,
  type NamedVersion,
  rangeText,
  sessionWords,
  type TimelineItem,
  timelineItems,
  type TimelineSession,
} from "./history_model.ts";
import type { HistoryPreview } from "./history_preview.ts";
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
  #versions = h("ul", { class: "history-versions", "aria-label": "Named versions" });
  #list = h("ol", { class: "history-list", "aria-label": "Edits and comments, newest first" });
  #more = h("p", { class: "history-more small", role: "status" });
  #nameInput = h("input", {
    type: "text",
    maxlength: "120",
    placeholder: "e.g. Before the field trip",
    "aria-label": "Name of the current version",
  });
  #root: HTMLElement;
  #entries: HistoryEntry[] = [];
  #comments: MapComment[] = [];
  #namedVersions: NamedVersion[] = [];
  #next: number | null = null;
  #head = 0;
  #fid: string | null = null;
  #loading = false;
  #generation = 0;
  #expanded = new Set<number>();
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
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
    const nameForm = h(
      "form",
      { class: "history-name editor-only", onsubmit: (e: Event) => this.#nameVersion(e) },
      this.#nameInput,
      h("button", { type: "submit" }, "Name current version"),
    );
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
      h(
        "section",
        { class: "history-named" },
        h("h3", {}, "Named versions"),
        this.#versions,
        nameForm,
      ),
      this.#list,
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

  /** The map changed: while open, the new edits join the top of the timeline soon after. */
  changed(): void {
    if (!this.isOpen || this.#refreshTimer !== null) return;
    this.#refreshTimer = globalThis.setTimeout(() => {
      this.#refreshTimer = null;
      if (this.isOpen && this.#o.session.doc.seq > this.#head) void this.#loadNewer();
    }, 800);
  }

  /** The preview changed: its entry is marked. */
  previewed(seq: number | null): void {
    for (const el of this.#list.querySelectorAll<HTMLElement>("[data-seq]")) {
      el.classList.toggle("current", Number(el.dataset.seq) === seq);
    }
  }

  async #reload(): Promise<void> {
    const generation = ++this.#generation;
    this.#entries = [];
    this.#next = null;
    this.#head = 0;
    this.#expanded.clear();
    this.#renderScope();
    this.#list.replaceChildren();
    this.#more.textContent = "Loading…";
    const api = this.#o.api;
    const [versions, comments] = await Promise.all([
      api.versions().catch(() => []),
      this.#fid === null ? api.comments().catch(() => null) : Promise.resolve(null),
    ]);
    if (generation !== this.#generation) return;
    this.#namedVersions = versions;
    this.#comments = comments ?? [];
    this.#renderVersions();
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
      if (before === undefined) this.#head = page.seq;
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
    } finally {
      if (generation === this.#generation) this.#loading = false;
    }
    this.#maybeLoadMore();
  }

  async #loadNewer(): Promise<void> {
    const generation = this.#generation;
    try {
      const page = await this.#o.api.page({ limit: 500, ...(this.#fid ? { fid: this.#fid } : {}) });
      if (generation !== this.#generation) return;
      const fresh = page.entries.filter((e) => e.seq > this.#head);
      this.#head = page.seq;
      if (fresh.length === 0) return;
      this.#entries.unshift(...fresh);
      if (this.#fid === null) this.#comments = await this.#o.api.comments().catch(() => null) ?? [];
      this.#render();
    } catch {
      // The next change tries again; the panel keeps what it has.
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

  #renderVersions(): void {
    const items = this.#namedVersions.map((ver) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "history-version",
            "data-seq": String(ver.seq),
            onclick: () =>
              void this.#o.preview.show({
                seq: ver.seq,
                at: ver.at,
                author: ver.author,
                name: ver.name,
              }),
          },
          h("strong", {}, ver.name),
          h(
            "span",
            { class: "small" },
            `${this.#moment(ver.at)}${ver.author ? ` · ${ver.author}` : ""}`,
          ),
        ),
      )
    );
    this.#versions.replaceChildren(
      ...(items.length > 0 ? items : [h("li", { class: "hint" }, "No named versions yet.")]),
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
    this.#list.replaceChildren(...groupSessions(items).map((s) => this.#session(s)));
    this.previewed(this.#o.preview.seq);
    if (items.length === 0 && complete) this.#more.textContent = "No edits yet.";
  }

  #session(s: TimelineSession): HTMLElement {
    const newest = s.items.find((i) => i.kind === "edit");
    const key = newest?.kind === "edit" ? newest.entry.seq : -s.to;
    const open = this.#expanded.has(key);
    const words = sessionWords(s.items.map((i) => i.kind === "edit" ? i.entry.summary : i.text));
    const head = h(
      "button",
      {
        type: "button",
        class: "history-session-head",
        ...(newest?.kind === "edit" ? { "data-seq": String(newest.entry.seq) } : {}),
        onclick: () => newest?.kind === "edit" && void this.#preview(newest.entry),
      },
      h("span", { class: "history-when" }, rangeText(s.from, s.to, { now: this.#now() })),
      h(
        "span",
        { class: "history-who" },
        h("span", { class: "dot", style: `background:${s.color}` }),
        s.name,
      ),
      h("span", { class: "history-words" }, words),
      ...this.#marks(s.items),
    );
    const toggle = s.items.length > 1 &&
      h("button", {
        type: "button",
        class: "link history-expand",
        "aria-expanded": String(open),
        onclick: () => {
          if (open) this.#expanded.delete(key);
          else this.#expanded.add(key);
          this.#render();
        },
      }, open ? "Hide the single changes" : `Show ${s.items.length} single changes`);
    const detail = open &&
      h("ol", { class: "history-items" }, ...s.items.map((i) => this.#item(i)));
    return h("li", { class: "history-session" }, head, toggle, detail);
  }

  #item(item: TimelineItem): HTMLElement {
    if (item.kind === "comment") {
      return h(
        "li",
        { class: "history-comment" },
        `${this.#time(item.at)} ${item.name} ${item.text}`,
      );
    }
    const e = item.entry;
    return h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: "history-entry",
          "data-seq": String(e.seq),
          onclick: () => void this.#preview(e),
        },
        h("span", { class: "history-when" }, this.#time(e.at)),
        ` ${e.name} ${e.summary}`,
        ...this.#marks([item]),
      ),
    );
  }

  /** Badges of the named versions at these items' seqs. */
  #marks(items: readonly TimelineItem[]): HTMLElement[] {
    const seqs = new Set(items.flatMap((i) => i.kind === "edit" ? [i.entry.seq] : []));
    return this.#namedVersions.filter((ver) => seqs.has(ver.seq)).map((ver) =>
      h("span", { class: "history-badge" }, ver.name)
    );
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

  async #nameVersion(event: Event): Promise<void> {
    event.preventDefault();
    const name = this.#nameInput.value.trim();
    if (!name) {
      toast("Type a name for the version first.", "error");
      return this.#nameInput.focus();
    }
    const session = this.#o.session;
    try {
      // The head this page has seen, so the name goes to the version its author is looking at.
      await this.#o.api.nameVersion(name, session.you?.name ?? "", session.doc.seq);
    } catch (e) {
      toast(`The version was not named: ${e instanceof Error ? e.message : e}`, "error");
      return;
    }
    this.#nameInput.value = "";
    toast(`Named this version “${name}”.`);
    this.#namedVersions = await this.#o.api.versions().catch(() => this.#namedVersions);
    this.#renderVersions();
    this.#render();
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #moment(ms: number): string {
    return momentText(ms, { now: this.#now() });
  }

  #time(ms: number): string {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" }).format(ms);
  }
}

/** A feature's name or title on the map now, if it has one. */
export function featureTitle(session: Session, fid: string): string | null {
  const p = session.doc.features.get(fid)?.properties;
  const t = p?.name ?? p?.title;
  return typeof t === "string" && t !== "" ? t : null;
}
