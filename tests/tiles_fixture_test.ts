/** Checks the basemap fixtures themselves: GDAL wrote what we expect, and the PMTiles writer is right. */
import assert from "assert";
import { gunzipSync } from "node:zlib";
import { PMTiles, type Source, zxyToTileId as libTileId } from "pmtiles";
import { zxyToTileId } from "./_pmtiles_writer.ts";
import {
  readMbtilesMetadata,
  readMbtilesTiles,
  STREET_CENTER,
  tileAt,
  writePmtilesFromMbtiles,
  writeTileFixtures,
} from "./_tiles_fixture.ts";

/** A pmtiles Source over bytes in memory: the library reads the archive as a client would. */
function memorySource(bytes: Uint8Array): Source {
  return {
    getKey: () => "memory",
    getBytes: (offset, length) =>
      Promise.resolve({ data: bytes.slice(offset, offset + length).buffer }),
  };
}

Deno.test("Hilbert tile ids match the pmtiles library's", () => {
  for (const [z, x, y] of [[0, 0, 0], [1, 1, 0], [3, 5, 2], [12, 2145, 1434], [16, 34322, 22950]]) {
    assert.equal(zxyToTileId(z, x, y), libTileId(z, x, y), `${z}/${x}/${y}`);
  }
});

Deno.test("fixtures: vector and raster MBTiles from GDAL, and a PMTiles archive the library reads back", async () => {
  await using fx = await writeTileFixtures();
  const meta = readMbtilesMetadata(fx.vectorMbtiles);
  assert.equal(meta.format, "pbf");
  const layers = JSON.parse(meta.json).vector_layers.map((l: { id: string }) => l.id).sort();
  assert.deepEqual(layers, ["buildings", "countries", "roads"]);
  const tiles = readMbtilesTiles(fx.vectorMbtiles);
  const [x16, y16] = tileAt(16, STREET_CENTER.lat, STREET_CENTER.lon);
  const street = tiles.find((t) => t.z === 16 && t.x === x16 && t.y === y16);
  assert.ok(street, "a zoom-16 tile at the street grid's centre");
  const mvt = gunzipSync(street.data);
  assert.ok(new TextDecoder().decode(mvt).includes("buildings"), "its MVT holds buildings");
  assert.ok(tiles.some((t) => t.z === 0), "a world tile at zoom 0");

  const raster = readMbtilesMetadata(fx.rasterMbtiles);
  assert.equal(raster.format, "png");
  const rasterTiles = readMbtilesTiles(fx.rasterMbtiles);
  assert.ok(rasterTiles.length > 4);
  assert.deepEqual([...rasterTiles[0].data.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"

  for (const maxRootBytes of [undefined, 200]) {
    const path = await writePmtilesFromMbtiles(fx.vectorMbtiles, `${fx.dir}/t.pmtiles`, {
      maxRootBytes,
    });
    const bytes = await Deno.readFile(path);
    const archive = new PMTiles(memorySource(bytes));
    const header = await archive.getHeader();
    assert.equal(header.specVersion, 3);
    assert.equal(header.minZoom, 0);
    assert.equal(header.maxZoom, 16);
    assert.equal(header.numAddressedTiles, tiles.length);
    if (maxRootBytes) assert.ok((header.leafDirectoryLength ?? 0) > 0, "leaf directories written");
    const metadata = await archive.getMetadata() as { vector_layers: unknown[] };
    assert.equal(metadata.vector_layers.length, 3);
    for (const t of tiles) {
      const got = await archive.getZxy(t.z, t.x, t.y);
      assert.ok(got, `tile ${t.z}/${t.x}/${t.y} in the archive`);
      // The library gunzips tile data; compare with the gunzipped MBTiles tile.
      assert.deepEqual(new Uint8Array(got.data), new Uint8Array(gunzipSync(t.data)));
    }
    assert.equal(await archive.getZxy(16, 0, 0), undefined);
  }
});
