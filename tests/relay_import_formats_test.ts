/** The import API reads KML, KMZ, GPX, CSV, GeoJSONSeq and zipped Shapefiles (by Content-Type, ?format= or sniffing), against a real relay. */
import assert from "assert";
import { gdalFixtures } from "../relay/formats/_gdal_fixture.ts";
import { getFeatures } from "./_fixtures.ts";
import { createMap, startRelay } from "./_relay.ts";

Deno.test("import API: files of every format ogr2ogr writes go in; a CSV row without coordinates is reported with its line", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const files = await gdalFixtures();
  const put = async (body: Uint8Array | string, contentType: string | null, query = "") => {
    const map = await createMap(relay.url);
    const headers: Record<string, string> = { authorization: `Bearer ${map.editKey}` };
    if (contentType) headers["content-type"] = contentType;
    const res = await fetch(`${relay.url}/api/maps/${map.id}/features${query}`, {
      method: "PUT",
      headers,
      body: typeof body === "string" ? body : body.slice().buffer,
    });
    return { status: res.status, body: await res.json(), map };
  };
  const names = async (map: { id: string; viewKey: string }) =>
    (await getFeatures(relay.url, map.id, map.viewKey)).features
      .map((f) => String(f.properties?.name)).sort();

  const kml = await put(files.kml, "application/vnd.google-earth.kml+xml");
  assert.equal(kml.status, 200, JSON.stringify(kml.body));
  assert.deepEqual([kml.body.features, kml.body.total, kml.body.skipped], [3, 3, []]);
  assert.deepEqual(await names(kml.map), ["Café du Pont", "Park", "Trail"]);

  // Sniffed: curl --data-binary sends form-encoded, fetch a string as text/plain.
  const kmz = await put(files.kmz, "application/octet-stream");
  assert.deepEqual([kmz.status, kmz.body.features], [200, 3]);
  const gpx = await put(files.gpx, null);
  assert.deepEqual([gpx.status, gpx.body.features], [200, 3]);
  const shp = await put(files.shp2056, "application/zip");
  assert.deepEqual([shp.status, shp.body.features], [200, 3]);
  const park = (await getFeatures(relay.url, shp.map.id, shp.map.viewKey)).features
    .find((f) => f.properties?.name === "Park");
  assert.equal((park?.geometry?.coordinates as number[][][]).length, 2, "a hole");

  const csv = await put(files.csvXy, "text/csv");
  assert.equal(csv.status, 200, JSON.stringify(csv.body));
  assert.deepEqual(csv.body.skipped, [
    { index: 1, line: 3, reason: "no coordinates (the Y and X cells are empty)" },
    { index: 2, line: 4, reason: "no coordinates (the Y and X cells are empty)" },
  ]);
  assert.deepEqual([csv.body.features, csv.body.total], [1, 3]);
  const wkt = await put(files.csvWkt, "text/plain", "?format=csv");
  assert.deepEqual([wkt.status, wkt.body.features], [200, 3]);

  const line = (x: number) =>
    JSON.stringify({ type: "Feature", geometry: { type: "Point", coordinates: [x, 0] } });
  const seq = await put(`${line(1)}\n${line(2)}\n`, "application/json");
  assert.deepEqual([seq.status, seq.body.features], [200, 2]);

  const bad = await put("<kml><Placemark>", "application/vnd.google-earth.kml+xml");
  assert.equal(bad.status, 400);
  assert.match(bad.body.detail, /not a well-formed KML document/);
  const noCoords = await put("a,b\n1,2\n", "text/csv");
  assert.equal(noCoords.status, 422);
  assert.match(noCoords.body.detail, /no coordinate columns/);
  const unknown = await put(files.kml, null, "?format=dxf");
  assert.equal(unknown.status, 400);
  assert.match(unknown.body.detail, /format must be one of geojson, geojsonseq, kml/);
  const notJson = await put("{", null);
  assert.deepEqual([notJson.status, notJson.body.detail], [400, "body is not valid JSON"]);
});
