/** Tests for recognising rectangles among polygons. */
import assert from "assert";
import { rectangleBounds } from "./rectangle.ts";
import type { Geometry } from "../../relay/protocol.ts";

const polygon = (...ring: [number, number][]): Geometry => ({
  type: "Polygon",
  coordinates: [ring],
});

Deno.test("a four-cornered ring along meridians and parallels is a rectangle, whichever corner starts", () => {
  // The order Leaflet's rectangle gives: south-west, north-west, north-east, south-east.
  assert.deepEqual(
    rectangleBounds(polygon([-3, 50.5], [-3, 51], [-2, 51], [-2, 50.5], [-3, 50.5])),
    [-3, 50.5, -2, 51],
  );
  assert.deepEqual(
    rectangleBounds(polygon([-2, 51], [-3, 51], [-3, 50.5], [-2, 50.5], [-2, 51])),
    [-3, 50.5, -2, 51],
  );
});

Deno.test("other shapes are not rectangles", () => {
  const cases: [string, Geometry][] = [
    ["a slanted quadrilateral", polygon([0, 0], [0, 1], [2, 1.1], [2, 0], [0, 0])],
    ["a diagonal crossing (bow tie)", polygon([0, 0], [2, 1], [0, 1], [2, 0], [0, 0])],
    ["five corners", {
      type: "Polygon",
      coordinates: [[[0, 0], [0, 1], [1, 1], [2, 1], [2, 0], [0, 0]]],
    }],
    ["no area", polygon([0, 0], [0, 1], [0, 1], [0, 0], [0, 0])],
    ["a hole", {
      type: "Polygon",
      coordinates: [
        [[0, 0], [0, 4], [4, 4], [4, 0], [0, 0]],
        [[1, 1], [1, 2], [2, 2], [2, 1], [1, 1]],
      ],
    }],
    ["with altitudes", {
      type: "Polygon",
      coordinates: [[[0, 0, 5], [0, 1, 5], [1, 1, 5], [1, 0, 5], [0, 0, 5]]],
    }],
    ["a line", { type: "LineString", coordinates: [[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]] }],
    ["a multipolygon", {
      type: "MultiPolygon",
      coordinates: [[[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]],
    }],
  ];
  for (const [what, geometry] of cases) assert.equal(rectangleBounds(geometry), null, what);
});
