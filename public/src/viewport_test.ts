/** Unit tests for the viewport and cursor values the page sends. */
import assert from "assert";
import { clampBBox, cursorAt } from "./viewport.ts";

const bounds = (west: number, south: number, east: number, north: number) => ({
  getWest: () => west,
  getSouth: () => south,
  getEast: () => east,
  getNorth: () => north,
});

Deno.test("clampBBox keeps an ordinary view, rounded to 6 decimals", () => {
  assert.deepEqual(clampBBox(bounds(2.1234567, 48.1, 2.5, 48.9)), [2.123457, 48.1, 2.5, 48.9]);
});

Deno.test("clampBBox wraps longitudes of a world copy and clamps latitudes", () => {
  assert.deepEqual(clampBBox(bounds(350, -95, 370, 95)), [-10, -90, 10, 90]);
});

Deno.test("clampBBox: a view wider than the world is the whole world", () => {
  assert.deepEqual(clampBBox(bounds(-300, -60, 200, 70)), [-180, -60, 180, 70]);
});

Deno.test("cursorAt rounds and clamps the latitude", () => {
  assert.deepEqual(cursorAt({ lng: 1.00000049, lat: 91 }), [1, 90]);
});
