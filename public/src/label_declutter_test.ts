/** Unit tests for label placement: no overlaps, priorities, limits, avoided boxes. */
import assert from "assert";
import { declutter, type LabelCandidate, labelText, overlaps } from "./label_declutter.ts";

const label = (fid: string, x: number, y: number, priority = 1): LabelCandidate => ({
  fid,
  x,
  y,
  width: 60,
  height: 16,
  priority,
});

Deno.test("declutter: of two overlapping labels the bigger feature's stays", () => {
  assert.deepEqual(declutter([label("small", 0, 0, 1), label("big", 20, 4, 5)]), new Set(["big"]));
  assert.deepEqual(declutter([label("a", 0, 0), label("b", 100, 0)]), new Set(["a", "b"]));
});

Deno.test("declutter: the selected feature (infinite priority) always wins its place", () => {
  const shown = declutter([label("big", 0, 0, 1e9), label("sel", 10, 0, Infinity)]);
  assert.deepEqual(shown, new Set(["sel"]));
});

Deno.test("declutter: no two shown labels overlap, across grid cells, ties broken by id", () => {
  const many: LabelCandidate[] = [];
  for (let i = 0; i < 400; i++) many.push(label(`f${i}`, (i * 37) % 500, (i * 53) % 300));
  const shown = [...declutter(many, { hideAbove: 10_000, maxLabels: 10_000 })];
  const boxes = many.filter((c) => shown.includes(c.fid));
  assert.ok(boxes.length > 10);
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      assert.equal(overlaps(boxes[i], boxes[j]), false, `${boxes[i].fid} / ${boxes[j].fid}`);
    }
  }
  // The same input gives the same labels in any order, so every peer sees the same map.
  assert.deepEqual(
    new Set(shown),
    declutter([...many].reverse(), { hideAbove: 10_000, maxLabels: 10_000 }),
  );
});

Deno.test("declutter: a cap on labels; past hideAbove only the selected label shows", () => {
  const row = Array.from({ length: 10 }, (_, i) => label(`f${i}`, i * 100, 0, i));
  assert.deepEqual(declutter(row, { maxLabels: 3 }), new Set(["f9", "f8", "f7"]));
  assert.deepEqual(declutter(row, { hideAbove: 5 }), new Set());
  assert.deepEqual(
    declutter([...row, label("sel", 2000, 0, Infinity)], { hideAbove: 5 }),
    new Set(["sel"]),
  );
});

Deno.test("declutter: a label never covers a person's cursor", () => {
  const avoid = [{ x: 30, y: 0, width: 20, height: 20 }];
  assert.deepEqual(
    declutter([label("a", 0, 0), label("b", 200, 0)], { avoid }),
    new Set(["b"]),
  );
});

Deno.test("labelText: name, else title; blank and odd values give no label", () => {
  assert.equal(labelText({ name: " Pier  7 ", title: "x" }), "Pier 7");
  assert.equal(labelText({ title: "Harbour" }), "Harbour");
  assert.equal(labelText({ name: "", title: "T" }), "T");
  assert.equal(labelText({ name: 12 }), "12");
  assert.equal(labelText({ name: { a: 1 } }), null);
  assert.equal(labelText({}), null);
  assert.equal(labelText({ name: "x".repeat(60) })?.length, 40);
});
