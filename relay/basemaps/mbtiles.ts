/** An MBTiles file (SQLite) opened read-only: tiles by z/x/y with the TMS row flip, and its metadata. */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  BasemapError,
  type BasemapFile,
  type BasemapInfo,
  describe,
  fileTag,
  isGzip,
  type RawMetadata,
  sniffFormat,
  type StoredTile,
  type TileFormat,
} from "./basemap_file.ts";

const FORMATS: Record<string, TileFormat> = {
  pbf: "pbf",
  mvt: "pbf",
  png: "png",
  jpg: "jpg",
  jpeg: "jpg",
  webp: "webp",
  avif: "avif",
};

/**
 * Opens an MBTiles file. A tile read is one indexed point lookup (the spec's unique index on
 * zoom_level, tile_column, tile_row), which is why a synchronous read does not hold up the
 * event loop for long.
 */
export async function openMbtiles(id: string, path: string): Promise<BasemapFile> {
  const stat = await Deno.stat(path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (err) {
    throw new BasemapError(`cannot open ${path} as SQLite: ${(err as Error).message}`);
  }
  try {
    return new MbtilesFile(id, db, fileTag(stat));
  } catch (err) {
    db.close();
    if (err instanceof BasemapError) throw new BasemapError(`${path}: ${err.message}`);
    throw new BasemapError(`${path} is not a readable MBTiles file: ${(err as Error).message}`);
  }
}

class MbtilesFile implements BasemapFile {
  readonly info: BasemapInfo;
  readonly format: TileFormat;
  readonly archive = null;
  #db: DatabaseSync;
  #select: StatementSync;
  #tag: string;

  constructor(id: string, db: DatabaseSync, tag: string) {
    this.#db = db;
    this.#tag = tag.slice(0, -1);
    // Preparing checks the tables exist (`tiles` may also be a view, as in many generators).
    this.#select = db.prepare(
      "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
    );
    const rows = db.prepare("SELECT name, value FROM metadata").all() as {
      name: unknown;
      value: unknown;
    }[];
    const meta = new Map(rows.map((r) => [String(r.name), String(r.value ?? "")]));
    const format = FORMATS[meta.get("format")?.toLowerCase() ?? ""] ?? this.#sniff();
    if (!format) {
      throw new BasemapError(
        `its metadata names no tile format (pbf, png, jpg, webp) and its first tile is none of them`,
      );
    }
    this.format = format;
    const zooms = db.prepare("SELECT MIN(zoom_level) AS lo, MAX(zoom_level) AS hi FROM tiles")
      .get() as { lo: number | null; hi: number | null };
    if (zooms.lo === null || zooms.hi === null) throw new BasemapError("it holds no tiles");
    const int = (
      v: string | undefined,
    ) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
    let json: { vector_layers?: unknown } = {};
    try {
      json = JSON.parse(meta.get("json") ?? "{}");
    } catch {
      // A broken `json` row only loses the layer list.
    }
    const raw: RawMetadata = {
      name: meta.get("name"),
      attribution: meta.get("attribution"),
      minzoom: int(meta.get("minzoom")) ?? zooms.lo,
      maxzoom: int(meta.get("maxzoom")) ?? zooms.hi,
      bounds: meta.get("bounds")?.split(",").map(Number),
      vectorLayers: json?.vector_layers,
    };
    this.info = describe(id, format, raw, false);
  }

  #sniff(): TileFormat | null {
    const row = this.#db.prepare("SELECT tile_data FROM tiles LIMIT 1").get() as
      | { tile_data: Uint8Array }
      | undefined;
    return row ? sniffFormat(row.tile_data) : null;
  }

  tile(z: number, x: number, y: number): Promise<StoredTile | null> {
    // MBTiles numbers rows from the south (TMS); the URL from the north (XYZ).
    const row = this.#select.get(z, x, 2 ** z - 1 - y) as
      | { tile_data: Uint8Array<ArrayBuffer> }
      | undefined;
    if (!row || !(row.tile_data instanceof Uint8Array)) return Promise.resolve(null);
    const data = row.tile_data;
    return Promise.resolve({
      data,
      encoding: isGzip(data) && this.format === "pbf" ? "gzip" : null,
      // The file is read as it was at start (see docs/DEPLOY.md): its identity plus the tile.
      etag: `${this.#tag}-${z}-${x}-${y}"`,
    });
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}
