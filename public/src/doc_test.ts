/** Tests for the client's map copy: optimistic edits, rebasing on remote edits, acks, rejects. */
import assert from "assert";
import type { EditFrame, EditOp, StoredFeature } from "../../relay/protocol.ts";
import { MapDoc } from "./doc.ts";

const point = (
  id: string,
  x: number,
  properties: Record<string, unknown> = {},
): StoredFeature => ({
  type: "Feature",
  id,
  geometry: { type: "Point", coordinates: [x, 0] },
  properties,
});
const frame = (seq: number, id: string, ops: EditOp[]): EditFrame => ({
  type: "edit",
  seq,
  by: "p",
  id,
  ops,
});

Deno.test("a local edit shows at once and stays pending until its echo arrives", () => {
  const changes: string[][] = [];
  const doc = new MapDoc({ onChange: (f) => changes.push([...f]) });
  doc.load([point("a", 1)], 3);
  doc.local("me-1", [{ op: "props", fid: "a", set: { name: "x" } }]);
  assert.equal(doc.features.get("a")?.properties.name, "x");
  assert.equal(doc.confirmed.get("a")?.properties.name, undefined);
  assert.equal(doc.pending.length, 1);
  const result = doc.applyRemote(
    frame(4, "me-1", [{ op: "props", fid: "a", set: { name: "x" } }]),
  );
  assert.deepEqual(result, { own: true, duplicate: false });
  assert.equal(doc.pending.length, 0);
  assert.equal(doc.seq, 4);
  assert.deepEqual(changes.at(-1), ["a"]);
});

Deno.test("pending edits are re-applied on top of a remote edit that arrives first", () => {
  const doc = new MapDoc();
  doc.load([point("a", 1, { k: 1 })], 0);
  doc.local("me-1", [{ op: "props", fid: "a", set: { mine: true } }]);
  doc.applyRemote(
    frame(1, "other-1", [{ op: "props", fid: "a", set: { theirs: true } }]),
  );
  assert.deepEqual(doc.features.get("a")?.properties, {
    k: 1,
    mine: true,
    theirs: true,
  });
  doc.applyRemote(
    frame(2, "other-2", [{
      op: "geom",
      fid: "a",
      geometry: { type: "Point", coordinates: [5, 5] },
    }]),
  );
  assert.deepEqual(doc.features.get("a")?.geometry, {
    type: "Point",
    coordinates: [5, 5],
  });
  assert.equal(doc.features.get("a")?.properties.mine, true);
});

Deno.test("a rejected edit is rolled back", () => {
  const doc = new MapDoc();
  doc.load([point("a", 1)], 0);
  doc.local("me-1", [{ op: "del", fid: "a" }]);
  assert.equal(doc.features.has("a"), false);
  assert.ok(doc.reject("me-1"));
  assert.deepEqual(doc.features.get("a"), point("a", 1));
  assert.equal(doc.reject("me-1"), null);
});

Deno.test("a catch-up that contains our own edit acknowledges it, and duplicates are ignored", () => {
  const doc = new MapDoc();
  doc.load([], 0);
  const put: EditOp = { op: "put", feature: point("a", 1) };
  doc.local("me-1", [put]);
  doc.local("me-2", [{ op: "props", fid: "a", set: { n: 2 } }]);
  doc.applyRemote(frame(1, "me-1", [put]));
  assert.deepEqual(doc.pending.map((p) => p.id), ["me-2"]);
  assert.deepEqual(doc.applyRemote(frame(1, "me-1", [put])), {
    own: false,
    duplicate: true,
  });
  assert.equal(doc.features.get("a")?.properties.n, 2);
});

Deno.test("a remote edit only reports the features it touches", () => {
  const changes: string[][] = [];
  const doc = new MapDoc({ onChange: (f) => changes.push([...f].sort()) });
  doc.load(Array.from({ length: 100 }, (_, i) => point(`f${i}`, i)), 0);
  changes.length = 0;
  doc.applyRemote(
    frame(1, "x", [{ op: "del", fid: "f7" }, {
      op: "props",
      fid: "f9",
      set: { a: 1 },
    }]),
  );
  assert.deepEqual(changes, [["f7", "f9"]]);
});

Deno.test("an edit frame naming its author stamps meta on what it touched, as the relay does", () => {
  const doc = new MapDoc();
  doc.load([{ ...point("a", 1), meta: { by: "Old", color: "#000000", at: 1 } }, point("b", 2)], 1);
  doc.applyRemote({
    ...frame(2, "x", [{ op: "props", fid: "a", set: { fill: "#ff8800" } }]),
    name: "Ann",
    color: "#e11d48",
    at: 5000,
  });
  assert.deepEqual(doc.features.get("a")?.meta, { by: "Ann", color: "#e11d48", at: 5000 });
  assert.equal(doc.features.get("b")?.meta, undefined, "an untouched feature keeps none");
  // A frame from before the extension leaves meta as it was.
  doc.applyRemote(frame(3, "y", [{ op: "props", fid: "a", set: { n: 1 } }]));
  assert.deepEqual(doc.features.get("a")?.meta, { by: "Ann", color: "#e11d48", at: 5000 });
});
