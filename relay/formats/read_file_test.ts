/** Unit tests of the format readers on files GDAL wrote from one GeoJSON source: geometry and properties compared with it. */
import assert from "assert";
import { DOMParser } from "@xmldom/xmldom";
import { gdalFixtures, SOURCE } from "./_gdal_fixture.ts";
import { fileFormat, readFile } from "./read_file.ts";
import type { FileFormat } from "./records.ts";
import { readRecords } from "./records.ts";
import type { ParseXml } from "./xml.ts";

const parseXml: ParseXml = (text) =>
  new DOMParser({ onError: () => {} }).parseFromString(text, "text/xml");
const LIMITS = { maxVertices: 100_000, maxPropsBytes: 65_536, maxFrameBytes: 4 << 20 };
const fixtures = await gdalFixtures();

type Feature = {
  geometry: { type: string; coordinates: unknown };
  properties: Record<string, unknown>;
};

/** A file read and passed through the pipeline's checks (which rewind rings to RFC 7946's rule). */
function read(bytes: Uint8Array, name: string): { format: FileFormat; features: Feature[] } {
  const format = fileFormat(bytes, { name });
  const r = readFile(bytes, format, { parseXml });
  if (!r.ok) throw new Error(r.message);
  const checked = readRecords(r.records, LIMITS);
  assert.deepEqual(checked.skipped, []);
  return { format: r.format, features: checked.features as unknown as Feature[] };
}

const source = (name: string) => SOURCE.features.find((f) => f.properties.name === name)!;

/** Largest distance in degrees between two coordinate trees of the same shape. */
function maxDelta(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b);
  assert.ok(Array.isArray(a) && Array.isArray(b), `shapes differ: ${a} / ${b}`);
  assert.equal(a.length, b.length, "same number of positions");
  return Math.max(0, ...a.map((x, i) => maxDelta(x, b[i])));
}

function sameGeometry(got: Feature, name: string, tolerance = 1e-6): number {
  const want = source(name).geometry;
  assert.equal(got.geometry.type, want.type, name);
  const delta = maxDelta(got.geometry.coordinates, want.coordinates);
  assert.ok(delta <= tolerance, `${name}: off by ${delta} degrees`);
  return delta;
}

Deno.test("KML from ogr2ogr: points, lines, a holed polygon, typed properties (GDAL writes booleans as 0/1, omits nulls)", () => {
  const { format, features } = read(fixtures.kml, "out.kml");
  assert.equal(format, "kml");
  assert.deepEqual(features.map((f) => f.properties.name), ["Café du Pont", "Trail", "Park"]);
  for (const f of features) {
    sameGeometry(f, String(f.properties.name));
    const want = source(String(f.properties.name)).properties;
    assert.equal(f.properties.count, want.count);
    assert.equal(f.properties.ratio, want.ratio);
    assert.equal(f.properties.open, want.open ? 1 : 0);
    assert.equal(f.properties.longfieldname_here, want.longfieldname_here);
    assert.equal(f.properties.note, want.note ?? undefined);
  }
});

Deno.test("KMZ: the KML inside the zip, the same as the KML", () => {
  const kmz = read(fixtures.kmz, "out.kmz");
  assert.equal(kmz.format, "kmz");
  assert.deepEqual(kmz.features, read(fixtures.kml, "out.kml").features);
  assert.equal(fileFormat(fixtures.kmz, {}), "kmz", "a KMZ is told from a zipped Shapefile");
});

Deno.test("GPX from ogr2ogr: the waypoint, the route and the track; extension fields as text", () => {
  const { format, features } = read(fixtures.gpx, "out.gpx");
  assert.equal(format, "gpx");
  assert.deepEqual(features.map((f) => f.geometry.type).sort(), [
    "LineString",
    "LineString",
    "Point",
  ]);
  for (const f of features) sameGeometry(f, String(f.properties.name));
  const point = features.find((f) => f.geometry.type === "Point")!;
  assert.equal(point.properties.name, "Café du Pont");
  // togeojson keeps GDAL's <extensions> as text, prefixed with their namespace.
  assert.equal(point.properties.ogr_count, "12");
  assert.equal(point.properties.ogr_ratio, "0.25");
  const route = features.find((f) => f.properties._gpxType === "rte")!;
  assert.equal(route.properties.ogr_note, 'a, "quoted" note');
});

Deno.test("CSV with a WKT column from ogr2ogr: every shape, numbers typed, empty cells null", () => {
  const { format, features } = read(fixtures.csvWkt, "wkt.csv");
  assert.equal(format, "csv");
  assert.equal(features.length, 3);
  for (const f of features) {
    const name = String(f.properties.name);
    sameGeometry(f, name);
    const want = source(name).properties;
    assert.deepEqual(f.properties, {
      name,
      count: want.count,
      ratio: want.ratio,
      open: want.open ? 1 : 0,
      note: want.note,
      longfieldname_here: want.longfieldname_here,
    });
  }
});

Deno.test("CSV with X/Y columns: the point is kept; rows without coordinates are skipped with their line", () => {
  const r = readFile(fixtures.csvXy, "csv", { parseXml });
  assert.ok(r.ok);
  const kept = r.records.filter((rec): rec is { feature: Feature } => "feature" in rec);
  assert.equal(kept.length, 1);
  sameGeometry(kept[0].feature, "Café du Pont");
  assert.ok(!("X" in kept[0].feature.properties), "coordinate columns are not kept as properties");
  const read = readRecords(r.records, LIMITS);
  assert.deepEqual(read.skipped, [
    { index: 1, line: 3, reason: "no coordinates (the Y and X cells are empty)" },
    { index: 2, line: 4, reason: "no coordinates (the Y and X cells are empty)" },
  ]);
});

Deno.test("CSV: lat/lon names in any case, semicolons with decimal commas, quoted new lines counted, bad rows reported by line", () => {
  const text = 'Name;LATITUDE;Lng\n"two\nlines";46,95;7,45\n\nbad;abc;7\nfar;95;7\n';
  const r = readFile(new TextEncoder().encode(text), "csv", { parseXml });
  assert.ok(r.ok);
  const read = readRecords(r.records, LIMITS);
  assert.deepEqual(read.features.map((f) => [f.index, f.geometry, f.properties]), [
    [0, { type: "Point", coordinates: [7.45, 46.95] }, { Name: "two\nlines" }],
  ]);
  assert.deepEqual(read.skipped, [
    { index: 1, line: 5, reason: 'LATITUDE "abc" is not a number' },
    {
      index: 2,
      line: 6,
      reason: "bad geometry: coordinates: latitude 95 is outside -90..90",
    },
  ]);
  const none = readFile(new TextEncoder().encode("a,b\n1,2\n"), "csv", { parseXml });
  assert.deepEqual(
    none.ok ? null : [none.status, /no coordinate columns.*a, b$/.test(none.message)],
    [
      422,
      true,
    ],
  );
});

Deno.test("zipped Shapefile from ogr2ogr (WGS84): every layer; GDAL's field-name truncation, 0/1 booleans, '' for null, Latin-1 text", () => {
  const { format, features } = read(fixtures.shp, "shapes.zip");
  assert.equal(format, "shapefile");
  assert.equal(features.length, 3);
  for (const f of features) {
    const name = String(f.properties.name);
    sameGeometry(f, name);
    const want = source(name).properties;
    assert.deepEqual(f.properties, {
      name,
      count: want.count,
      ratio: want.ratio,
      open: want.open ? 1 : 0,
      note: want.note ?? "",
      longfieldn: want.longfieldname_here,
    });
  }
  assert.ok(features.some((f) => f.properties.name === "Café du Pont"), "Latin-1 .dbf decoded");
});

Deno.test("zipped Shapefile in EPSG:2056 (CH1903+ / LV95): reprojected to WGS84 from its .prj within 10 cm", () => {
  const { features } = read(fixtures.shp2056, "swiss.zip");
  assert.equal(features.length, 3);
  let worst = 0;
  for (const f of features) {
    // 1e-6 degrees of longitude is 7.6 cm here; 2e-6 allows proj4js's datum shift against PROJ's.
    worst = Math.max(worst, sameGeometry(f, String(f.properties.name), 1.3e-6));
  }
  console.log(
    `EPSG:2056 round trip: worst ${
      (worst * 111_320 * Math.cos(47 * Math.PI / 180) * 100).toFixed(1)
    } cm`,
  );
});

Deno.test("GeoJSONSeq: RS-separated and newline-delimited records, a broken line skipped with its number", () => {
  const f = (x: number) =>
    JSON.stringify({
      type: "Feature",
      geometry: { type: "Point", coordinates: [x, 1] },
      properties: {},
    });
  const ndjson = new TextEncoder().encode(`${f(1)}\n${f(2)}\n{oops\n${f(3)}\n`);
  assert.equal(fileFormat(ndjson, { name: "a.ndjson" }), "geojsonseq");
  const r = readFile(ndjson, "geojsonseq", { parseXml });
  assert.ok(r.ok);
  const read = readRecords(r.records, LIMITS);
  assert.equal(read.features.length, 3);
  assert.deepEqual(read.skipped, [{ index: 2, line: 3, reason: "not JSON" }]);
  const seq = new TextEncoder().encode(`\x1e${f(1)}\n\x1e${f(2)}\n`);
  assert.equal(fileFormat(seq, {}), "geojsonseq");
  const s = readFile(seq, "geojsonseq", { parseXml });
  assert.ok(s.ok);
  assert.deepEqual(s.records.map((rec) => rec.line), [1, 2]);
});

Deno.test("formats are told by name, media type or first bytes; broken files are refused with a reason", () => {
  const bytes = (t: string) => new TextEncoder().encode(t);
  assert.equal(fileFormat(fixtures.kml, {}), "kml");
  assert.equal(fileFormat(fixtures.gpx, {}), "gpx");
  assert.equal(fileFormat(fixtures.shp, {}), "shapefile");
  assert.equal(fileFormat(fixtures.csvWkt, {}), "csv");
  assert.equal(fileFormat(bytes("{}"), {}), "geojson");
  assert.equal(
    fileFormat(bytes("x"), { contentType: "application/gpx+xml; charset=utf-8" }),
    "gpx",
  );
  const broken = readFile(bytes("<kml><Placemark>"), "kml", { parseXml });
  assert.ok(
    !broken.ok && broken.status === 400 && /not a well-formed KML/.test(broken.message),
    JSON.stringify(broken),
  );
  const gpxAsKml = readFile(fixtures.gpx, "kml", { parseXml });
  assert.ok(!gpxAsKml.ok && /root element is <gpx>/.test(gpxAsKml.message));
  const notZip = readFile(bytes("PK\x03\x04nonsense"), "shapefile", { parseXml });
  assert.ok(!notZip.ok && notZip.status === 400 && /zip/.test(notZip.message));
  const noShp = readFile(fixtures.kmz, "shapefile", { parseXml });
  assert.ok(!noShp.ok && /no \.shp/.test(noShp.message));
});

Deno.test("a zip whose entries unpack past the bound is refused before unpacking", () => {
  const r = readFile(fixtures.shp, "shapefile", { parseXml, maxUnzippedBytes: 100 });
  assert.ok(!r.ok && /unpacks to more than/.test(r.message), JSON.stringify(r));
});
