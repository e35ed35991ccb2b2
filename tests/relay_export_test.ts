/** The GET features API's `?format=` against a real relay, each file read back by GDAL (ogrinfo, ogr2ogr). */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { SOURCE, sourceText } from "./_export_fixture.ts";
import type { Feature, Geometry } from "./_export_fixture.ts";

/** A value as the text a format without types holds it as: JSON for nested values. */
function asText(value: unknown): string {
  return typeof value === "string"
    ? value
    : typeof value === "object"
    ? JSON.stringify(value)
    : String(value);
}

/** Every line or ring as a string, the same whichever way round it is written (Shapefile rewinds rings). */
function parts(geometry: Geometry): string[] {
  const out: string[] = [];
  const walk = (c: unknown): void => {
    if (!Array.isArray(c)) return;
    if (typeof c[0] === "number") {
      out.push(JSON.stringify((c as number[]).slice(0, 2).map((n) => Math.round(n * 1e6) / 1e6)));
    } else if (Array.isArray(c[0]) && typeof c[0][0] === "number") {
      const line = (c as number[][]).map((p) =>
        p.slice(0, 2).map((n) => Math.round(n * 1e6) / 1e6)
      );
      const a = JSON.stringify(line), b = JSON.stringify([...line].reverse());
      out.push(a < b ? a : b);
    } else for (const x of c) walk(x);
  };
  if (geometry) walk(geometry.coordinates);
  return out.sort();
}

async function gdal(cmd: string, args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const err = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `${cmd} ${args.join(" ")}: ${err}`);
  return new TextDecoder().decode(stdout);
}

/** The features of each layer of a file as GDAL reads them (`ogr2ogr -f GeoJSON`). */
async function readBack(path: string, layers: string[], open: string[] = []): Promise<Feature[]> {
  const summary = await gdal("ogrinfo", ["-al", "-so", ...open, path]);
  const all: Feature[] = [];
  for (const layer of layers) {
    if (!summary.includes(`Layer name: ${layer}`)) continue;
    const text = await gdal("ogr2ogr", ["-f", "GeoJSON", "/vsistdout/", ...open, path, layer]);
    all.push(...JSON.parse(text).features);
  }
  return all;
}

async function exportFile(url: string, map: { id: string; viewKey: string }, format: string) {
  const res = await fetch(`${url}/api/maps/${map.id}/features?format=${format}`, {
    headers: { authorization: `Bearer ${map.viewKey}` },
  });
  const body = new Uint8Array(await res.arrayBuffer());
  assert.equal(res.status, 200, new TextDecoder().decode(body));
  return { res, body };
}

Deno.test("GET features ?format=: every format is a download GDAL reads back with the map's geometry and properties", async () => {
  await using relay = await startRelay();
  const map = await createMap(relay.url, "Trips of 2026");
  const put = await fetch(`${relay.url}/api/maps/${map.id}/features`, {
    method: "PUT",
    headers: { authorization: `Bearer ${map.editKey}` },
    body: sourceText(),
  });
  assert.equal(put.status, 200, await put.text());
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-export-" });
  const byName = new Map(SOURCE.map((f) => [f.properties.name as string, f]));
  const cases = [
    {
      format: "geojson",
      ext: "geojson",
      type: "application/geo+json",
      layers: ["trips-of-2026"],
      skipped: null,
      nameField: "name",
    },
    {
      format: "csv",
      ext: "csv",
      type: "text/csv; charset=utf-8",
      layers: ["trips-of-2026"],
      skipped: 0,
      nameField: "name",
    },
    {
      format: "kml",
      ext: "kml",
      type: "application/vnd.google-earth.kml+xml",
      layers: ["trips-of-2026"],
      skipped: 1,
      nameField: "Name",
    },
    {
      format: "gpx",
      ext: "gpx",
      type: "application/gpx+xml",
      layers: ["waypoints", "tracks"],
      skipped: 3,
      nameField: "name",
    },
    {
      format: "shp",
      ext: "zip",
      type: "application/zip",
      layers: ["points", "lines", "polygons"],
      skipped: 1,
      nameField: "name",
    },
  ];
  try {
    for (const c of cases) {
      const { res, body } = await exportFile(relay.url, map, c.format);
      assert.equal(res.headers.get("content-type"), c.type, c.format);
      assert.equal(
        res.headers.get("content-disposition"),
        `attachment; filename="trips-of-2026.${c.ext}"`,
      );
      if (c.skipped !== null) {
        assert.equal(res.headers.get("x-skipped-features"), String(c.skipped), c.format);
      }
      const file = `${dir}/trips-of-2026.${c.ext}`;
      await Deno.writeFile(file, body);
      const got = await readBack(c.format === "shp" ? `/vsizip/${file}` : file, c.layers);
      // What each format cannot hold is left out; everything else comes back.
      const expected = SOURCE.filter((f) =>
        c.format === "geojson" || c.format === "csv" ||
        (f.geometry !== null && (c.format !== "gpx" || !/Polygon/.test(f.geometry.type)))
      );
      assert.equal(got.length, expected.length, `${c.format}: ${got.length} features read back`);
      for (const g of got) {
        const name = String(g.properties[c.nameField]);
        const source = byName.get(name);
        assert.ok(source, `${c.format}: ${name} is not in the source`);
        assert.deepEqual(parts(g.geometry), parts(source.geometry), `${c.format} ${name} geometry`);
        for (const [key, value] of Object.entries(source.properties)) {
          if (key === "name") continue;
          const field = c.format === "shp"
            ? key.slice(0, 10)
            : c.format === "gpx"
            ? `ogr_${key}`
            : key;
          const read = g.properties[field];
          if (c.format === "geojson") assert.deepEqual(read, value, `${name}.${key}`);
          else if (c.format === "shp" && typeof value === "boolean") {
            assert.equal(read, value ? "T" : "F", `${c.format} ${name}.${key}`); // DBF logicals
          } else if (c.format === "shp" && typeof value === "number") {
            assert.equal(read, value, `${c.format} ${name}.${key}`);
          } else {
            // Text formats: GDAL reads numbers back as numbers (GPX) and JSON text as JSON.
            assert.equal(asText(read), asText(value), `${c.format} ${name}.${key}`);
          }
        }
        if (c.format === "csv") assert.equal(g.properties.id, source.id);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("GET features ?format=: an unknown format is a 400 problem; the key rules are the GeoJSON export's", async () => {
  await using relay = await startRelay();
  const map = await createMap(relay.url, "Keys");
  const bad = await fetch(
    `${relay.url}/api/maps/${map.id}/features?format=xlsx&key=${map.viewKey}`,
  );
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get("content-type"), "application/problem+json");
  assert.match(
    (await bad.json()).detail,
    /unknown format "xlsx"; use one of geojson, kml, csv, shp, gpx/,
  );
  const wrong = await fetch(`${relay.url}/api/maps/${map.id}/features?format=kml&key=nope`);
  assert.equal(wrong.status, 404);
  assert.equal(wrong.headers.get("content-type"), "application/problem+json");
  await wrong.body?.cancel();
  const plain = await fetch(`${relay.url}/api/maps/${map.id}/features?key=${map.viewKey}`);
  assert.equal(
    plain.headers.get("content-disposition"),
    null,
    "without ?format= the answer is as before",
  );
  assert.deepEqual(await plain.json(), { type: "FeatureCollection", features: [] });
});
