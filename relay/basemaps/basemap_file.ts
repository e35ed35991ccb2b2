/** What every basemap file (MBTiles or PMTiles) offers the routes, and the metadata both share. */

/** A tile format a basemap file may hold; also the extension of its tile URLs. */
export type TileFormat = "pbf" | "png" | "jpg" | "webp" | "avif";

/** One basemap in `/api/config` and `/api/basemaps` (docs/PROTOCOL.md, "Basemaps"). */
export interface BasemapInfo {
  /** `"builtin"`, a `--basemap` NAME, a `--tiles` NAME, or `"tiles"` for the unnamed `--tiles`. */
  id: string;
  /** Shown in the switcher. */
  name: string;
  kind: "builtin" | "vector" | "raster";
  /** URL template of the tiles. */
  tiles?: string;
  /** The whole archive, for Range requests (PMTiles only). */
  archive?: string;
  minzoom?: number;
  maxzoom?: number;
  /** West, south, east, north. */
  bounds?: [number, number, number, number];
  attribution?: string;
  /** MVT layer names (vector only). */
  vectorLayers?: string[];
  /** `"protomaps"` for a Protomaps basemap build (its layer names), else null. */
  flavor?: "protomaps" | null;
}

/** A stored tile as it is to be sent. */
export interface StoredTile {
  data: Uint8Array<ArrayBuffer>;
  /** `gzip` when the stored bytes are gzipped (MVT in MBTiles usually is), else null. */
  encoding: string | null;
  /** A strong ETag, quoted. */
  etag: string;
}

/** What the archive route needs of a PMTiles file: its size, identity and byte ranges. */
export interface ArchiveAccess {
  size: number;
  /** A strong ETag for the whole file, quoted. */
  etag: string;
  lastModified: Date | null;
  /** Reads `length` bytes at `offset` (both inside the file). */
  read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>>;
}

/** An open basemap file. */
export interface BasemapFile {
  /** Everything `/api/basemaps` says about it (built with its NAME). */
  readonly info: BasemapInfo;
  readonly format: TileFormat;
  /** The tile, or null when the file has none there. Coordinates are XYZ and in range. */
  tile(z: number, x: number, y: number): Promise<StoredTile | null>;
  /** The whole file for Range requests (PMTiles), or null. */
  readonly archive: ArchiveAccess | null;
  close(): Promise<void>;
}

/** The content type of each tile format. */
export const CONTENT_TYPES: Record<TileFormat, string> = {
  pbf: "application/vnd.mapbox-vector-tile",
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
  avif: "image/avif",
};

/** The file could not be served; the message names the file and says what was wrong. */
export class BasemapError extends Error {
  /** Names the error in logs. */
  override name = "BasemapError";
}

/** The layer names a Protomaps basemap build has (github.com/protomaps/basemaps). */
const PROTOMAPS_LAYERS = ["earth", "water", "roads", "places"];

/** Metadata read from a file, before it is turned into a {@link BasemapInfo}. */
export interface RawMetadata {
  name?: unknown;
  attribution?: unknown;
  minzoom?: number;
  maxzoom?: number;
  bounds?: number[];
  vectorLayers?: unknown;
}

/** Builds the `/api/basemaps` entry of a file from its metadata, keeping only what is sound. */
export function describe(
  id: string,
  format: TileFormat,
  meta: RawMetadata,
  archive: boolean,
): BasemapInfo {
  const vector = format === "pbf";
  const layers = Array.isArray(meta.vectorLayers)
    ? meta.vectorLayers
      .map((l) => (l && typeof l === "object" && "id" in l ? String(l.id) : null))
      .filter((l): l is string => l !== null)
    : [];
  const info: BasemapInfo = {
    id,
    name: typeof meta.name === "string" && meta.name.trim() ? meta.name.trim() : id,
    kind: vector ? "vector" : "raster",
    tiles: `/basemaps/${id}/{z}/{x}/{y}.${format}`,
  };
  if (archive) info.archive = `/basemaps/${id}.pmtiles`;
  const zoom = (z: number | undefined) =>
    z !== undefined && Number.isInteger(z) && z >= 0 && z <= 30;
  if (zoom(meta.minzoom)) info.minzoom = meta.minzoom;
  if (zoom(meta.maxzoom)) info.maxzoom = meta.maxzoom;
  const b = meta.bounds;
  if (
    b && b.length === 4 && b.every(Number.isFinite) && b[1] < b[3] &&
    b.every((v, i) => Math.abs(v) <= (i % 2 === 0 ? 180 : 90))
  ) {
    info.bounds = [b[0], b[1], b[2], b[3]];
  }
  if (typeof meta.attribution === "string" && meta.attribution.trim()) {
    info.attribution = meta.attribution.trim();
  }
  if (vector) {
    info.vectorLayers = layers;
    info.flavor = PROTOMAPS_LAYERS.every((l) => layers.includes(l)) ? "protomaps" : null;
  }
  return info;
}

/** The format of a tile from its first bytes, for files whose metadata does not say. */
export function sniffFormat(data: Uint8Array): TileFormat | null {
  const at = (i: number, ...bytes: number[]) => bytes.every((b, j) => data[i + j] === b);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return "png";
  if (at(0, 0xff, 0xd8, 0xff)) return "jpg";
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return "webp";
  if (at(4, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66)) return "avif";
  // A gzipped tile that is not an image is taken for MVT, as are plain protobuf bytes (field 3).
  if (at(0, 0x1f, 0x8b) || data[0] === 0x1a) return "pbf";
  return null;
}

/** True when bytes start with the gzip magic number. */
export function isGzip(data: Uint8Array): boolean {
  return data.length > 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** A strong ETag from a file's size and modification time (as nginx does), plus a suffix. */
export function fileTag(stat: { size: number; mtime: Date | null }, suffix = ""): string {
  const m = stat.mtime ? stat.mtime.getTime().toString(16) : "0";
  return `"${stat.size.toString(16)}-${m}${suffix}"`;
}
