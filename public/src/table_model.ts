/** The feature table's model, without any DOM: typed columns, rows, sorting, filtering, cell parsing and column edits. */
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { splitOps } from "../../relay/import_read.ts";

/** How a column's values are shown and parsed; mixed columns are `text` or `json`. */
export type ColumnType = "text" | "number" | "boolean" | "json";

/** One property key of the map, with the type its values share. */
export interface Column {
  key: string;
  type: ColumnType;
}

/** The pseudo-column holding each feature's geometry type (sortable and filterable, never edited). */
export const GEOMETRY_COLUMN = "\u0000geometry";

/** How rows are ordered: by a property key (or {@link GEOMETRY_COLUMN}), ascending or descending. */
export interface SortOrder {
  key: string;
  dir: "asc" | "desc";
}

/** A value counts as empty when it is absent, `null` or an empty string (sorted last, shown blank). */
export function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

/** The type of one value, or null when it is empty and says nothing about its column. */
function typeOf(value: unknown): ColumnType | null {
  if (isEmpty(value)) return null;
  if (typeof value === "number") return "number";
  if (typeof value === "boolean") return "boolean";
  if (typeof value === "string") return "text";
  return "json";
}

/**
 * The type of a column from its values: one shared type wins; a mix holding objects or arrays is
 * `json`, any other mix is `text`; no values at all is `text`.
 *
 * @example
 * ```ts
 * inferType([1, null, 2.5]); // "number"
 * inferType([1, "a"]); // "text"
 * ```
 */
export function inferType(values: Iterable<unknown>): ColumnType {
  let seen: ColumnType | null = null;
  let mixed = false;
  let hasJson = false;
  for (const v of values) {
    const t = typeOf(v);
    if (t === null) continue;
    if (t === "json") hasJson = true;
    if (seen === null) seen = t;
    else if (seen !== t) mixed = true;
  }
  if (mixed) return hasJson ? "json" : "text";
  return seen ?? "text";
}

/** Every property key of these features (first seen first), each with its inferred type. */
export function columnsOf(features: Iterable<StoredFeature>): Column[] {
  const values = new Map<string, unknown[]>();
  for (const f of features) {
    for (const [key, value] of Object.entries(f.properties)) {
      let list = values.get(key);
      if (!list) values.set(key, list = []);
      list.push(value);
    }
  }
  return [...values].map(([key, list]) => ({ key, type: inferType(list) }));
}

/** The geometry type a row shows: the GeoJSON type, or "None" for a feature without geometry. */
export function geometryType(f: StoredFeature): string {
  return f.geometry?.type ?? "None";
}

/** What a cell shows: numbers and text as they are, booleans as true/false, the rest as JSON. */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** The value a feature has in a column (its geometry type for {@link GEOMETRY_COLUMN}). */
export function cellValue(f: StoredFeature, key: string): unknown {
  return key === GEOMETRY_COLUMN ? geometryType(f) : f.properties[key];
}

/** Lower case without accents, for matching "Zürich" with "zurich". */
export function fold(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

function compareValues(a: unknown, b: unknown, type: ColumnType): number {
  if (type === "number" && typeof a === "number" && typeof b === "number") return a - b;
  if (type === "boolean" && typeof a === "boolean" && typeof b === "boolean") {
    return Number(a) - Number(b);
  }
  return cellText(a).localeCompare(cellText(b), undefined, { numeric: true });
}

/**
 * Sorts features by a column, stably (equal values keep their order), numbers numerically, and
 * empty values last in both directions.
 */
export function sortFeatures(
  features: readonly StoredFeature[],
  order: SortOrder | null,
  type: ColumnType,
): StoredFeature[] {
  const out = [...features];
  if (order === null) return out;
  const sign = order.dir === "asc" ? 1 : -1;
  out.sort((fa, fb) => {
    const a = cellValue(fa, order.key);
    const b = cellValue(fb, order.key);
    const ea = isEmpty(a);
    const eb = isEmpty(b);
    if (ea || eb) return ea === eb ? 0 : ea ? 1 : -1;
    return sign * compareValues(a, b, type);
  });
  return out;
}

/** A filter: any column containing `any`, and each keyed column containing its text. */
export interface RowFilter {
  any: string;
  columns: Record<string, string>;
}

/** The features matching a filter, case- and accent-insensitively, in their order. */
export function filterFeatures(
  features: readonly StoredFeature[],
  filter: RowFilter,
  columns: readonly Column[],
): StoredFeature[] {
  const any = fold(filter.any.trim());
  const per = Object.entries(filter.columns)
    .map(([key, text]) => [key, fold(text.trim())] as const)
    .filter(([, text]) => text !== "");
  if (any === "" && per.length === 0) return [...features];
  const keys = [GEOMETRY_COLUMN, ...columns.map((c) => c.key)];
  return features.filter((f) =>
    per.every(([key, text]) => fold(cellText(cellValue(f, key))).includes(text)) &&
    (any === "" || keys.some((key) => fold(cellText(cellValue(f, key))).includes(any)))
  );
}

/** A parsed cell: the value to store, or what is wrong with the text. */
export type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Parses what was typed into a cell of a column of this type. An empty cell clears the value
 * (`null`); a number column takes numbers, a JSON column JSON, a text column any text.
 */
export function parseCell(text: string, type: ColumnType): Parsed {
  const t = text.trim();
  if (type === "text") return { ok: true, value: text };
  if (t === "") return { ok: true, value: null };
  switch (type) {
    case "number": {
      const n = Number(t.replace(/_/g, ""));
      return Number.isFinite(n)
        ? { ok: true, value: n }
        : { ok: false, message: `"${t}" is not a number (write e.g. 42 or -3.5).` };
    }
    case "boolean":
      if (/^(true|yes|1)$/i.test(t)) return { ok: true, value: true };
      if (/^(false|no|0)$/i.test(t)) return { ok: true, value: false };
      return { ok: false, message: `"${t}" is not true or false.` };
    case "json":
      try {
        return { ok: true, value: JSON.parse(t) };
      } catch (e) {
        return { ok: false, message: `Not valid JSON: ${e instanceof Error ? e.message : e}` };
      }
  }
}

/** The one op that sets one cell. */
export function cellOp(fid: string, key: string, value: unknown): EditOp {
  return { op: "props", fid, set: { [key]: value } };
}

/** What is wrong with a new column name, or null when it may be used. */
export function columnNameProblem(name: string, columns: readonly Column[]): string | null {
  if (name.trim() === "") return "A column needs a name.";
  if (columns.some((c) => c.key === name)) return `There is already a column "${name}".`;
  return null;
}

/** Ops adding a column: every feature without the key gets it with `value`. */
export function addColumnOps(
  features: Iterable<StoredFeature>,
  key: string,
  value: unknown = null,
): EditOp[] {
  const ops: EditOp[] = [];
  for (const f of features) {
    if (!Object.hasOwn(f.properties, key)) ops.push(cellOp(f.id, key, value));
  }
  return ops;
}

/** Ops renaming a column: each feature holding `from` gets its value under `to` instead. */
export function renameColumnOps(
  features: Iterable<StoredFeature>,
  from: string,
  to: string,
): EditOp[] {
  const ops: EditOp[] = [];
  if (from === to) return ops;
  for (const f of features) {
    if (Object.hasOwn(f.properties, from)) {
      ops.push({ op: "props", fid: f.id, set: { [to]: f.properties[from] }, unset: [from] });
    }
  }
  return ops;
}

/** Ops deleting a column from every feature holding it. */
export function deleteColumnOps(features: Iterable<StoredFeature>, key: string): EditOp[] {
  const ops: EditOp[] = [];
  for (const f of features) {
    if (Object.hasOwn(f.properties, key)) {
      ops.push({ op: "props", fid: f.id, set: {}, unset: [key] });
    }
  }
  return ops;
}

/**
 * A column change as the edits to send: one edit (one undo) whenever the relay takes it whole,
 * split only when it holds more than `maxOps` ops or about `maxBytes` of JSON (the relay's
 * `maxOpsPerEdit` and `maxFrameBytes`, with a tenth kept for the edit's envelope).
 */
export function columnEdits(
  ops: readonly EditOp[],
  limits: { maxOps: number; maxBytes: number },
): EditOp[][] {
  const encoder = new TextEncoder();
  return splitOps(ops, (op) => encoder.encode(JSON.stringify(op)).length, {
    maxOps: limits.maxOps,
    maxBytes: Math.floor(limits.maxBytes * 0.9),
  });
}
