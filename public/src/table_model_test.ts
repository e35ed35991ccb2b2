/** Unit tests of the feature table's model: column types, sorting, filtering, parsing, column edits. */
import assert from "assert";
import type { StoredFeature } from "../../relay/protocol.ts";
import { applyOp, type FeatureMap } from "../../relay/edit_ops.ts";
import {
  addColumnOps,
  cellText,
  columnEdits,
  columnNameProblem,
  columnsOf,
  deleteColumnOps,
  filterFeatures,
  GEOMETRY_COLUMN,
  inferType,
  parseCell,
  renameColumnOps,
  sortFeatures,
} from "./table_model.ts";

function feature(id: string, properties: Record<string, unknown>, point = true): StoredFeature {
  return {
    type: "Feature",
    id,
    geometry: point ? { type: "Point", coordinates: [0, 0] } : null,
    properties,
  };
}

const ids = (fs: StoredFeature[]) => fs.map((f) => f.id);

Deno.test("inferType: one shared type wins, empties say nothing, mixes are text or JSON", () => {
  assert.equal(inferType([1, null, 2.5, undefined, ""]), "number");
  assert.equal(inferType([true, false]), "boolean");
  assert.equal(inferType(["a", "b"]), "text");
  assert.equal(inferType([{ a: 1 }, [1, 2]]), "json");
  assert.equal(inferType([1, "a"]), "text");
  assert.equal(inferType([1, { a: 1 }]), "json");
  assert.equal(inferType([null]), "text");
});

Deno.test("columnsOf: every key once, first seen first, typed", () => {
  const cols = columnsOf([
    feature("a", { name: "A", pop: 3 }),
    feature("b", { pop: "many", open: true, tags: ["x"] }),
  ]);
  assert.deepEqual(cols, [
    { key: "name", type: "text" },
    { key: "pop", type: "text" },
    { key: "open", type: "boolean" },
    { key: "tags", type: "json" },
  ]);
  assert.equal(cellText({ a: 1 }), '{"a":1}');
  assert.equal(cellText(false), "false");
});

Deno.test("sortFeatures: numbers numerically, stable, empty last both ways", () => {
  const fs = [
    feature("a", { n: 10 }),
    feature("b", { n: 9 }),
    feature("c", {}),
    feature("d", { n: 9 }),
    feature("e", { n: null }),
    feature("f", { n: 100 }),
  ];
  assert.deepEqual(ids(sortFeatures(fs, { key: "n", dir: "asc" }, "number")), [
    "b",
    "d",
    "a",
    "f",
    "c",
    "e",
  ]);
  assert.deepEqual(ids(sortFeatures(fs, { key: "n", dir: "desc" }, "number")), [
    "f",
    "a",
    "b",
    "d",
    "c",
    "e",
  ]);
  const text = [feature("x", { s: "item 10" }), feature("y", { s: "Item 9" })];
  assert.deepEqual(ids(sortFeatures(text, { key: "s", dir: "asc" }, "text")), ["y", "x"]);
  const geo = [feature("p", {}), feature("n", {}, false)];
  assert.deepEqual(ids(sortFeatures(geo, { key: GEOMETRY_COLUMN, dir: "asc" }, "text")), [
    "n",
    "p",
  ]);
});

Deno.test("filterFeatures: any column or one column, case- and accent-insensitive", () => {
  const fs = [
    feature("a", { name: "Zürich", kind: "city" }),
    feature("b", { name: "Bern", kind: "capital", pop: 134_000 }),
    feature("c", { name: "Lake", kind: "water" }, false),
  ];
  const cols = columnsOf(fs);
  assert.deepEqual(ids(filterFeatures(fs, { any: "ZURICH", columns: {} }, cols)), ["a"]);
  assert.deepEqual(ids(filterFeatures(fs, { any: "134", columns: {} }, cols)), ["b"]);
  assert.deepEqual(ids(filterFeatures(fs, { any: "none", columns: {} }, cols)), ["c"]);
  assert.deepEqual(ids(filterFeatures(fs, { any: "", columns: { kind: "CA" } }, cols)), ["b"]);
  assert.deepEqual(ids(filterFeatures(fs, { any: "e", columns: { kind: "it" } }, cols)), ["b"]);
});

Deno.test("parseCell: typed parsing with clear errors", () => {
  assert.deepEqual(parseCell(" 42.5 ", "number"), { ok: true, value: 42.5 });
  assert.deepEqual(parseCell("", "number"), { ok: true, value: null });
  const bad = parseCell("abc", "number");
  assert.ok(!bad.ok && bad.message.includes("not a number"));
  assert.deepEqual(parseCell("yes", "boolean"), { ok: true, value: true });
  assert.deepEqual(parseCell('{"a":[1]}', "json"), { ok: true, value: { a: [1] } });
  const badJson = parseCell("{a:", "json");
  assert.ok(!badJson.ok && badJson.message.startsWith("Not valid JSON"));
  assert.deepEqual(parseCell(" keep spaces ", "text"), { ok: true, value: " keep spaces " });
});

Deno.test("column ops: add, rename and delete touch exactly the features that need it, and undo", () => {
  const fs = [feature("a", { name: "A", n: 1 }), feature("b", { n: 2 }), feature("c", {})];
  assert.deepEqual(addColumnOps(fs, "name", ""), [
    { op: "props", fid: "b", set: { name: "" } },
    { op: "props", fid: "c", set: { name: "" } },
  ]);
  const rename = renameColumnOps(fs, "n", "count");
  assert.deepEqual(rename, [
    { op: "props", fid: "a", set: { count: 1 }, unset: ["n"] },
    { op: "props", fid: "b", set: { count: 2 }, unset: ["n"] },
  ]);
  assert.deepEqual(renameColumnOps(fs, "n", "n"), []);
  const map: FeatureMap = new Map(fs.map((f) => [f.id, f]));
  for (const op of rename) applyOp(map, op);
  assert.deepEqual(map.get("a")?.properties, { name: "A", count: 1 });
  assert.deepEqual(deleteColumnOps(map.values(), "count"), [
    { op: "props", fid: "a", set: {}, unset: ["count"] },
    { op: "props", fid: "b", set: {}, unset: ["count"] },
  ]);
  const cols = columnsOf(fs);
  assert.equal(columnNameProblem("n", cols), 'There is already a column "n".');
  assert.equal(columnNameProblem(" ", cols), "A column needs a name.");
  assert.equal(columnNameProblem("new", cols), null);
});

Deno.test("columnEdits: one edit when the relay takes it whole, split by ops or bytes only if it must", () => {
  const fs = Array.from({ length: 5 }, (_, i) => feature(`f${i}`, { n: i }));
  const ops = renameColumnOps(fs, "n", "count");
  assert.deepEqual(columnEdits(ops, { maxOps: 10_000, maxBytes: 1 << 20 }), [ops]);
  assert.deepEqual(columnEdits(ops, { maxOps: 2, maxBytes: 1 << 20 }).map((b) => b.length), [
    2,
    2,
    1,
  ]);
  const bytes = columnEdits(ops, { maxOps: 10_000, maxBytes: 300 });
  assert.ok(bytes.length > 1 && bytes.flat().length === 5, `${bytes.length} edits`);
});
