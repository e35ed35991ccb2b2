/** The basemap files named with `--basemap`, opened at start, listed for `/api/basemaps`, closed at exit. */
import { BasemapError, type BasemapFile, type BasemapInfo } from "./basemap_file.ts";
import { openMbtiles } from "./mbtiles.ts";
import type { BasemapSpec, TileSource } from "./options.ts";

export { BasemapError } from "./basemap_file.ts";
export type { BasemapFile, BasemapInfo } from "./basemap_file.ts";

/** The built-in offline basemap's entry, always first. */
export const BUILTIN_BASEMAP: BasemapInfo = {
  id: "builtin",
  name: "Offline (built in)",
  kind: "builtin",
};

/** The open basemap files, by name. */
export class BasemapRegistry {
  #files: Map<string, BasemapFile>;

  /** Takes files already opened (see {@link openBasemaps}), in the order they were given. */
  constructor(files: BasemapFile[] = []) {
    this.#files = new Map(files.map((f) => [f.info.id, f]));
  }

  /** The file named `name`, or undefined. */
  get(name: string): BasemapFile | undefined {
    return this.#files.get(name);
  }

  /** What `/api/basemaps` lists: the built-in one, the files in order, then the online sources. */
  list(tileSources: readonly TileSource[]): BasemapInfo[] {
    return [
      BUILTIN_BASEMAP,
      ...[...this.#files.values()].map((f) => f.info),
      ...tileSources.map((t): BasemapInfo => ({
        id: t.id,
        name: t.name,
        kind: "raster",
        tiles: t.url,
        ...(t.attribution ? { attribution: t.attribution } : {}),
      })),
    ];
  }

  /** Closes every file; safe to call twice. */
  async close(): Promise<void> {
    const files = [...this.#files.values()];
    this.#files.clear();
    await Promise.all(files.map((f) => f.close().catch(() => {})));
  }
}

const SQLITE_MAGIC = "SQLite format 3\0";

/** Which reader a file needs, from its first bytes (not its name). */
async function detect(path: string): Promise<"pmtiles" | "mbtiles"> {
  let head: Uint8Array;
  try {
    using file = await Deno.open(path, { read: true });
    const info = await file.stat();
    if (!info.isFile) throw new BasemapError("not a file");
    head = new Uint8Array(16);
    let n = 0;
    while (n < head.length) {
      const got = await file.read(head.subarray(n));
      if (got === null) break;
      n += got;
    }
    head = head.subarray(0, n);
  } catch (err) {
    if (err instanceof BasemapError) throw err;
    if (err instanceof Deno.errors.NotFound) throw new BasemapError("no such file");
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new BasemapError("cannot read it: permission denied (the relay's user must read it)");
    }
    throw new BasemapError(`cannot read it: ${(err as Error).message}`);
  }
  const text = new TextDecoder("latin1").decode(head);
  if (text.startsWith("PMTiles")) return "pmtiles";
  if (text === SQLITE_MAGIC) return "mbtiles";
  throw new BasemapError("neither a PMTiles archive nor an MBTiles (SQLite) file");
}

/**
 * Opens every `--basemap` file, checking each one (format, metadata, a readable tile table or
 * directory), so that a bad file stops the start with a message instead of failing per tile.
 * On failure the files opened so far are closed again.
 */
export async function openBasemaps(specs: readonly BasemapSpec[]): Promise<BasemapRegistry> {
  const files: BasemapFile[] = [];
  try {
    for (const spec of specs) {
      try {
        const kind = await detect(spec.path);
        files.push(
          kind === "pmtiles"
            // The PMTiles reader (npm pmtiles, with fflate) is loaded only when a file needs it.
            ? await (await import("./pmtiles.ts")).openPmtiles(spec.name, spec.path)
            : await openMbtiles(spec.name, spec.path),
        );
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new BasemapError(`--basemap ${spec.name}=${spec.path}: ${message}`);
      }
    }
  } catch (err) {
    await new BasemapRegistry(files).close();
    throw err;
  }
  return new BasemapRegistry(files);
}
