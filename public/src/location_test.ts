/** Tests for telling features with a location from those without. */
import assert from "assert";
import type { Geometry } from "../../relay/protocol.ts";
import { hasLocation } from "./location.ts";

Deno.test("empty multi-geometries and collections have no location; anything with a position has", () => {
  const none: Geometry[] = [
    { type: "MultiPoint", coordinates: [] },
    { type: "MultiLineString", coordinates: [] },
    { type: "MultiPolygon", coordinates: [] },
    { type: "GeometryCollection", geometries: [] },
    {
      type: "GeometryCollection",
      geometries: [{ type: "GeometryCollection", geometries: [] }, {
        type: "MultiPoint",
        coordinates: [],
      }],
    },
  ];
  for (const g of none) assert.equal(hasLocation(g), false, JSON.stringify(g));
  assert.equal(hasLocation(null), false);
  // Not valid geometries, but what a damaged copy could hold: no location, and no exception.
  for (const bad of [{ type: "Point", coordinates: null }, { type: "LineString" }, {}]) {
    assert.equal(hasLocation(bad as unknown as Geometry), false);
  }
  const some: Geometry[] = [
    { type: "Point", coordinates: [0, 0] },
    { type: "MultiPoint", coordinates: [[1, 2]] },
    {
      type: "GeometryCollection",
      geometries: [{ type: "GeometryCollection", geometries: [] }, {
        type: "LineString",
        coordinates: [[0, 0], [1, 1]],
      }],
    },
  ];
  for (const g of some) assert.equal(hasLocation(g), true, JSON.stringify(g));
});
