/** A PMTiles v3 archive: header and directories read with npm `pmtiles`, bytes with positional file reads. */
import { type FileHandle, open } from "node:fs/promises";
import {
  Compression,
  findTile,
  type Header,
  PMTiles,
  SharedPromiseCache,
  type Source,
  TileType,
  zxyToTileId,
} from "pmtiles";
import {
  type ArchiveAccess,
  BasemapError,
  type BasemapFile,
  type BasemapInfo,
  describe,
  fileTag,
  type StoredTile,
  type TileFormat,
} from "./basemap_file.ts";

const FORMATS: Partial<Record<TileType, TileFormat>> = {
  [TileType.Mvt]: "pbf",
  [TileType.Png]: "png",
  [TileType.Jpeg]: "jpg",
  [TileType.Webp]: "webp",
  [TileType.Avif]: "avif",
};

const ENCODINGS: Partial<Record<Compression, string | null>> = {
  [Compression.None]: null,
  [Compression.Gzip]: "gzip",
  [Compression.Brotli]: "br",
  [Compression.Zstd]: "zstd",
};

/** Directories kept decoded (the root plus leaves); a leaf covers a few thousand tiles. */
const DIRECTORY_CACHE_ENTRIES = 256;

/**
 * The library's Source over a local file. `FileHandle.read` with a position is a pread, so
 * concurrent tile reads need no seek and cannot interleave (a `Deno.FsFile` has only seek+read).
 */
class FileSource implements Source {
  #handle: FileHandle;
  #key: string;
  readonly size: number;

  constructor(handle: FileHandle, key: string, size: number) {
    this.#handle = handle;
    this.#key = key;
    this.size = size;
  }

  getKey(): string {
    return this.#key;
  }

  async read(offset: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buffer = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const { bytesRead } = await this.#handle.read(buffer, done, n - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === n ? buffer : buffer.subarray(0, done);
  }

  async getBytes(offset: number, length: number): Promise<{ data: ArrayBuffer }> {
    const bytes = await this.read(offset, length);
    return { data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) };
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

/** Opens a PMTiles v3 archive and reads its header and metadata (so a bad file fails at start). */
export async function openPmtiles(id: string, path: string): Promise<BasemapFile> {
  const handle = await open(path, "r");
  try {
    const stat = await handle.stat();
    const source = new FileSource(handle, path, stat.size);
    const archive = new PMTiles(source, new SharedPromiseCache(DIRECTORY_CACHE_ENTRIES));
    let header: Header;
    let metadata: Record<string, unknown>;
    try {
      header = await archive.getHeader();
      const m = await archive.getMetadata();
      metadata = m && typeof m === "object" ? m as Record<string, unknown> : {};
    } catch (err) {
      throw new BasemapError(
        `${path} is not a readable PMTiles v3 archive: ${(err as Error).message}`,
      );
    }
    if (header.specVersion !== 3) {
      throw new BasemapError(`${path} is PMTiles version ${header.specVersion}; only v3 is served`);
    }
    const format = FORMATS[header.tileType];
    if (!format) {
      throw new BasemapError(
        `${path} holds tiles of PMTiles type ${header.tileType}, not MVT or an image`,
      );
    }
    const encoding = ENCODINGS[header.tileCompression];
    if (encoding === undefined) {
      throw new BasemapError(`${path} does not say how its tiles are compressed`);
    }
    const info = describe(id, format, {
      name: metadata.name,
      attribution: metadata.attribution,
      minzoom: header.minZoom,
      maxzoom: header.maxZoom,
      bounds: [header.minLon, header.minLat, header.maxLon, header.maxLat],
      vectorLayers: metadata.vector_layers,
    }, true);
    return new PmtilesFile(info, format, archive, source, header, encoding, {
      size: stat.size,
      etag: fileTag({ size: stat.size, mtime: stat.mtime }),
      lastModified: stat.mtime,
      read: (offset, length) => source.read(offset, length),
    });
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

class PmtilesFile implements BasemapFile {
  #reader: PMTiles;
  #source: FileSource;
  #header: Header;
  #encoding: string | null;

  constructor(
    readonly info: BasemapInfo,
    readonly format: TileFormat,
    reader: PMTiles,
    source: FileSource,
    header: Header,
    encoding: string | null,
    readonly archive: ArchiveAccess,
  ) {
    this.#reader = reader;
    this.#source = source;
    this.#header = header;
    this.#encoding = encoding;
  }

  /**
   * Walks root and leaf directories as the library's getZxy does, but sends the stored bytes
   * as they are (the library would decompress them; browsers do that given Content-Encoding).
   */
  async tile(z: number, x: number, y: number): Promise<StoredTile | null> {
    const h = this.#header;
    if (z < h.minZoom || z > h.maxZoom) return null;
    const tileId = zxyToTileId(z, x, y);
    let offset = h.rootDirectoryOffset;
    let length = h.rootDirectoryLength;
    for (let depth = 0; depth <= 3; depth++) {
      const directory = await this.#reader.cache.getDirectory(this.#source, offset, length, h);
      const entry = findTile(directory, tileId);
      if (!entry) return null;
      if (entry.runLength > 0) {
        const data = await this.#source.read(h.tileDataOffset + entry.offset, entry.length);
        // Equal offsets are equal bytes (deduplicated tiles), so the offset names the content.
        const etag = `${this.archive.etag.slice(0, -1)}-${entry.offset.toString(16)}"`;
        return { data, encoding: this.#encoding, etag };
      }
      offset = h.leafDirectoryOffset + entry.offset;
      length = entry.length;
    }
    throw new Error(`${this.info.id}: directories nest deeper than the spec allows`);
  }

  close(): Promise<void> {
    return this.#source.close();
  }
}
