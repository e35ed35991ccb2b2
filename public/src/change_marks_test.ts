/** Tests for the marks of others' changes: the window of seqs, and how many deleted features are kept. */
import assert from "assert";
import type { StoredFeature } from "../../relay/protocol.ts";
import { ChangeMarks } from "./change_marks.ts";

const feature = (id: string): StoredFeature => ({
  type: "Feature",
  id,
  geometry: { type: "Point", coordinates: [0, 0] },
  properties: { name: id },
});

Deno.test("only changes strictly between since and until count", () => {
  const marks = new ChangeMarks();
  marks.record({
    type: "edit",
    seq: 5,
    by: "b",
    id: 1,
    ops: [{ op: "geom", fid: "a", geometry: { type: "Point", coordinates: [1, 1] } }],
  }, new Map());
  const ops = [{
    op: "geom" as const,
    fid: "a",
    geometry: { type: "Point" as const, coordinates: [2, 2] },
  }];
  const present = new Map([["a", feature("a")]]);
  assert.equal(marks.overwrites(ops, 4, 6, present).length, 1);
  assert.equal(marks.overwrites(ops, 5, 6, present).length, 0);
  assert.equal(marks.overwrites(ops, 4, 5, present).length, 0);
  assert.equal(marks.overwrites(ops, 4, 6, present)[0].name, "Someone", "a frame without a name");
});

Deno.test("the newest deletions are kept, the oldest forgotten past maxDeleted", () => {
  assert.throws(
    () => new ChangeMarks({ maxDeleted: -1 }),
    /'maxDeleted' must be an integer >= 0: received -1/,
  );
  const marks = new ChangeMarks({ maxDeleted: 2 });
  const before = new Map(["a", "b", "c"].map((id) => [id, feature(id)]));
  ["a", "b", "c"].forEach((fid, i) =>
    marks.record({ type: "edit", seq: i + 1, by: "b", id: i, ops: [{ op: "del", fid }] }, before)
  );
  assert.equal(marks.deletedFeature("a"), undefined);
  assert.deepEqual(marks.deletedFeature("c"), feature("c"));
});
