/** Unit tests of restoring a version: the ops that turn the map now into the version, their split, the label. */
import assert from "assert";
import type { StoredFeature } from "../../relay/protocol.ts";
import { applyOp, type FeatureMap } from "../../relay/edit_ops.ts";
import { restoreLabel, restoreOps, sameJson } from "./restore_ops.ts";
import { columnEdits } from "./table_model.ts";

function dot(id: string, x: number, properties: Record<string, unknown> = {}): StoredFeature {
  return { type: "Feature", id, geometry: { type: "Point", coordinates: [x, 0] }, properties };
}

Deno.test("restoreOps: applying the ops to the map now gives exactly the version", () => {
  const now: FeatureMap = new Map([
    ["same", { ...dot("same", 1, { a: 1, b: 2 }), meta: { by: "Bo", color: "#000", at: 9 } }],
    ["moved", dot("moved", 2)],
    ["renamed", dot("renamed", 3, { name: "New" })],
    ["added-later", dot("added-later", 4)],
  ]);
  const version = [
    dot("same", 1, { b: 2, a: 1 }),
    dot("moved", 20),
    dot("renamed", 3, { name: "Old" }),
    dot("deleted-later", 5, { name: "Hut" }),
  ];
  const ops = restoreOps(now, version);
  assert.deepEqual(ops.map((o) => o.op === "put" ? `put ${o.feature.id}` : `${o.op} ${o.fid}`), [
    "del added-later",
    "put moved",
    "put renamed",
    "put deleted-later",
  ], "an unchanged feature (key order and meta aside) is left alone");
  const after: FeatureMap = new Map(now);
  for (const op of ops) assert.ok(applyOp(after, op));
  const strip = (f: StoredFeature) => ({
    id: f.id,
    geometry: f.geometry,
    properties: f.properties,
  });
  assert.deepEqual(
    [...after.values()].map(strip).sort((a, b) => a.id.localeCompare(b.id)),
    version.map(strip).sort((a, b) => a.id.localeCompare(b.id)),
  );
});

Deno.test("restoreOps: nothing to do when the map already is the version; an empty version deletes all", () => {
  const now: FeatureMap = new Map([["a", dot("a", 1)]]);
  assert.deepEqual(restoreOps(now, [dot("a", 1)]), []);
  assert.deepEqual(restoreOps(now, []), [{ op: "del", fid: "a" }]);
  assert.deepEqual(restoreOps(new Map(), [dot("a", 1)]), [{ op: "put", feature: dot("a", 1) }]);
});

Deno.test("a restore is one edit unless the relay's limits force a split, like a column change", () => {
  const version = Array.from({ length: 25 }, (_, i) => dot(`f${i}`, i));
  const ops = restoreOps(new Map(), version);
  assert.equal(columnEdits(ops, { maxOps: 1000, maxBytes: 1 << 20 }).length, 1);
  const split = columnEdits(ops, { maxOps: 10, maxBytes: 1 << 20 });
  assert.deepEqual(split.map((b) => b.length), [10, 10, 5]);
  assert.deepEqual(split.flat(), ops, "in order, nothing lost");
});

Deno.test("sameJson compares values, not key order", () => {
  assert.ok(sameJson({ a: [1, { b: null }], c: "x" }, { c: "x", a: [1, { b: null }] }));
  assert.ok(!sameJson({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!sameJson([1, 2], { 0: 1, 1: 2 }));
  assert.ok(!sameJson({ a: "1" }, { a: 1 }));
});

Deno.test("restoreLabel names a named version, else the time, and stays within 200 characters", () => {
  assert.equal(
    restoreLabel({ name: "Before the field trip", at: 5 }),
    "Restored version 'Before the field trip'",
  );
  assert.equal(
    restoreLabel({ at: Date.UTC(2026, 11, 3, 1, 2, 3) }),
    "Restored the map as of 2026-12-03T01:02:03.000Z",
  );
  const long = restoreLabel({ name: "x".repeat(300), at: 0 });
  assert.equal(long.length, 200);
  assert.ok(long.startsWith("Restored version 'xxx"));
});
