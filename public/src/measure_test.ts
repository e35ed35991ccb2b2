/** Unit tests of geodesic measurement against known shapes, and of how values are written. */
import assert from "assert";
import {
  authalicArea,
  EXACT_RING_VERTICES,
  formatArea,
  formatLength,
  measureGeometry,
  measurementLines,
  ringArea,
} from "./measure.ts";

const near = (actual: number, expected: number, tolerance: number) =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${actual} is not ${expected} ± ${tolerance}`,
  );

Deno.test("a 1° × 1° box at the equator is 12 308.8 km² on WGS84, whichever way it winds", () => {
  const ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]];
  for (const coords of [ring, [...ring].reverse()]) {
    const m = measureGeometry({ type: "Polygon", coordinates: [coords] });
    near(m.area / 1e6, 12_308.8, 0.1);
    near(m.perimeter / 1000, 443.77, 0.01);
    assert.equal(m.length, 0);
  }
});

Deno.test("a degree of meridian: 110.57 km at the equator, 111.13 km at 45°", () => {
  near(measureGeometry({ type: "LineString", coordinates: [[0, 0], [0, 1]] }).length, 110_574, 1);
  const mid = measureGeometry({ type: "LineString", coordinates: [[7, 44.5], [7, 45.5]] });
  // The ~111.2 km of a sphere of mean radius; the ellipsoid's is 0.06 % shorter here.
  near(mid.length / 1000, 111.2, 0.1);
});

Deno.test("a line across 180° is measured the short way round", () => {
  const across = measureGeometry({ type: "LineString", coordinates: [[179.5, 0], [-179.5, 0]] });
  near(across.length, 111_319.5, 1);
  const unrolled = measureGeometry({ type: "LineString", coordinates: [[179.5, 0], [180.5, 0]] });
  near(unrolled.length, across.length, 0.001);
});

Deno.test("a box across 180° has the area of the same box anywhere else at that latitude", () => {
  const box = (w: number, e: number) => ({
    type: "Polygon" as const,
    coordinates: [[[w, 10], [e, 10], [e, 11], [w, 11], [w, 10]]],
  });
  const across = measureGeometry(box(179.5, -179.5)).area;
  near(across, measureGeometry(box(0, 1)).area, 1);
  // Split at 180° as RFC 7946 asks: the two halves add up to the same, but for the tiny
  // difference two half-degree geodesics make along the parallels instead of one (0.002 %).
  const split = measureGeometry({
    type: "MultiPolygon",
    coordinates: [box(179.5, 180).coordinates, box(-180, -179.5).coordinates],
  }).area;
  near(split, across, across * 1e-4);
});

Deno.test("holes are subtracted, points measure nothing, collections add up", () => {
  const outer = [[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]];
  const hole = [[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5], [0.5, 0.5]];
  const whole = measureGeometry({ type: "Polygon", coordinates: [outer] }).area;
  const holed = measureGeometry({ type: "Polygon", coordinates: [outer, hole] });
  const holeArea = measureGeometry({ type: "Polygon", coordinates: [hole] }).area;
  near(holed.area, whole - holeArea, 1);
  assert.deepEqual(measureGeometry({ type: "Point", coordinates: [1, 2] }), {
    length: 0,
    perimeter: 0,
    area: 0,
  });
  const line = { type: "LineString" as const, coordinates: [[0, 0], [0, 1]] };
  near(
    measureGeometry({ type: "GeometryCollection", geometries: [line, line] }).length,
    2 * 110_574,
    2,
  );
  assert.deepEqual(measureGeometry({ type: "Polygon", coordinates: [] }).area, 0);
});

Deno.test("lengths: m below a kilometre, km above; feet or miles after them when imperial", () => {
  assert.equal(formatLength(0), "0 m");
  assert.equal(formatLength(12.345), "12.3 m");
  assert.equal(formatLength(950), "950 m");
  assert.equal(formatLength(1500), "1.5 km");
  assert.equal(formatLength(111_195), "111 km");
  assert.equal(formatLength(100, true), "100 m (328 ft)");
  assert.equal(formatLength(1609.344, true), "1.61 km (1 mi)");
});

Deno.test("areas: m², ha, km²; square feet, acres or square miles after them when imperial", () => {
  assert.equal(formatArea(250), "250 m²");
  assert.equal(formatArea(25_000), "2.5 ha");
  assert.equal(formatArea(12_308_778_361), "12,309 km²");
  assert.equal(formatArea(100, true), "100 m² (1,076 ft²)");
  assert.equal(formatArea(40_468.564224, true), "4.05 ha (10 acres)");
  assert.equal(formatArea(2_589_988.110336, true), "2.59 km² (1 mi²)");
});

Deno.test("the panel's lines: length for lines, area and perimeter for polygons, none for points", () => {
  assert.deepEqual(measurementLines({ type: "LineString", coordinates: [[0, 0], [0, 1]] }), [
    ["Length", "111 km"],
  ]);
  assert.deepEqual(
    measurementLines({ type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] })
      .map(([k]) => k),
    ["Area", "Perimeter"],
  );
  assert.deepEqual(measurementLines({ type: "Point", coordinates: [0, 0] }), []);
  assert.deepEqual(measurementLines(null), []);
});

/** A `w`..`e` × `s`..`n` box with `k` vertices on each side. */
function denseBox(w: number, s: number, e: number, n: number, k: number): number[][] {
  const ring: number[][] = [];
  for (let i = 0; i < k; i++) ring.push([w + ((e - w) * i) / k, s]);
  for (let i = 0; i < k; i++) ring.push([e, s + ((n - s) * i) / k]);
  for (let i = 0; i < k; i++) ring.push([e - ((e - w) * i) / k, n]);
  for (let i = 0; i < k; i++) ring.push([w, n - ((n - s) * i) / k]);
  ring.push(ring[0]);
  return ring;
}

Deno.test("a big ring (a detailed country) is measured on the authalic sphere, within 0.01 % of exact", () => {
  for (const [w, s, e, n] of [[0, 0, 1, 1], [10, 50, 14, 53], [179.5, -20, -179.5, -18]]) {
    const few = denseBox(w, s, e, n, 200);
    const exact = ringArea(few);
    assert.ok(few.length - 1 <= EXACT_RING_VERTICES);
    const fast = authalicArea(few.slice(0, -1));
    assert.ok(Math.abs(fast / exact - 1) < 1e-4, `${fast} vs ${exact}`);
    // Over the threshold the fast method is used, and agrees.
    const many = denseBox(w, s, e, n, 400);
    assert.ok(Math.abs(ringArea(many) / exact - 1) < 1e-4);
  }
  // The lengths of short edges (local radii of curvature) add up to the exact long edge.
  const dense = denseBox(0, 0, 1, 1, 400);
  near(measureGeometry({ type: "Polygon", coordinates: [dense] }).perimeter / 1000, 443.77, 0.5);
});
