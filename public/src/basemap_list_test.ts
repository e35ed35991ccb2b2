/** Unit tests of the basemap list from the config, the remembered choice and the over-zoom rule. */
import assert from "assert";
import {
  type BasemapInfo,
  basemapsFromConfig,
  beyondBasemap,
  BUILTIN,
  BUILTIN_MAXZOOM,
  CHOICE_KEY,
  loadChoice,
  saveChoice,
} from "./basemap_list.ts";

/** A Storage stand-in over a Map; `refuse` makes every call throw, as a denied localStorage does. */
function memoryStorage(refuse = false): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  const check = () => {
    if (refuse) throw new DOMException("denied", "SecurityError");
  };
  return {
    data,
    get length() {
      return data.size;
    },
    clear: () => data.clear(),
    key: (i: number) => [...data.keys()][i] ?? null,
    getItem: (k: string) => (check(), data.get(k) ?? null),
    setItem: (k: string, v: string) => (check(), void data.set(k, v)),
    removeItem: (k: string) => void data.delete(k),
  };
}

const STREETS: BasemapInfo = {
  id: "streets",
  name: "Zurich streets",
  kind: "vector",
  tiles: "/basemaps/streets/{z}/{x}/{y}.pbf",
  minzoom: 0,
  maxzoom: 16,
  bounds: [8.51, 47.35, 8.57, 47.39],
  vectorLayers: ["roads", "buildings"],
};
const AERIAL: BasemapInfo = {
  id: "aerial",
  name: "aerial",
  kind: "raster",
  tiles: "/basemaps/aerial/{z}/{x}/{y}.png",
  maxzoom: 14,
};

Deno.test("basemapsFromConfig: the relay's list, built-in first, bad entries left out", () => {
  const list = basemapsFromConfig({
    basemaps: [
      STREETS,
      { ...BUILTIN, name: "Offline" },
      { id: "broken", kind: "vector" }, // no tiles URL: cannot be drawn
      { id: "odd", kind: "hologram", tiles: "/x" },
      "not an object",
      { ...AERIAL, bounds: [1, 2, 3], flavor: "other", attribution: 7 },
      { ...AERIAL, name: "same id twice" },
    ],
  });
  assert.deepEqual(list.map((b) => b.id), ["builtin", "streets", "aerial"]);
  assert.equal(list[0].name, "Offline");
  assert.deepEqual(list[1], STREETS);
  assert.deepEqual(list[2], AERIAL);
});

Deno.test("basemapsFromConfig: basemaps sharing a name are told apart by their ids", () => {
  const list = basemapsFromConfig({
    basemaps: [BUILTIN, STREETS, { ...STREETS, id: "pm", archive: "/basemaps/pm.pmtiles" }, AERIAL],
  });
  assert.deepEqual(list.map((b) => b.name), [
    "Offline (built in)",
    "Zurich streets (streets)",
    "Zurich streets (pm)",
    "aerial",
  ]);
});

Deno.test("basemapsFromConfig: an old relay's single tiles URL, or nothing at all", () => {
  assert.deepEqual(
    basemapsFromConfig({ tiles: "https://t/{z}/{x}/{y}.png", tilesAttribution: "T" }),
    [
      BUILTIN,
      {
        id: "tiles",
        name: "Tiles",
        kind: "raster",
        tiles: "https://t/{z}/{x}/{y}.png",
        attribution: "T",
      },
    ],
  );
  assert.deepEqual(basemapsFromConfig({ tiles: null, tilesAttribution: null }), [BUILTIN]);
  assert.deepEqual(basemapsFromConfig(null), [BUILTIN]);
  assert.deepEqual(basemapsFromConfig({ basemaps: [] }), [BUILTIN]);
});

Deno.test("choice: remembered per browser, a stale or missing one falls back to the built-in", () => {
  const storage = memoryStorage();
  const list = [BUILTIN, STREETS, AERIAL];
  assert.equal(loadChoice(storage, list), "builtin");
  saveChoice(storage, "aerial");
  assert.equal(storage.data.get(CHOICE_KEY), "aerial");
  assert.equal(loadChoice(storage, list), "aerial");
  // The operator removed that file since: the built-in one, not a blank map.
  assert.equal(loadChoice(storage, [BUILTIN, STREETS]), "builtin");
});

Deno.test("choice: a browser that refuses storage still gets the built-in basemap", () => {
  const storage = memoryStorage(true);
  saveChoice(storage, "streets");
  assert.equal(loadChoice(storage, [BUILTIN, STREETS]), "builtin");
});

Deno.test("beyondBasemap: past maxzoom plus the renderer's margin, or below minzoom", () => {
  const view: [number, number, number, number] = [8.53, 47.36, 8.55, 47.38];
  assert.equal(beyondBasemap(STREETS, 16, view), false);
  assert.equal(beyondBasemap(STREETS, 18, view), false, "vector tiles over-zoom two levels");
  assert.equal(beyondBasemap(STREETS, 19, view), true);
  assert.equal(beyondBasemap(AERIAL, 15, view), false, "raster is stretched one level");
  assert.equal(beyondBasemap(AERIAL, 16, view), true);
  assert.equal(beyondBasemap({ ...AERIAL, minzoom: 5 }, 4, view), true);
  assert.equal(beyondBasemap({ ...AERIAL, minzoom: 5 }, 5, view), false);
  // A vector file's level 9 is drawn at zoom 10 (512-pixel tiles from the level below).
  assert.equal(beyondBasemap({ ...STREETS, minzoom: 9 }, 9, view), true);
  assert.equal(beyondBasemap({ ...STREETS, minzoom: 9 }, 10, view), false);
  assert.equal(beyondBasemap(BUILTIN, BUILTIN_MAXZOOM, view), false);
  assert.equal(beyondBasemap(BUILTIN, BUILTIN_MAXZOOM + 1, view), true);
});

Deno.test("beyondBasemap: a view that misses the bounds, on any copy of the world", () => {
  assert.equal(beyondBasemap(STREETS, 14, [2.3, 48.8, 2.4, 48.9]), true, "Paris");
  assert.equal(beyondBasemap(STREETS, 14, [8.56, 47.38, 8.6, 47.4]), false, "a corner shows");
  assert.equal(beyondBasemap(STREETS, 14, [368.5, 47.3, 368.6, 47.4]), false, "the copy east");
  assert.equal(beyondBasemap(STREETS, 2, [-200, -80, 200, 80]), false, "the whole world");
  assert.equal(beyondBasemap(STREETS, 14, [8.53, 40, 8.55, 41]), true, "south of it");
});
