/** Unit tests of what a basemap file's metadata becomes in /api/basemaps, and tile sniffing. */
import assert from "assert";
import { describe, sniffFormat } from "./basemap_file.ts";

Deno.test("describe: a Protomaps build is recognised by its layer names", () => {
  const layers = ["boundaries", "buildings", "earth", "landuse", "places", "roads", "water"];
  const info = describe("pm", "pbf", {
    name: "Protomaps Basemap",
    attribution: '<a href="https://openstreetmap.org/copyright">© OpenStreetMap</a>',
    minzoom: 0,
    maxzoom: 15,
    bounds: [8.4, 47.3, 8.6, 47.4],
    vectorLayers: layers.map((id) => ({ id, fields: {} })),
  }, true);
  assert.deepEqual(info, {
    id: "pm",
    name: "Protomaps Basemap",
    kind: "vector",
    tiles: "/basemaps/pm/{z}/{x}/{y}.pbf",
    archive: "/basemaps/pm.pmtiles",
    minzoom: 0,
    maxzoom: 15,
    bounds: [8.4, 47.3, 8.6, 47.4],
    attribution: '<a href="https://openstreetmap.org/copyright">© OpenStreetMap</a>',
    vectorLayers: layers,
    flavor: "protomaps",
  });
});

Deno.test("describe: unsound metadata is left out; a raster has no layers or flavor", () => {
  const info = describe("r", "png", {
    name: "  ",
    minzoom: -1,
    maxzoom: 2.5,
    bounds: [0, 50, 10, 40],
    vectorLayers: "nope",
  }, false);
  assert.deepEqual(info, {
    id: "r",
    name: "r",
    kind: "raster",
    tiles: "/basemaps/r/{z}/{x}/{y}.png",
  });
  assert.equal(describe("v", "pbf", { vectorLayers: [{ id: "roads" }] }, false).flavor, null);
});

Deno.test("sniffFormat tells images, gzip and MVT apart", () => {
  assert.equal(sniffFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10])), "png");
  assert.equal(sniffFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])), "jpg");
  assert.equal(sniffFormat(new TextEncoder().encode("RIFF\0\0\0\0WEBPVP8 ")), "webp");
  assert.equal(sniffFormat(new Uint8Array([0x1f, 0x8b, 8, 0])), "pbf");
  assert.equal(sniffFormat(new TextEncoder().encode("hello")), null);
});
