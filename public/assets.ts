/** The client's files, embedded with import attributes so `deno run` and the binary serve the same bytes. */
// Only `type: "text"` is used: `type: "bytes"` still needs --unstable-raw-imports in Deno 2.9, and
// the client needs no binary file (points are drawn as circles, so Leaflet's marker PNGs are unused).
import mapPage from "./map.html" with { type: "text" };
import startPage from "./start.html" with { type: "text" };
import mapJs from "./dist/map.js" with { type: "text" };
import startJs from "./dist/start.js" with { type: "text" };
import appCss from "./dist/app.css" with { type: "text" };
import countries110m from "./dist/countries-110m.json" with { type: "text" };

/**
 * One embedded file: its text, or a loader for a big one that not every page needs. A loader's
 * literal specifier keeps the file in `deno compile`'s module graph, and it enters the relay's
 * memory on the first request (about 5 MB of text in all, most of it Natural Earth 1:10m).
 */
export interface Asset {
  body: string | (() => Promise<string>);
  contentType: string;
}

/** The text of a module imported with `type: "text"`. */
const text = async (module: Promise<{ default: string }>): Promise<string> =>
  (await module).default;

/** HTML of the start page (`/`) and the map page (`/m/<id>`). */
export const pages: { start: string; map: string } = {
  start: startPage,
  map: mapPage,
};

const JS = "text/javascript; charset=utf-8";

/** Files served under `/assets/<name>`. */
export const assets: Record<string, Asset> = {
  "map.js": { body: mapJs, contentType: JS },
  "start.js": { body: startJs, contentType: JS },
  "formats.js": {
    body: () => text(import("./dist/formats.js", { with: { type: "text" } })),
    contentType: JS,
  },
  "app.css": { body: appCss, contentType: "text/css; charset=utf-8" },
  "countries-110m.json": { body: countries110m, contentType: "application/json" },
  "countries-50m.json": {
    body: () => text(import("./dist/countries-50m.json", { with: { type: "text" } })),
    contentType: "application/json",
  },
  "countries-10m.json": {
    body: () => text(import("./dist/countries-10m.json", { with: { type: "text" } })),
    contentType: "application/json",
  },
};

/**
 * What a relay run with `--test-hooks` serves instead: the map page's script with `window.duplex`,
 * the handle the browser tests read the page through. Production pages never load it.
 */
export const testHookAssets: Record<string, Asset> = {
  "map.js": {
    body: () => text(import("./dist/map_test_hooks.js", { with: { type: "text" } })),
    contentType: JS,
  },
};
