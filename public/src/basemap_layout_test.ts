/** Unit tests of the built-in basemap's layout: its scale by zoom and how it picks, sizes and places names. */
import assert from "assert";
import {
  declutter,
  labelStyle,
  landParts,
  minPopulation,
  nearestCopy,
  partsInView,
  scaleForZoom,
  worldCopies,
} from "./basemap_layout.ts";

const at = (item: string, x: number, y: number, width = 40, size = 12) => ({
  item,
  x,
  y,
  width,
  size,
});

Deno.test("declutter keeps the first (most populous) of overlapping labels", () => {
  const placed = declutter([at("Big", 100, 100), at("Near", 110, 102), at("Far", 400, 100)]);
  assert.deepEqual(placed.map((p) => p.item), ["Big", "Far"]);
});

Deno.test("declutter moves a label to the left of its dot before dropping it", () => {
  // "Mid" fits on neither side: Big's text is on its left, Left's dot on its right.
  const placed = declutter([
    at("Big", 100, 100, 40),
    at("Left", 200, 100, 40),
    at("Mid", 160, 100, 40),
  ]);
  assert.deepEqual(placed.map((p) => [p.item, p.side]), [["Big", "right"], ["Left", "right"]]);
  const moved = declutter([at("A", 100, 100, 40), at("B", 60, 100, 30)]);
  assert.deepEqual(moved.map((p) => [p.item, p.side]), [["A", "right"], ["B", "left"]]);
});

Deno.test("bigger places get bigger, bolder labels; small places wait for the zoom", () => {
  assert.equal(labelStyle(9_000_000, 3).rank, 1);
  assert.equal(labelStyle(2_000_000, 3).rank, 2);
  assert.equal(labelStyle(300_000, 3).rank, 3);
  assert.equal(labelStyle(5_000, 3).rank, 4);
  assert.ok(labelStyle(9_000_000, 3).size > labelStyle(5_000, 3).size);
  assert.match(labelStyle(9_000_000, 3).font, /^700 /);
  assert.equal(labelStyle(5_000, 10).size, labelStyle(5_000, 3).size + 1);
  assert.ok(minPopulation(2) > minPopulation(5));
  assert.equal(minPopulation(10), 0);
});

Deno.test("nearestCopy puts a place on the world copy nearest the view's centre", () => {
  assert.equal(nearestCopy(178, 0), 178);
  assert.equal(nearestCopy(-175, 180), 185);
  assert.equal(nearestCopy(178, -180), -182);
  assert.equal(nearestCopy(10, 370), 370);
});

Deno.test("the basemap uses 1:110m at world zooms, 1:50m between, 1:10m from zoom 5", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 10, 18].map(scaleForZoom), [
    "110m",
    "110m",
    "50m",
    "50m",
    "10m",
    "10m",
    "10m",
  ]);
});

Deno.test("worldCopies lists the copies of the world a view shows, past the antimeridian too", () => {
  assert.deepEqual(worldCopies(-20, 40), [0]);
  assert.deepEqual(worldCopies(158, 202), [0, 1]);
  assert.deepEqual(worldCopies(-200, -160), [-1, 0]);
  assert.deepEqual(worldCopies(190, 230), [0, 1]);
  assert.deepEqual(worldCopies(230, 250), [1]);
  assert.deepEqual(worldCopies(-900, 900), [-2, -1, 0, 1, 2]);
});

Deno.test("partsInView picks the polygons near the view, on each world copy it shows", () => {
  const square = (
    w: number,
    s: number,
    e: number,
    n: number,
  ) => [[[w, s], [e, s], [e, n], [w, n], [w, s]]];
  const parts = landParts([
    square(5, 45, 10, 50), // Switzerland-ish
    square(55, -21, 56, -20), // Réunion-ish
    square(177, -19, 181, -16), // Fiji, unwrapped past 180
    square(-173, -14, -171, -13), // Samoa
  ]);
  assert.deepEqual(parts[2], {
    rings: square(177, -19, 181, -16),
    west: 177,
    south: -19,
    east: 181,
    north: -16,
  });
  assert.deepEqual(partsInView(parts, { west: 6, south: 46, east: 7, north: 47 }), ["0:0"]);
  // Centred on 180: Fiji on copy 0, Samoa on copy 1 (at +187..+189).
  assert.deepEqual(partsInView(parts, { west: 170, south: -25, east: 190, north: -5 }), [
    "0:2",
    "1:3",
  ]);
  // The whole world: Fiji's part past 180 also shows at the west edge, on copy -1.
  assert.deepEqual(partsInView(parts, { west: -180, south: -90, east: 180, north: 90 }), [
    "-1:2",
    "0:0",
    "0:1",
    "0:2",
    "0:3",
  ]);
});
