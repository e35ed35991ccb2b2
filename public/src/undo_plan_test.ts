/** Tests for what an undo sends after a conflict: the parts others did not change, or all of it over a deleted feature. */
import assert from "assert";
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { onPresent, withoutOverwritten, withoutSettled } from "./undo_plan.ts";

const f: StoredFeature = {
  type: "Feature",
  id: "a",
  geometry: { type: "Point", coordinates: [1, 2] },
  properties: { name: "A" },
};

Deno.test("skipping drops only the properties others changed, odd keys kept as keys", () => {
  const set = JSON.parse('{"__proto__": 1, "name": "A", "fill": "red"}');
  const ops: EditOp[] = [{ op: "props", fid: "a", set, unset: ["note", "name"] }];
  const left = withoutOverwritten(ops, [
    { fid: "a", title: "A", shape: "point", kind: "props", keys: ["name"], name: "Bob", seq: 3 },
  ]);
  assert.equal(left.length, 1);
  const op = left[0];
  assert.ok(op.op === "props");
  assert.deepEqual(Object.keys(op.set), ["__proto__", "fill"]);
  assert.equal(Object.getPrototypeOf(op.set), Object.prototype);
  assert.deepEqual(op.unset, ["note"]);
});

Deno.test("a put over a feature others moved goes when skipping; other features stay", () => {
  const ops: EditOp[] = [{ op: "put", feature: f }, { op: "del", fid: "b" }];
  assert.deepEqual(
    withoutOverwritten(ops, [
      { fid: "a", title: "A", shape: "point", kind: "geom", name: "Bob", seq: 3 },
    ]),
    [{ op: "del", fid: "b" }],
  );
});

Deno.test("ops on a deleted feature become one put of it as deleted, or nothing when they end deleting it", () => {
  const ops: EditOp[] = [
    { op: "props", fid: "a", set: { name: "B" } },
    { op: "geom", fid: "a", geometry: { type: "Point", coordinates: [3, 4] } },
  ];
  assert.deepEqual(onPresent(ops, new Map(), () => f), [{
    op: "put",
    feature: { ...f, geometry: { type: "Point", coordinates: [3, 4] }, properties: { name: "B" } },
  }]);
  assert.deepEqual(onPresent(ops, new Map(), () => undefined), []);
  assert.deepEqual(onPresent([...ops, { op: "del", fid: "a" }], new Map(), () => f), []);
  assert.deepEqual(onPresent(ops, new Map([["a", f]]), () => undefined), ops);
  assert.deepEqual(
    withoutSettled([{ op: "props", fid: "a", set: {} }, { op: "del", fid: "a" }], new Map()),
    [],
  );
});
