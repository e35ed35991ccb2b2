/** Builds public/dist/: the client bundles, one stylesheet, the basemap data and the gazetteer. */
import { fileURLToPath as fromFileUrl } from "node:url";
import { buildPlaces } from "./build_places.ts";

const ROOT = new URL("../", import.meta.url);
const DIST = new URL("public/dist/", ROOT);
const MODULES = new URL("node_modules/", ROOT);

/** Bundles one entry with `deno bundle --platform browser`, failing loudly with its output. */
async function bundle(entry: string, output: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform",
      "browser",
      "--minify",
      "-o",
      fromFileUrl(new URL(output, DIST)),
      fromFileUrl(new URL(entry, ROOT)),
    ],
    cwd: fromFileUrl(ROOT),
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle ${entry} failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

/** Leaflet's CSS names `images/x.png` for controls the client does not use; keep those URLs flat. */
function flattenImageUrls(css: string): string {
  return css.replace(/url\((['"]?)images\//g, "url($1");
}

async function main(): Promise<void> {
  await Deno.mkdir(DIST, { recursive: true });
  await bundle("public/src/map_entry.ts", "map.js");
  // The same page plus `window.duplex`, served as map.js only by a relay run with --test-hooks.
  await bundle("public/src/map_entry_test_hooks.ts", "map_test_hooks.js");
  await bundle("public/src/start_page.ts", "start.js");
  // Loaded by the map page on the first import of a KML, GPX, CSV, Shapefile, … (not GeoJSON).
  await bundle("public/src/formats_entry.ts", "formats.js");

  const css = [
    flattenImageUrls(await Deno.readTextFile(new URL("leaflet/dist/leaflet.css", MODULES))),
    await Deno.readTextFile(
      new URL("@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css", MODULES),
    ),
    await Deno.readTextFile(new URL("public/style.css", ROOT)),
  ].join("\n");
  await Deno.writeTextFile(new URL("app.css", DIST), css);

  // Natural Earth at three scales: the built-in basemap fetches each when the zoom first needs it.
  for (const scale of ["110m", "50m", "10m"]) {
    await Deno.copyFile(
      new URL(`world-atlas/countries-${scale}.json`, MODULES),
      new URL(`countries-${scale}.json`, DIST),
    );
  }
  // The relay's gazetteer (relay/routes/places.ts embeds it); not served to browsers as a file.
  await buildPlaces();
  const files = [];
  for await (const entry of Deno.readDir(DIST)) {
    if (entry.isFile) {
      files.push(`${entry.name} ${(await Deno.stat(new URL(entry.name, DIST))).size}`);
    }
  }
  console.log(`built public/dist/: ${files.sort().join(", ")}`);
}

if (import.meta.main) await main();
