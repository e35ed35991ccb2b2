/** The feature table's DOM: a virtualised grid (fixed row height, only visible rows exist) with sortable headers, filters and cell editors. */
import type { StoredFeature } from "../../relay/protocol.ts";
import { h } from "./dom.ts";
import { CellEditor } from "./table_editor.ts";
import { headRows } from "./table_head.ts";
import {
  cellText,
  cellValue,
  type Column,
  GEOMETRY_COLUMN,
  type SortOrder,
} from "./table_model.ts";

/** Every row's height in CSS pixels (the CSS sets the same). */
export const ROW_HEIGHT = 28;
/** Rows drawn beyond each edge of the visible ones, so a fast scroll shows no gap. */
const OVERSCAN = 8;

/** What the table asks of its owner. */
export interface TableViewEvents {
  sort(key: string): void;
  filter(any: string, columns: Record<string, string>): void;
  /** A row was clicked (or Enter pressed on it where it cannot be edited). */
  activate(fid: string): void;
  /** A cell's new text (or checkbox state); the answer is an error to show, or null when done. */
  commit(fid: string, column: Column, input: string | boolean): string | null;
  /** The header's rename and delete buttons of a property column. */
  rename(key: string): void;
  remove(key: string): void;
}

/**
 * The grid: a sticky header row (sort buttons, column actions), a filter row and a body whose
 * height is every row's, holding only the rows in view plus {@link OVERSCAN}. Keyboard: arrows,
 * Home/End, PageUp/PageDown move the active cell; Enter or F2 edits, Escape cancels, Tab commits
 * and moves on; Space toggles a checkbox.
 */
export class TableView {
  readonly scroller: HTMLElement;
  #events: TableViewEvents;
  #head = h("div", { class: "ft-head", role: "rowgroup" });
  #body = h("div", { class: "ft-body", role: "rowgroup" });
  #columns: Column[] = [];
  #rows: readonly StoredFeature[] = [];
  #index = new Map<string, number>();
  #editable = false;
  #selected: string | null = null;
  #active = { row: 0, col: 0 };
  #editor: CellEditor | null = null;
  #pool: HTMLElement[] = [];
  #frame = 0;
  #frameFull = false;
  /** The header rows' height, measured when they change, so scrolling never forces a layout. */
  #headHeight = 0;

  constructor(events: TableViewEvents) {
    this.#events = events;
    this.scroller = h(
      "div",
      {
        class: "ft-scroll",
        role: "grid",
        tabindex: "0",
        "aria-label": "Features",
        "aria-readonly": "true",
      },
      this.#head,
      this.#body,
    );
    this.scroller.addEventListener("scroll", () => this.schedule(false));
    this.scroller.addEventListener("keydown", (e) => this.#key(e));
    this.#body.addEventListener("click", (e) => this.#click(e));
    this.#body.addEventListener("dblclick", (e) => this.#dblclick(e));
  }

  /** The displayed columns: the geometry type first, then the properties. */
  get columns(): readonly Column[] {
    return this.#columns;
  }

  /** How many row elements exist now (the window, not the whole table). */
  get renderedRows(): number {
    return this.#body.querySelectorAll(".ft-row").length;
  }

  /** Shows these columns and rows; the scroll position and an open editor stay. */
  setData(columns: Column[], rows: readonly StoredFeature[], sort: SortOrder | null): void {
    const names = (cs: readonly Column[]) => cs.map((c) => `${c.key}:${c.type}`).join("\n");
    const all = [{ key: GEOMETRY_COLUMN, type: "text" as const }, ...columns];
    const changed = names(all) !== names(this.#columns);
    this.#columns = all;
    this.#rows = rows;
    this.#index = new Map(rows.map((f, i) => [f.id, i]));
    if (changed) this.#pool.forEach((r) => r.remove());
    if (changed) this.#pool = [];
    this.#renderHead(sort);
    this.scroller.style.setProperty(
      "--ft-cols",
      `7.5em ${columns.map((c) => c.type === "boolean" ? "8em" : "12em").join(" ")}`,
    );
    this.scroller.setAttribute("aria-rowcount", String(rows.length + 2));
    this.scroller.setAttribute("aria-colcount", String(all.length));
    this.#body.style.height = `${rows.length * ROW_HEIGHT}px`;
    this.#active.row = Math.min(this.#active.row, Math.max(0, rows.length - 1));
    this.#active.col = Math.min(this.#active.col, all.length - 1);
    this.#headHeight = this.#head.offsetHeight;
    this.#render();
  }

  /** Whether cells may be edited (editors) or only read (viewers). */
  setEditable(editable: boolean): void {
    this.#editable = editable;
    this.scroller.setAttribute("aria-readonly", String(!editable));
    this.#head.querySelectorAll<HTMLElement>(".ft-col-action").forEach((b) => b.hidden = !editable);
    this.#render();
  }

  /** Redraws the rows in view; a remote change to the cell being edited is pointed out. */
  refresh(fids: ReadonlySet<string>): void {
    const ed = this.#editor;
    if (ed && fids.has(ed.fid)) {
      const f = this.#rows[this.#index.get(ed.fid) ?? -1];
      ed.remoteChange(f ? cellText(cellValue(f, ed.column.key)) : null);
    }
    this.#render();
  }

  /** Highlights the selected feature's row and, when asked, scrolls it into view. */
  select(fid: string | null, scroll: boolean): void {
    this.#selected = fid;
    const i = fid === null ? undefined : this.#index.get(fid);
    if (i !== undefined) {
      this.#active.row = i;
      if (scroll) this.#reveal(i);
    }
    this.#render();
  }

  /**
   * Redraws on the next frame (once, however often asked); `full` rewrites every row, otherwise
   * (a scroll) rows still showing the same feature at the same place are left alone.
   */
  schedule(full = true): void {
    this.#frameFull ||= full;
    if (this.#frame !== 0) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#render(this.#frameFull);
      this.#frameFull = false;
    });
  }

  #renderHead(sort: SortOrder | null): void {
    const focused = document.activeElement instanceof HTMLInputElement &&
        this.#head.contains(document.activeElement)
      ? document.activeElement.dataset.col
      : undefined;
    const filters = new Map<string, string>();
    this.#head.querySelectorAll<HTMLInputElement>(".ft-filter").forEach((i) =>
      filters.set(i.dataset.col ?? "", i.value)
    );
    const [head, filterRow] = headRows({
      columns: this.#columns,
      order: sort,
      editable: this.#editable,
      filters,
      sort: (key) => this.#events.sort(key),
      rename: (key) => this.#events.rename(key),
      remove: (key) => this.#events.remove(key),
      filter: () => this.#emitFilter(),
    });
    this.#head.replaceChildren(head, filterRow);
    if (focused !== undefined) {
      this.#head.querySelector<HTMLInputElement>(`.ft-filter[data-col="${CSS.escape(focused)}"]`)
        ?.focus();
    }
  }

  /** Sends the toolbar's filter text plus every column's. */
  #emitFilter(any?: string): void {
    const columns: Record<string, string> = {};
    this.#head.querySelectorAll<HTMLInputElement>(".ft-filter").forEach((i) => {
      if (i.value.trim() !== "") columns[i.dataset.col ?? ""] = i.value;
    });
    this.#events.filter(any ?? this.scroller.dataset.any ?? "", columns);
  }

  /** The toolbar's any-column filter changed. */
  filterAny(text: string): void {
    this.scroller.dataset.any = text;
    this.#emitFilter(text);
  }

  #render(full = true): void {
    const top = Math.max(0, this.scroller.scrollTop - this.#headHeight);
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil(this.scroller.clientHeight / ROW_HEIGHT) + 2 * OVERSCAN;
    const last = Math.min(this.#rows.length, first + visible);
    while (this.#pool.length < last - first) {
      const row = h("div", { class: "ft-row", role: "row" });
      for (let c = 0; c < this.#columns.length; c++) {
        row.append(h("div", { class: "ft-cell", role: "gridcell" }));
      }
      this.#pool.push(row);
      this.#body.append(row);
    }
    while (this.#pool.length > last - first) this.#pool.pop()?.remove();
    if (full) this.scroller.removeAttribute("aria-activedescendant");
    for (let i = first; i < last; i++) this.#fill(this.#pool[i - first], i, full);
    this.#placeEditor();
  }

  #fill(row: HTMLElement, i: number, full: boolean): void {
    const f = this.#rows[i];
    if (row.dataset.index === String(i) && row.dataset.fid === f.id && !full) {
      return;
    }
    row.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
    row.dataset.fid = f.id;
    row.dataset.index = String(i);
    row.setAttribute("aria-rowindex", String(i + 3));
    const selected = f.id === this.#selected;
    row.classList.toggle("ft-selected", selected);
    row.setAttribute("aria-selected", String(selected));
    const cells = row.children;
    this.#columns.forEach((c, ci) => {
      const cell = cells[ci] as HTMLElement;
      const value = cellValue(f, c.key);
      const active = this.#active.row === i && this.#active.col === ci;
      // Only what changed is written: a write restyles the cell even when the value is the same.
      const name = `ft-cell ft-${c.key === GEOMETRY_COLUMN ? "geom" : c.type}${
        active ? " ft-active" : ""
      }`;
      if (cell.className !== name) cell.className = name;
      if (cell.dataset.col !== String(ci)) cell.dataset.col = String(ci);
      if (cell.id !== (active ? "ft-active-cell" : "")) cell.id = active ? "ft-active-cell" : "";
      if (active) this.scroller.setAttribute("aria-activedescendant", "ft-active-cell");
      if (c.type === "boolean" && (typeof value === "boolean" || value == null)) {
        const box = cell.firstElementChild instanceof HTMLInputElement
          ? cell.firstElementChild
          : h("input", { type: "checkbox", tabindex: "-1", "aria-label": c.key });
        box.checked = value === true;
        box.indeterminate = value == null;
        box.disabled = !this.#editable;
        if (box.parentElement !== cell) cell.replaceChildren(box);
      } else {
        const text = cellText(value);
        if (cell.firstChild instanceof HTMLInputElement || cell.textContent !== text) {
          cell.textContent = text;
        }
      }
    });
  }

  #reveal(i: number): void {
    const s = this.scroller;
    const head = this.#headHeight;
    const y = head + i * ROW_HEIGHT;
    if (y < s.scrollTop + head) s.scrollTop = y - head;
    else if (y + ROW_HEIGHT > s.scrollTop + s.clientHeight) {
      s.scrollTop = y + ROW_HEIGHT - s.clientHeight;
    }
  }

  #target(e: Event): { fid: string; row: number; col: number } | null {
    const cell = (e.target as Element).closest<HTMLElement>(".ft-cell");
    const row = cell?.closest<HTMLElement>(".ft-row");
    if (!cell || !row?.dataset.fid) return null;
    return { fid: row.dataset.fid, row: Number(row.dataset.index), col: Number(cell.dataset.col) };
  }

  #click(e: MouseEvent): void {
    const t = this.#target(e);
    if (!t || e.target instanceof HTMLInputElement && e.target.type === "text") return;
    this.#active = { row: t.row, col: t.col };
    const column = this.#columns[t.col];
    if (e.target instanceof HTMLInputElement && e.target.type === "checkbox") {
      this.#events.commit(t.fid, column, e.target.checked);
    }
    this.#events.activate(t.fid);
    this.scroller.focus({ preventScroll: true });
  }

  #dblclick(e: MouseEvent): void {
    const t = this.#target(e);
    if (t) this.#edit(t.row, t.col);
  }

  #edit(row: number, col: number): void {
    const f = this.#rows[row];
    const column = this.#columns[col];
    this.#active = { row, col };
    if (!f || !this.#editable || column.key === GEOMETRY_COLUMN) return;
    if (column.type === "boolean") {
      this.#events.commit(f.id, column, cellValue(f, column.key) !== true);
      return;
    }
    this.#editor?.close();
    const editor: CellEditor = new CellEditor({
      host: this.#body,
      fid: f.id,
      column,
      before: cellText(cellValue(f, column.key)),
      commit: (text) => this.#events.commit(f.id, column, text),
      closed: (move) => {
        if (this.#editor === editor) this.#editor = null;
        this.scroller.focus({ preventScroll: true });
        if (move !== 0) this.#move(0, move, true);
      },
    });
    this.#editor = editor;
    this.#placeEditor();
    editor.focus();
  }

  #placeEditor(): void {
    const ed = this.#editor;
    if (!ed) return;
    const i = Math.max(0, this.#index.get(ed.fid) ?? 0);
    const col = this.#columns.findIndex((c) => c.key === ed.column.key);
    const cell = this.#pool[0]?.children[col] as HTMLElement | undefined;
    ed.place(i * ROW_HEIGHT, cell?.offsetLeft ?? 0, cell?.offsetWidth ?? 160);
  }

  #move(dRow: number, dCol: number, edit = false): void {
    const rows = this.#rows.length;
    const row = Math.min(rows - 1, Math.max(0, this.#active.row + dRow));
    const col = Math.min(this.#columns.length - 1, Math.max(0, this.#active.col + dCol));
    this.#active = { row: Math.max(0, row), col };
    this.#reveal(this.#active.row);
    this.#render();
    if (edit) this.#edit(this.#active.row, col);
  }

  #key(e: KeyboardEvent): void {
    if (e.target !== this.scroller) return;
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 3);
    const { row, col } = this.#active;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [-1, 0],
      ArrowDown: [1, 0],
      ArrowLeft: [0, -1],
      ArrowRight: [0, 1],
      PageUp: [-page, 0],
      PageDown: [page, 0],
      Home: e.ctrlKey ? [-row, -col] : [0, -col],
      End: e.ctrlKey ? [this.#rows.length, this.#columns.length] : [0, this.#columns.length],
    };
    const f = this.#rows[row];
    if (moves[e.key]) this.#move(...moves[e.key]);
    else if (f && (e.key === "Enter" || e.key === "F2" || e.key === " ")) {
      const column = this.#columns[col];
      if (this.#editable && column.key !== GEOMETRY_COLUMN) {
        if (e.key !== " " || column.type === "boolean") this.#edit(row, col);
        else return;
      } else if (e.key === "Enter") this.#events.activate(f.id);
      else return;
    } else return;
    e.preventDefault();
  }
}
