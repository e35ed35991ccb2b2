/** The feature table drawer: the "Table" button, the model kept in step with the session, and cell and column edits as ordinary edits. */
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { byId, h, toast } from "./dom.ts";
import type { Session } from "./session.ts";
import {
  addColumnOps,
  type Column,
  columnEdits,
  columnNameProblem,
  columnsOf,
  type ColumnType,
  deleteColumnOps,
  filterFeatures,
  parseCell,
  renameColumnOps,
  type RowFilter,
  sortFeatures,
  type SortOrder,
} from "./table_model.ts";
import { TableView } from "./table_view.ts";

/** Options for {@link FeatureTable}. */
export interface FeatureTableOptions {
  session: Session;
  /** Selects a feature on the map (and in its panel). */
  select(fid: string): void;
  zoomTo(fid: string): void;
  /** The map's size changed (the drawer opened or closed). */
  onResize(): void;
  /** The relay's limits on one edit (`/api/config`): a column change larger is split. */
  limits: { maxOps: number; maxBytes: number };
}

/**
 * Every feature as a row and every property as a typed column, in a drawer under the map.
 * Remote edits update rows in place (same order, same scroll position, an open editor kept);
 * only features appearing or going away re-sort and re-filter.
 */
export class FeatureTable {
  #options: FeatureTableOptions;
  #view: TableView;
  #root: HTMLElement;
  #button = h("button", {
    type: "button",
    id: "table-toggle",
    "aria-expanded": "false",
    "aria-controls": "feature-table",
    title: "Show every feature in a table",
  }, "Table");
  #count = h("span", { class: "ft-count", role: "status" });
  #columns: Column[] = [];
  #rows: StoredFeature[] = [];
  #known = new Set<string>();
  #sort: SortOrder | null = null;
  #filter: RowFilter = { any: "", columns: {} };
  #dirty = true;
  #editable = false;

  constructor(options: FeatureTableOptions) {
    this.#options = options;
    this.#view = new TableView({
      sort: (key) => {
        const same = this.#sort?.key === key;
        this.#sort = same && this.#sort?.dir === "desc" ? null : {
          key,
          dir: same ? "desc" : "asc",
        };
        this.#rebuild();
      },
      filter: (any, columns) => {
        this.#filter = { any, columns };
        this.#rebuild();
      },
      activate: (fid) => {
        options.select(fid);
        options.zoomTo(fid);
      },
      commit: (fid, column, input) => this.#commit(fid, column, input),
      rename: (key) => this.#rename(key),
      remove: (key) => this.#remove(key),
    });
    const addName = h("input", {
      type: "text",
      class: "ft-new-name",
      placeholder: "New column",
      "aria-label": "New column name",
    });
    this.#root = h(
      "section",
      { id: "feature-table", class: "feature-table", "aria-label": "Feature table", hidden: true },
      h(
        "div",
        { class: "ft-toolbar" },
        h("input", {
          type: "search",
          class: "ft-any",
          placeholder: "Filter rows…",
          "aria-label": "Filter rows (any column)",
          oninput: (e: Event) => this.#view.filterAny((e.target as HTMLInputElement).value),
        }),
        this.#count,
        h(
          "form",
          {
            class: "ft-add editor-only",
            onsubmit: (e: Event) => {
              e.preventDefault();
              if (this.#add(addName.value)) addName.value = "";
            },
          },
          addName,
          h("button", { type: "submit" }, "Add column"),
        ),
        h("button", {
          type: "button",
          class: "ft-close",
          "aria-label": "Close the table",
          onclick: () => this.toggle(false),
        }, "×"),
      ),
      this.#view.scroller,
    );
    this.#button.addEventListener("click", () => this.toggle());
  }

  /** Whether the drawer is open. */
  get open(): boolean {
    return !this.#root.hidden;
  }

  /** Adds the button to the header and the drawer under the map. */
  onAdd(): this {
    byId("share", HTMLElement).before(this.#button);
    document.querySelector(".layout")?.after(this.#root);
    return this;
  }

  /** Once the role is known: editors get editable cells and column actions. */
  setup(editable: boolean): void {
    this.#editable = editable;
    this.#view.setEditable(editable);
  }

  /** Opens or closes the drawer (toggles without an argument). */
  toggle(open = !this.open): void {
    this.#root.hidden = !open;
    this.#button.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("table-open", open);
    if (open && this.#dirty) this.#rebuild();
    this.#options.onResize();
    if (open) this.#view.schedule();
  }

  /** Some features changed: rows update in place; new or removed features re-sort and re-filter. */
  update(fids: ReadonlySet<string>): void {
    const features = this.#options.session.doc.features;
    const structural = [...fids].some((fid) => features.has(fid) !== this.#known.has(fid));
    if (!this.open) return void (this.#dirty = true);
    if (structural) return this.#rebuild();
    this.#columns = columnsOf(features.values());
    // The same rows in the same order: an edited value stays where it is until the next sort.
    const rows = this.#rows.map((f) => features.get(f.id) ?? f);
    this.#rows = rows;
    this.#view.setData(this.#columns, rows, this.#sort);
    this.#view.refresh(fids);
  }

  /** The map selected a feature (or none): its row is highlighted and scrolled into view. */
  selected(fid: string | null): void {
    this.#view.select(fid, this.open);
  }

  #rebuild(): void {
    const all = [...this.#options.session.doc.features.values()];
    this.#known = new Set(all.map((f) => f.id));
    this.#columns = columnsOf(all);
    const sortKey = this.#sort?.key;
    // The geometry column sorts as text.
    const type: ColumnType = this.#columns.find((c) => c.key === sortKey)?.type ?? "text";
    this.#rows = sortFeatures(filterFeatures(all, this.#filter, this.#columns), this.#sort, type);
    this.#dirty = false;
    this.#count.textContent = this.#rows.length === all.length
      ? `${all.length} features`
      : `${this.#rows.length} of ${all.length} features`;
    this.#view.setData(this.#columns, this.#rows, this.#sort);
  }

  #commit(fid: string, column: Column, input: string | boolean): string | null {
    if (!this.#editable) return "This is a view-only link: cells cannot be changed.";
    const parsed = typeof input === "boolean"
      ? { ok: true as const, value: input }
      : parseCell(input, column.type);
    if (!parsed.ok) return parsed.message;
    const f = this.#options.session.doc.features.get(fid);
    if (!f) return "This feature is no longer on the map.";
    if (JSON.stringify(f.properties[column.key] ?? null) === JSON.stringify(parsed.value)) {
      return null;
    }
    void this.#options.session.edit([{ op: "props", fid, set: { [column.key]: parsed.value } }]);
    return null;
  }

  #add(name: string): boolean {
    const problem = columnNameProblem(name, this.#columns);
    if (problem) {
      toast(problem, "error");
      return false;
    }
    this.#send(addColumnOps(this.#options.session.doc.features.values(), name, null), "add");
    return true;
  }

  #rename(key: string): void {
    const to = prompt(`Rename column "${key}" to:`, key);
    if (to === null || to === key) return;
    const problem = columnNameProblem(to, this.#columns);
    if (problem) return toast(problem, "error");
    this.#send(renameColumnOps(this.#options.session.doc.features.values(), key, to), "rename");
  }

  #remove(key: string): void {
    if (!confirm(`Delete column "${key}" from every feature? (Undo brings it back.)`)) return;
    this.#send(deleteColumnOps(this.#options.session.doc.features.values(), key), "delete");
  }

  /**
   * Sends a column change as one edit, so one undo reverts it; only a change larger than the
   * relay takes in one edit is split, and the user is told that each part undoes separately.
   */
  #send(ops: EditOp[], what: string): void {
    if (ops.length === 0) return toast("There are no features to change.");
    const batches = columnEdits(ops, this.#options.limits);
    for (const batch of batches) void this.#options.session.edit(batch);
    if (batches.length > 1) {
      toast(
        `This ${what} touches ${ops.length} features, more than the relay takes in one edit, ` +
          `so it was sent as ${batches.length} edits; undo reverts one of them at a time.`,
      );
    }
  }
}
