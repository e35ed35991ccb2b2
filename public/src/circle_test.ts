/** Unit tests of circles as polygons and of the properties that keep their centre and radius. */
import assert from "assert";
import { circleForgotten, circleOf, circlePolygon, circleProperties } from "./circle.ts";
import { measureGeometry, pathLength, ringArea } from "./measure.ts";

Deno.test("a circle's polygon: 64 vertices, closed, counterclockwise, each at the radius", () => {
  const center: [number, number] = [13.4, 52.5];
  const polygon = circlePolygon(center, 1000);
  const ring = polygon.coordinates[0];
  assert.equal(ring.length, 65);
  assert.deepEqual(ring[0], ring[64]);
  for (const p of ring) {
    const d = pathLength([center, p]);
    assert.ok(Math.abs(d - 1000) < 0.02, `vertex ${p} is ${d} m from the centre`);
  }
  // Counterclockwise: the shoelace sum in degrees is positive.
  let twice = 0;
  for (let i = 0; i < 64; i++) {
    twice += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
  }
  assert.ok(twice > 0);
  // Its area is within 0.2 % of π r² (a 64-gon inscribed in the circle has 99.84 % of it).
  const area = measureGeometry(polygon).area;
  assert.ok(Math.abs(area / (Math.PI * 1e6) - 0.9984) < 0.001, `area ${area}`);
});

Deno.test("a circle across 180° keeps longitudes in range and measures as the small circle", () => {
  const ring = circlePolygon([179.99, 0], 5000).coordinates[0];
  const lngs = ring.map((p) => p[0]);
  assert.ok(lngs.every((x) => x >= -180 && x <= 180));
  assert.ok(lngs.some((x) => x < -179.9) && lngs.some((x) => x > 179.9));
  const area = ringArea(ring);
  assert.ok(Math.abs(area / (Math.PI * 25e6) - 0.9984) < 0.001, `area ${area}`);
});

Deno.test("a radius that is not a positive number is refused with what was received", () => {
  assert.throws(() => circlePolygon([0, 0], 0), /positive number of metres: received 0/);
  assert.throws(() => circlePolygon([0, 0], NaN), /received NaN/);
});

Deno.test("circle properties round-trip; anything else describes no circle", () => {
  const props = circleProperties([13.123456789, 52.5], 1234.5678);
  assert.deepEqual(props, { "circle-center": [13.1234568, 52.5], "circle-radius-m": 1234.57 });
  assert.deepEqual(circleOf(JSON.parse(JSON.stringify(props))), {
    center: [13.1234568, 52.5],
    radius: 1234.57,
  });
  assert.equal(circleOf({}), null);
  assert.equal(circleOf({ "circle-center": [1], "circle-radius-m": 5 }), null);
  assert.equal(circleOf({ "circle-center": [1, 2], "circle-radius-m": -5 }), null);
  assert.equal(circleOf({ "circle-center": [1, 2], "circle-radius-m": "5" }), null);
});

Deno.test("a circle reshaped vertex by vertex forgets its centre and radius; other features keep theirs", () => {
  assert.deepEqual(
    circleForgotten("f", { name: "x", "circle-center": [0, 0], "circle-radius-m": 5 }),
    [
      { op: "props", fid: "f", set: {}, unset: ["circle-center", "circle-radius-m"] },
    ],
  );
  assert.deepEqual(circleForgotten("f", { name: "x" }), []);
});
