/** Tests for moving shapes drawn on another world copy back into -180..180. */
import assert from "assert";
import { normalizeGeometry } from "./normalize.ts";

Deno.test("shapes drawn on a world copy come back into range, whole; shapes in range are untouched", () => {
  assert.deepEqual(
    normalizeGeometry({ type: "Point", coordinates: [-200, 10] }),
    {
      type: "Point",
      coordinates: [160, 10],
    },
  );
  assert.deepEqual(
    normalizeGeometry({
      type: "LineString",
      coordinates: [[370, 0], [380, 5]],
    }),
    { type: "LineString", coordinates: [[10, 0], [20, 5]] },
  );
  const across = normalizeGeometry({
    type: "Polygon",
    coordinates: [[[170, 0], [190, 0], [190, 10], [170, 0]]],
  });
  // Kept whole, its crossing edges jumping from +180 to -180 (it used to be cut off at 180).
  assert.deepEqual(across, {
    type: "Polygon",
    coordinates: [[[170, 0], [-170, 0], [-170, 10], [170, 0]]],
  });
  const inside = { type: "Point" as const, coordinates: [1, 2] };
  assert.equal(normalizeGeometry(inside), inside);
});
