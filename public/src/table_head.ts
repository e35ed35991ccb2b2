/** The feature table's two header rows: sort buttons with each column's type, column actions for editors, and per-column filters. */
import { h } from "./dom.ts";
import { type Column, GEOMETRY_COLUMN, type SortOrder } from "./table_model.ts";

/** What the header rows show and whom they tell. */
export interface HeadOptions {
  columns: readonly Column[];
  order: SortOrder | null;
  editable: boolean;
  /** Each column's filter text so far (by key), kept across rebuilds. */
  filters: ReadonlyMap<string, string>;
  sort(key: string): void;
  rename(key: string): void;
  remove(key: string): void;
  /** A filter box changed. */
  filter(): void;
}

/** The header row (role=columnheader cells with aria-sort) and the filter row. */
export function headRows(o: HeadOptions): [HTMLElement, HTMLElement] {
  const head = h("div", { class: "ft-row ft-header", role: "row", "aria-rowindex": "1" });
  const filterRow = h("div", { class: "ft-row ft-filters", role: "row", "aria-rowindex": "2" });
  o.columns.forEach((c, i) => {
    const label = c.key === GEOMETRY_COLUMN ? "Geometry" : c.key;
    const dir = o.order?.key === c.key ? o.order.dir : null;
    const arrow = dir === "asc" ? " ▲" : dir === "desc" ? " ▼" : "";
    const cell = h(
      "div",
      {
        class: "ft-cell",
        role: "columnheader",
        "aria-colindex": String(i + 1),
        "data-key": c.key,
        "aria-sort": dir === "asc" ? "ascending" : dir === "desc" ? "descending" : "none",
      },
      h(
        "button",
        {
          type: "button",
          class: "ft-sort",
          title: `Sort by ${label}`,
          onclick: () => o.sort(c.key),
        },
        // Chromium centres a button's overflowing content, cutting both ends: the span clips.
        h(
          "span",
          { class: "ft-label" },
          label,
          " ",
          h("span", { class: "ft-type" }, c.key === GEOMETRY_COLUMN ? "" : c.type),
          arrow,
        ),
      ),
    );
    if (c.key !== GEOMETRY_COLUMN) {
      const action = (text: string, what: string, run: () => void) =>
        h("button", {
          type: "button",
          class: "ft-col-action",
          "aria-label": `${what} column ${c.key}`,
          title: `${what} column`,
          hidden: !o.editable,
          onclick: run,
        }, text);
      cell.append(
        action("✎", "Rename", () => o.rename(c.key)),
        action("×", "Delete", () => o.remove(c.key)),
      );
    }
    head.append(cell);
    const input = h("input", {
      type: "search",
      class: "ft-filter",
      "data-col": c.key,
      "aria-label": `Filter ${label}`,
      placeholder: "filter",
      oninput: () => o.filter(),
    });
    input.value = o.filters.get(c.key) ?? "";
    filterRow.append(h("div", { class: "ft-cell", role: "gridcell" }, input));
  });
  return [head, filterRow];
}
