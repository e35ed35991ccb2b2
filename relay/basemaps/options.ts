/** Parsing `--basemap NAME=FILE` and `--tiles [NAME=]URL` (both repeatable) into checked lists. */

/** One `--basemap NAME=FILE`. */
export interface BasemapSpec {
  name: string;
  path: string;
}

/** One online raster source from `--tiles`. */
export interface TileSource {
  /** NAME, or `"tiles"` for the unnamed `--tiles URL`. */
  id: string;
  /** Shown in the switcher: NAME, or the URL's host for the unnamed one. */
  name: string;
  /** URL template with {z}, {x}, {y}. */
  url: string;
  attribution: string | null;
}

/** A basemap or tile source name: lower case, digits, `_` and `-`, up to 32 characters. */
export const BASEMAP_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Ids the relay gives itself: the built-in basemap and the unnamed `--tiles`. */
const RESERVED = ["builtin"];

/** Thrown with a message for the command line (the caller wraps it as its UsageError). */
export class BasemapOptionError extends Error {
  /** Names the error in logs. */
  override name = "BasemapOptionError";
}

/** `--basemap` values (from flags, or `DUPLEXMAP_BASEMAPS` split on `;`). */
export function parseBasemapSpecs(values: string[], from: string): BasemapSpec[] {
  return values.map((value) => {
    const eq = value.indexOf("=");
    const name = eq > 0 ? value.slice(0, eq).trim() : "";
    const path = eq > 0 ? value.slice(eq + 1).trim() : "";
    if (!BASEMAP_NAME.test(name) || !path) {
      throw new BasemapOptionError(
        `${from} must be NAME=FILE with NAME of a-z, 0-9, _ and - (up to 32): received ${
          JSON.stringify(value)
        }`,
      );
    }
    return { name, path };
  });
}

/**
 * `--tiles` values (from flags, or `DUPLEXMAP_TILES` split on whitespace): `NAME=URL`, or one
 * unnamed `URL` (the old form, listed as `tiles`). `attribution` is `--tiles-attribution`.
 */
export function parseTileSources(
  values: string[],
  from: string,
  attribution: string | null,
): TileSource[] {
  const unnamed = values.filter((v) => !NAMED_URL.test(v.trim()));
  if (unnamed.length > 1) {
    throw new BasemapOptionError(`${from}: give NAME=URL to each when there are several`);
  }
  return values.map((value): TileSource => {
    const named = NAMED_URL.exec(value.trim());
    const url = named ? named[2].trim() : value.trim();
    if (!/^https?:\/\/.*\{z\}.*\{x\}.*\{y\}/.test(url) || !URL.canParse(fill(url))) {
      throw new BasemapOptionError(
        `${from} must be a URL template with {z}, {x} and {y}, or NAME=URL: received ${
          JSON.stringify(value)
        }`,
      );
    }
    if (named) return { id: named[1], name: named[1], url, attribution };
    return { id: "tiles", name: new URL(fill(url)).host, url, attribution };
  });
}

/** `NAME=URL`; a bare URL never matches, since a scheme is followed by `:`, not `=`. */
const NAMED_URL = /^([a-z0-9][a-z0-9_-]{0,31})=(.*)$/s;

/** The template with its placeholders filled, to check it parses and to find its origin. */
export function fill(template: string): string {
  return template.replace(/\{[a-z]+\}/g, "0");
}

/** Refuses an id given twice, or a reserved one, across `--basemap` and `--tiles`. */
export function checkIds(basemaps: BasemapSpec[], tiles: TileSource[]): void {
  const seen = new Set<string>(RESERVED);
  for (const id of [...basemaps.map((b) => b.name), ...tiles.map((t) => t.id)]) {
    if (seen.has(id)) {
      throw new BasemapOptionError(
        `the basemap name ${JSON.stringify(id)} is ${
          RESERVED.includes(id) ? "reserved" : "given twice"
        } (--basemap and --tiles names must differ)`,
      );
    }
    seen.add(id);
  }
}

/**
 * `--tiles` and `--basemap` from parsed flags, else from `DUPLEXMAP_TILES` (whitespace-separated)
 * and `DUPLEXMAP_BASEMAPS` (`;`-separated), with names checked across both.
 */
export function parseBasemapOptions(
  flags: { tiles?: string[]; basemap?: string[] },
  env: Record<string, string | undefined>,
  tilesAttribution: string | null,
): { tileSources: TileSource[]; basemaps: BasemapSpec[] } {
  const many = (given: string[] | undefined, flag: string, envVar: string, separator: RegExp) => {
    if (given) return { from: `--${flag}`, items: given };
    const items = (env[envVar] ?? "").split(separator).map((s) => s.trim()).filter(Boolean);
    return { from: `${envVar} (--${flag})`, items };
  };
  const t = many(flags.tiles, "tiles", "DUPLEXMAP_TILES", /\s+/);
  const tileSources = parseTileSources(t.items, t.from, tilesAttribution);
  const b = many(flags.basemap, "basemap", "DUPLEXMAP_BASEMAPS", /;/);
  const basemaps = parseBasemapSpecs(b.items, b.from);
  checkIds(basemaps, tileSources);
  return { tileSources, basemaps };
}
