/** Unit tests for the CSV, WKT and GPX writers. */
import assert from "assert";
import { toCsv, toGpx, toWkt } from "./export_text.ts";
import type { StoredFeature } from "./protocol.ts";

const f = (id: string, geometry: StoredFeature["geometry"], properties = {}): StoredFeature => ({
  type: "Feature",
  id,
  geometry,
  properties,
});

Deno.test("toWkt writes every geometry type, holes, Z and EMPTY", () => {
  assert.equal(toWkt({ type: "Point", coordinates: [1.5, -2] }), "POINT (1.5 -2)");
  assert.equal(toWkt({ type: "Point", coordinates: [1, 2, 3] }), "POINT Z (1 2 3)");
  assert.equal(
    toWkt({ type: "MultiPoint", coordinates: [[0, 0], [1, 1]] }),
    "MULTIPOINT ((0 0), (1 1))",
  );
  assert.equal(
    toWkt({
      type: "Polygon",
      coordinates: [[[0, 0], [4, 0], [4, 4], [0, 0]], [[1, 1], [2, 2], [2, 1], [1, 1]]],
    }),
    "POLYGON ((0 0, 4 0, 4 4, 0 0), (1 1, 2 2, 2 1, 1 1))",
  );
  assert.equal(toWkt({ type: "Polygon", coordinates: [] }), "POLYGON EMPTY");
  assert.equal(
    toWkt({
      type: "GeometryCollection",
      geometries: [{ type: "Point", coordinates: [1, 2] }, {
        type: "LineString",
        coordinates: [[0, 0], [1, 1]],
      }],
    }),
    "GEOMETRYCOLLECTION (POINT (1 2), LINESTRING (0 0, 1 1))",
  );
  assert.equal(toWkt(null), "");
});

Deno.test("toCsv: WKT and lat/lon columns, quoted cells, nested values as JSON, rows without geometry", () => {
  const csv = toCsv([
    f("a", { type: "Point", coordinates: [2.35, 48.85] }, {
      name: 'Café, "P"',
      n: 1,
      o: { x: [1] },
    }),
    f("b", null, { name: "line\nbreak", lat: 7 }),
  ]);
  assert.equal(
    csv,
    "id,WKT,lat,lon,name,n,o,property_lat\r\n" +
      'a,POINT (2.35 48.85),48.85,2.35,"Café, ""P""",1,"{""x"":[1]}",\r\n' +
      'b,,,,"line\nbreak",,,7\r\n',
  );
});

Deno.test("toGpx: points as wpt, lines as trk, polygons and rows without geometry counted out; text escaped", () => {
  const { text, skipped } = toGpx([
    f("p", { type: "Point", coordinates: [1, 2] }, { name: "<A & B>", "bad key": 1 }),
    f("l", { type: "MultiLineString", coordinates: [[[0, 0], [1, 1]], [[2, 2], [3, 3]]] }),
    f("g", { type: "Polygon", coordinates: [[[0, 0], [1, 0], [1, 1], [0, 0]]] }),
    f("n", null),
  ]);
  assert.equal(skipped, 2);
  assert.match(text, /<wpt lat="2" lon="1"><name>&#60;A &#38; B&#62;<\/name>/);
  assert.match(text, /<ogr:bad_key>1<\/ogr:bad_key>/);
  assert.equal(text.match(/<trkseg>/g)?.length, 2);
  assert.equal(text.match(/<trk>/g)?.length, 1);
});
