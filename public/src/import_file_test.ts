/** Unit tests of reading a picked file: GeoJSON and GeoJSONSeq here, other formats by the readers loaded apart. */
import assert from "assert";
import { readImportFile } from "./import_file.ts";

const options = () => {
  let n = 0;
  return { existing: new Set<string>(), newId: () => `n${++n}` };
};
const point = (x: number) =>
  JSON.stringify({ type: "Feature", geometry: { type: "Point", coordinates: [x, 0] } });

Deno.test("a .json holding one Feature per line is read as GeoJSONSeq; a broken line is reported by its number", async () => {
  const file = new File([`${point(1)}\n${point(2)}\n{nope\n`], "walk.json");
  const r = await readImportFile(file, options());
  assert.ok(r.ok);
  assert.deepEqual([r.count, r.total, r.skipped], [2, 3, [{
    index: 2,
    line: 3,
    reason: "not JSON",
  }]]);
});

Deno.test("GeoJSON and .ndjson files are read without the separate readers; an unreadable .json says so", async () => {
  const fc = new File([`{"type":"FeatureCollection","features":[${point(1)}]}`], "a.geojson");
  assert.equal((await readImportFile(fc, options())).ok, true);
  const nd = await readImportFile(new File([`${point(1)}\n`], "b.ndjson"), options());
  assert.ok(nd.ok && nd.count === 1);
  const bad = await readImportFile(new File(["{"], "c.json"), options());
  assert.deepEqual(bad, { ok: false, message: "The file is not JSON, so it cannot be GeoJSON." });
});

Deno.test("when formats.js cannot be loaded, a KML import says so and imports nothing", async () => {
  // Beside this module there is no formats.js (the page's bundle has it beside map.js).
  const r = await readImportFile(new File(["<kml/>"], "a.kml"), options());
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.message : "", /^The file readers could not be loaded/);
  const shp = await readImportFile(new File(["x"], "parcels.shp"), options());
  assert.match(!shp.ok ? shp.message : "", /one \.zip holding its \.shp, \.dbf and \.prj/);
});
