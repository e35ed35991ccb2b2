/** The client's files, embedded with import attributes so `deno run` and the binary serve the same bytes. */
// Only `type: "text"` is used: `type: "bytes"` still needs --unstable-raw-imports in Deno 2.9, and
// the client needs no binary file (points are drawn as circles, so Leaflet's marker PNGs are unused).
import mapPage from "./map.html" with { type: "text" };
import startPage from "./start.html" with { type: "text" };
import mapJs from "./dist/map.js" with { type: "text" };
import startJs from "./dist/start.js" with { type: "text" };
import formatsJs from "./dist/formats.js" with { type: "text" };
import mapTestHooksJs from "./dist/map_test_hooks.js" with { type: "text" };
import appCss from "./dist/app.css" with { type: "text" };
import countries10m from "./dist/countries-10m.json" with { type: "text" };
import countries50m from "./dist/countries-50m.json" with { type: "text" };
import countries110m from "./dist/countries-110m.json" with { type: "text" };

/** One embedded file. */
export interface Asset {
  body: Uint8Array | string;
  contentType: string;
}

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
  "formats.js": { body: formatsJs, contentType: JS },
  "app.css": { body: appCss, contentType: "text/css; charset=utf-8" },
  "countries-110m.json": { body: countries110m, contentType: "application/json" },
  "countries-50m.json": { body: countries50m, contentType: "application/json" },
  "countries-10m.json": { body: countries10m, contentType: "application/json" },
};

/**
 * What a relay run with `--test-hooks` serves instead: the map page's script with `window.duplex`,
 * the handle the browser tests read the page through. Production pages never load it.
 */
export const testHookAssets: Record<string, Asset> = {
  "map.js": { body: mapTestHooksJs, contentType: JS },
};
