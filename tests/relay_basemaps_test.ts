/** A real relay serving basemap files (`--basemap`): tiles of MBTiles and PMTiles, archives with Range, the list. */
import assert from "assert";
import { startHaproxy } from "./_haproxy.ts";
import { runRelayToExit, startRelay } from "./_relay.ts";
import {
  FIXTURE_ATTRIBUTION,
  readMbtilesTiles,
  STREET_CENTER,
  tileAt,
  writeTileFixtures,
} from "./_tiles_fixture.ts";

interface Info {
  id: string;
  name: string;
  kind: string;
  tiles?: string;
  archive?: string;
  minzoom?: number;
  maxzoom?: number;
  bounds?: number[];
  attribution?: string;
  vectorLayers?: string[];
  flavor?: string | null;
}

async function bytes(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

/** Fetches without letting fetch gunzip the body, so bytes compare with what the file holds. */
function raw(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Response> {
  return fetch(url, { method, headers: { "accept-encoding": "identity", ...headers } });
}

Deno.test("the relay serves MBTiles and PMTiles tiles, whole archives with Range, and lists them", async () => {
  await using fx = await writeTileFixtures();
  await using relay = await startRelay({
    args: [
      "--memory",
      "--basemap",
      `streets=${fx.vectorMbtiles}`,
      "--basemap",
      `aerial=${fx.rasterMbtiles}`,
      "--basemap",
      `archive=${fx.pmtiles}`,
      "--tiles",
      "osm=https://tile.example.org/{z}/{x}/{y}.png",
      "--tiles-attribution",
      "© Example",
    ],
  });
  const [x, y] = tileAt(16, STREET_CENTER.lat, STREET_CENTER.lon);
  const vector = readMbtilesTiles(fx.vectorMbtiles);
  const stored = vector.find((t) => t.z === 16 && t.x === x && t.y === y);
  assert.ok(stored);

  // The list, in the contract's order, with the files' own metadata.
  const config = await (await fetch(`${relay.url}/api/config`)).json();
  assert.equal(typeof config.maxFrameBytes, "number", "the old fields stay");
  const list: Info[] = config.basemaps;
  assert.deepEqual(list.map((b) => b.id), ["builtin", "streets", "aerial", "archive", "osm"]);
  assert.deepEqual((await (await fetch(`${relay.url}/api/basemaps`)).json()).basemaps, list);
  const [builtin, streets, aerial, archive, osm] = list;
  assert.deepEqual(builtin, { id: "builtin", name: "Offline (built in)", kind: "builtin" });
  assert.equal(streets.kind, "vector");
  assert.equal(streets.name, "Fixture streets");
  assert.equal(streets.tiles, "/basemaps/streets/{z}/{x}/{y}.pbf");
  assert.equal(streets.archive, undefined);
  assert.equal(streets.minzoom, 0);
  assert.equal(streets.maxzoom, 16);
  assert.equal(streets.attribution, FIXTURE_ATTRIBUTION);
  assert.deepEqual(streets.vectorLayers?.sort(), ["buildings", "countries", "roads"]);
  assert.equal(streets.flavor, null);
  assert.equal(streets.bounds?.length, 4);
  assert.equal(aerial.kind, "raster");
  assert.equal(aerial.tiles, "/basemaps/aerial/{z}/{x}/{y}.png");
  assert.ok(aerial.minzoom !== undefined && aerial.maxzoom! >= 13, JSON.stringify(aerial));
  assert.ok(aerial.bounds && Math.abs(aerial.bounds[0] - 8.51) < 0.01, JSON.stringify(aerial));
  assert.equal(archive.kind, "vector");
  assert.equal(archive.archive, "/basemaps/archive.pmtiles");
  assert.equal(archive.tiles, "/basemaps/archive/{z}/{x}/{y}.pbf");
  assert.equal(archive.maxzoom, 16);
  assert.equal(archive.attribution, FIXTURE_ATTRIBUTION);
  assert.deepEqual(osm, {
    id: "osm",
    name: "osm",
    kind: "raster",
    tiles: "https://tile.example.org/{z}/{x}/{y}.png",
    attribution: "© Example",
  });

  // The same vector tile from both formats: gzip bytes exactly as stored, with validators.
  for (const name of ["streets", "archive"]) {
    const res = await raw(`${relay.url}/basemaps/${name}/16/${x}/${y}.pbf`);
    assert.equal(res.status, 200, name);
    assert.equal(res.headers.get("content-type"), "application/vnd.mapbox-vector-tile");
    assert.equal(res.headers.get("content-encoding"), "gzip");
    assert.match(res.headers.get("cache-control") ?? "", /public, max-age=\d{5,}/);
    const etag = res.headers.get("etag");
    assert.match(etag ?? "", /^"[^"]+"$/, "a strong ETag");
    assert.deepEqual(await bytes(res), stored.data, `${name}: the stored bytes`);
    const again = await raw(`${relay.url}/basemaps/${name}/16/${x}/${y}.pbf`, {
      "if-none-match": etag!,
    });
    assert.equal(again.status, 304);
    await again.body?.cancel();
    const head = await raw(`${relay.url}/basemaps/${name}/16/${x}/${y}.pbf`, {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("etag"), etag);
  }
  // A browser's fetch decodes it as a browser would: an MVT holding the layer names.
  const decoded = await fetch(`${relay.url}/basemaps/archive/16/${x}/${y}.pbf`);
  assert.ok(new TextDecoder().decode(await decoded.arrayBuffer()).includes("roads"));

  // A raster tile: PNG bytes as stored, no content-encoding.
  const rasterTile = readMbtilesTiles(fx.rasterMbtiles)[0];
  const png = await raw(
    `${relay.url}/basemaps/aerial/${rasterTile.z}/${rasterTile.x}/${rasterTile.y}.png`,
  );
  assert.equal(png.status, 200);
  assert.equal(png.headers.get("content-type"), "image/png");
  assert.equal(png.headers.get("content-encoding"), null);
  assert.deepEqual(await bytes(png), rasterTile.data);

  // Missing tiles, unknown basemaps, wrong extensions and impossible tiles: 404 problem+json.
  for (
    const path of [
      `/basemaps/streets/16/0/0.pbf`,
      `/basemaps/archive/16/0/0.pbf`,
      `/basemaps/archive/17/${x * 2}/${y * 2}.pbf`,
      `/basemaps/nosuch/0/0/0.pbf`,
      `/basemaps/streets/0/0/0.png`,
      `/basemaps/streets/2/4/0.pbf`,
      `/basemaps/streets.pmtiles`,
      `/basemaps/nosuch.pmtiles`,
    ]
  ) {
    const res = await fetch(`${relay.url}${path}`);
    assert.equal(res.status, 404, path);
    assert.equal(res.headers.get("content-type"), "application/problem+json", path);
    assert.equal((await res.json()).status, 404);
  }

  // The whole archive, and ranges of it.
  const file = await Deno.readFile(fx.pmtiles);
  const whole = await fetch(`${relay.url}/basemaps/archive.pmtiles`);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.get("accept-ranges"), "bytes");
  const archiveTag = whole.headers.get("etag")!;
  assert.deepEqual(await bytes(whole), file);
  const part = await fetch(`${relay.url}/basemaps/archive.pmtiles`, {
    headers: { range: "bytes=0-16383" },
  });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 0-16383/${file.length}`);
  assert.deepEqual(await bytes(part), file.subarray(0, 16384));
  const suffix = await fetch(`${relay.url}/basemaps/archive.pmtiles`, {
    headers: { range: "bytes=-100" },
  });
  assert.equal(suffix.status, 206);
  assert.deepEqual(await bytes(suffix), file.subarray(file.length - 100));
  const open = await fetch(`${relay.url}/basemaps/archive.pmtiles`, {
    headers: { range: `bytes=${file.length - 10}-` },
  });
  assert.equal(open.status, 206);
  assert.deepEqual(await bytes(open), file.subarray(file.length - 10));
  for (const range of [`bytes=${file.length}-`, "bytes=0-1,5-9"]) {
    const bad = await fetch(`${relay.url}/basemaps/archive.pmtiles`, { headers: { range } });
    assert.equal(bad.status, 416, range);
    assert.equal(bad.headers.get("content-range"), `bytes */${file.length}`);
    await bad.body?.cancel();
  }
  // If-Range with the current tag serves the range; with another tag, the whole file.
  const ifRange = await fetch(`${relay.url}/basemaps/archive.pmtiles`, {
    headers: { range: "bytes=0-9", "if-range": archiveTag },
  });
  assert.equal(ifRange.status, 206);
  await ifRange.body?.cancel();
  const stale = await fetch(`${relay.url}/basemaps/archive.pmtiles`, {
    headers: { range: "bytes=0-9", "if-range": '"old"' },
  });
  assert.equal(stale.status, 200);
  assert.equal((await bytes(stale)).length, file.length);
  const cached = await fetch(`${relay.url}/basemaps/archive.pmtiles`, {
    headers: { "if-none-match": archiveTag },
  });
  assert.equal(cached.status, 304);
  await cached.body?.cancel();
  const head = await fetch(`${relay.url}/basemaps/archive.pmtiles`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), String(file.length));

  // The files are closed at shutdown, which then ends cleanly.
  assert.equal(await relay.signal("SIGTERM"), 0);
  assert.ok(relay.logs.some((l) => l.event === "stopped"));
});

Deno.test("a basemap file that cannot be served stops the start with a clear message (exit 2)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-badbasemap-" });
  try {
    const notTiles = `${dir}/notes.txt`;
    await Deno.writeTextFile(notTiles, "hello, not a tile file");
    const emptyDb = `${dir}/empty.mbtiles`;
    const { DatabaseSync } = await import("node:sqlite");
    new DatabaseSync(emptyDb).exec("CREATE TABLE t (a)");
    const cases: [string, RegExp][] = [
      [`${dir}/missing.pmtiles`, /--basemap x=.*missing\.pmtiles: cannot read .*No such file/],
      [notTiles, /neither a PMTiles archive nor an MBTiles/],
      [emptyDb, /not a readable MBTiles file: no such table: tiles/],
    ];
    for (const [path, message] of cases) {
      const run = await runRelayToExit(["--memory", "--port", "0", "--basemap", `x=${path}`]);
      assert.equal(run.code, 2, path);
      assert.equal(run.listened, false);
      assert.match(run.stderr.join("\n"), message);
    }
    const badName = await runRelayToExit(["--memory", "--basemap", `Bad Name=${notTiles}`]);
    assert.equal(badName.code, 2);
    assert.match(badName.stderr.join("\n"), /--basemap must be NAME=FILE/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("through the shipped HAProxy config, Range requests on an archive and gzipped tiles pass as they are", async () => {
  await using fx = await writeTileFixtures();
  await using relay = await startRelay({
    args: ["--memory", "--trust-proxy", "127.0.0.1", "--basemap", `pm=${fx.pmtiles}`],
  });
  await using hp = await startHaproxy({ relayPort: relay.port });
  const file = await Deno.readFile(fx.pmtiles);
  const part = await hp.fetch("/basemaps/pm.pmtiles", { headers: { range: "bytes=100-16483" } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get("content-range"), `bytes 100-16483/${file.length}`);
  assert.deepEqual(await bytes(part), file.subarray(100, 16484));
  const bad = await hp.fetch("/basemaps/pm.pmtiles", {
    headers: { range: `bytes=${file.length}-` },
  });
  assert.equal(bad.status, 416);
  await bad.body?.cancel();
  const [x, y] = tileAt(16, STREET_CENTER.lat, STREET_CENTER.lon);
  const stored = readMbtilesTiles(fx.vectorMbtiles).find((t) =>
    t.z === 16 && t.x === x && t.y === y
  )!;
  const tile = await hp.fetch(`/basemaps/pm/16/${x}/${y}.pbf`, {
    headers: { "accept-encoding": "identity" },
  });
  assert.equal(tile.status, 200);
  assert.equal(tile.headers.get("content-encoding"), "gzip");
  assert.deepEqual(await bytes(tile), stored.data);
});
