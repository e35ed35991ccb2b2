/** The timeline list of the history panel: sessions of one author, each expandable to its single edits and comments, named versions marked. */
import { h, KeyedList } from "./dom.ts";
import {
  changeList,
  type HistoryEntry,
  type NamedVersion,
  rangeText,
  sessionWords,
  type TimelineItem,
  type TimelineSession,
} from "./history_model.ts";

/** Options for {@link TimelineView}. */
export interface TimelineViewOptions {
  /** An edit was clicked: preview the map right after it. */
  preview: (entry: HistoryEntry) => void;
  /** A session was expanded or collapsed: render again. */
  rerender: () => void;
  /** A comment was clicked: open its thread on the map. */
  openComment?: (id: string) => void;
}

/** Renders sessions into an `<ol>`; which sessions are expanded survives a render. */
export class TimelineView {
  /** The list element. */
  readonly element: HTMLOListElement = h("ol", {
    class: "history-list",
    "aria-label": "Edits and comments, newest first",
  });
  #o: TimelineViewOptions;
  #expanded = new Set<number>();
  #versions: readonly NamedVersion[] = [];
  #now = 0;
  #shown = new KeyedList(this.element);

  constructor(options: TimelineViewOptions) {
    this.#o = options;
  }

  /** Shows these sessions, marking the named versions; `now` is the clock times are told against. */
  render(
    sessions: readonly TimelineSession[],
    versions: readonly NamedVersion[],
    now: number,
  ): void {
    this.#versions = versions;
    this.#now = now;
    // A session that shows the same as before keeps its element: a refresh that brings nothing
    // new for it must not replace a button under a press (the click would be lost) or its focus.
    this.#shown.render(
      sessions.map((s) => ({ looks: this.#looks(s), make: () => this.#session(s) })),
    );
  }

  /** Empties the list and forgets which sessions were expanded. */
  clear(): void {
    this.#expanded.clear();
    this.#shown.clear();
  }

  /** Marks the entries of edit `seq` as the one previewed (none for `null`). */
  mark(seq: number | null): void {
    for (const el of this.element.querySelectorAll<HTMLElement>("[data-seq]")) {
      el.classList.toggle("current", Number(el.dataset.seq) === seq);
    }
  }

  /** Everything a session's element shows and does, as a string: equal strings, equal elements. */
  #looks(s: TimelineSession): string {
    return JSON.stringify([
      this.#expanded.has(sessionKey(s)),
      rangeText(s.from, s.to, { now: this.#now }),
      s.name,
      s.color,
      s.items.map((i) =>
        i.kind === "comment"
          ? [i.id, i.at, i.name, i.text]
          : [i.entry.seq, i.entry.at, i.entry.name, i.entry.summary, changeList(i.entry)]
      ),
      this.#versions.filter((ver) =>
        s.items.some((i) => i.kind === "edit" && i.entry.seq === ver.seq)
      ).map((ver) => [ver.seq, ver.name]),
    ]);
  }

  #session(s: TimelineSession): HTMLElement {
    const newest = s.items.find((i) => i.kind === "edit");
    const key = sessionKey(s);
    const open = this.#expanded.has(key);
    const words = sessionWords(s.items.map((i) => i.kind === "edit" ? i.entry.summary : i.text));
    const head = h(
      "button",
      {
        type: "button",
        class: "history-session-head",
        ...(newest?.kind === "edit" ? { "data-seq": String(newest.entry.seq) } : {}),
        // A session of comments only opens its newest comment's thread.
        onclick: () =>
          newest?.kind === "edit"
            ? void this.#o.preview(newest.entry)
            : s.items[0]?.kind === "comment" && this.#o.openComment?.(s.items[0].id),
      },
      h("span", { class: "history-when" }, rangeText(s.from, s.to, { now: this.#now })),
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
          this.#o.rerender();
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
        {},
        h("button", {
          type: "button",
          class: "history-entry history-comment",
          "data-comment": item.id,
          title: "Open this comment's thread on the map",
          onclick: () => this.#o.openComment?.(item.id),
        }, `${this.#time(item.at)} ${item.name} ${item.text}`),
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
          title: changeList(e),
          onclick: () => void this.#o.preview(e),
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
    return this.#versions.filter((ver) => seqs.has(ver.seq)).map((ver) =>
      h("span", { class: "history-badge" }, ver.name)
    );
  }

  #time(ms: number): string {
    return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" }).format(ms);
  }
}

/** What identifies a session across renders (for its expanded state): its newest edit's seq. */
function sessionKey(s: TimelineSession): number {
  const newest = s.items.find((i) => i.kind === "edit");
  return newest?.kind === "edit" ? newest.entry.seq : -s.to;
}
