/** A small PMTiles v3 writer for test fixtures (GDAL 3.6 here has none), written from the spec. */
import { gzipSync } from "node:zlib";

/** PMTiles tile types (spec: "Tile Type"). */
export const TILE_TYPE = { unknown: 0, mvt: 1, png: 2, jpeg: 3, webp: 4, avif: 5 } as const;
/** PMTiles compressions (spec: "Compression"). */
export const COMPRESSION = { unknown: 0, none: 1, gzip: 2, brotli: 3, zstd: 4 } as const;

/** One tile to write, with its bytes exactly as they are to be stored. */
export interface PmtilesTile {
  z: number;
  x: number;
  y: number;
  data: Uint8Array;
}

/** What the header says about the archive, besides what the writer works out itself. */
export interface PmtilesWriteOptions {
  tileType: number;
  /** How the stored tile bytes are compressed (MVT from MBTiles: gzip). */
  tileCompression: number;
  /** Bounds as west, south, east, north in degrees. */
  bounds: [number, number, number, number];
  center: [number, number, number];
  /** The JSON metadata (name, attribution, vector_layers, ...). */
  metadata: Record<string, unknown>;
  /**
   * The largest root directory in bytes before entries move to leaf directories. The spec's
   * limit is 16 384 minus the 127-byte header; tests set it lower to exercise leaves.
   * @default 16257
   */
  maxRootBytes?: number;
}

const HEADER_BYTES = 127;

/** The Hilbert tile id of the spec: all tiles of lower zooms first, then the Hilbert index. */
export function zxyToTileId(z: number, x: number, y: number): number {
  let acc = 0;
  for (let i = 0; i < z; i++) acc += 4 ** i;
  const n = 2 ** z;
  let d = 0;
  let tx = x;
  let ty = y;
  for (let s = n / 2; s >= 1; s /= 2) {
    const rx = (tx & s) > 0 ? 1 : 0;
    const ry = (ty & s) > 0 ? 1 : 0;
    d += s * s * ((3 * rx) ^ ry);
    if (ry === 0) {
      if (rx === 1) {
        tx = n - 1 - tx;
        ty = n - 1 - ty;
      }
      [tx, ty] = [ty, tx];
    }
  }
  return acc + d;
}

interface Entry {
  tileId: number;
  offset: number;
  length: number;
  runLength: number;
}

function pushVarint(out: number[], value: number): void {
  // Arithmetic, not bit operators: offsets and tile ids can pass 2^31.
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** A directory as the spec lays it out: count, then each column, varint-encoded, then gzip. */
function encodeDirectory(entries: Entry[]): Uint8Array {
  const out: number[] = [];
  pushVarint(out, entries.length);
  let last = 0;
  for (const e of entries) {
    pushVarint(out, e.tileId - last);
    last = e.tileId;
  }
  for (const e of entries) pushVarint(out, e.runLength);
  for (const e of entries) pushVarint(out, e.length);
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    // 0 means "right after the previous entry", which keeps clustered directories small.
    pushVarint(out, i > 0 && prev && e.offset === prev.offset + prev.length ? 0 : e.offset + 1);
  });
  return gzipSync(new Uint8Array(out));
}

/** Splits entries into leaf directories until the root fits; returns the root and the leaves. */
function buildDirectories(
  entries: Entry[],
  maxRootBytes: number,
): { root: Uint8Array; leaves: Uint8Array } {
  const root = encodeDirectory(entries);
  if (root.length <= maxRootBytes) return { root, leaves: new Uint8Array(0) };
  for (let leafSize = 64;; leafSize *= 2) {
    const rootEntries: Entry[] = [];
    const leafParts: Uint8Array[] = [];
    let offset = 0;
    for (let i = 0; i < entries.length; i += leafSize) {
      const chunk = entries.slice(i, i + leafSize);
      const leaf = encodeDirectory(chunk);
      rootEntries.push({ tileId: chunk[0].tileId, offset, length: leaf.length, runLength: 0 });
      leafParts.push(leaf);
      offset += leaf.length;
    }
    const rootBytes = encodeDirectory(rootEntries);
    if (rootBytes.length <= maxRootBytes) return { root: rootBytes, leaves: concat(leafParts) };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Encodes a whole PMTiles v3 archive: header, root directory, metadata, leaves, tile data. */
export function encodePmtiles(tiles: PmtilesTile[], options: PmtilesWriteOptions): Uint8Array {
  const sorted = tiles
    .map((t) => ({ id: zxyToTileId(t.z, t.x, t.y), tile: t }))
    .sort((a, b) => a.id - b.id);
  // Identical tiles (empty ocean, say) are stored once; consecutive ones become one run.
  const stored = new Map<string, { offset: number; length: number }>();
  const dataParts: Uint8Array[] = [];
  const entries: Entry[] = [];
  let dataLength = 0;
  for (const { id, tile } of sorted) {
    const key = bytesKey(tile.data);
    let at = stored.get(key);
    if (!at) {
      at = { offset: dataLength, length: tile.data.length };
      stored.set(key, at);
      dataParts.push(tile.data);
      dataLength += tile.data.length;
    }
    const last = entries.at(-1);
    if (last && last.offset === at.offset && last.tileId + last.runLength === id) {
      last.runLength++;
    } else {
      entries.push({ tileId: id, offset: at.offset, length: at.length, runLength: 1 });
    }
  }
  const { root, leaves } = buildDirectories(
    entries,
    options.maxRootBytes ?? 16384 - HEADER_BYTES,
  );
  const metadata = gzipSync(new TextEncoder().encode(JSON.stringify(options.metadata)));
  const zooms = tiles.map((t) => t.z);
  const rootOffset = HEADER_BYTES;
  const metadataOffset = rootOffset + root.length;
  const leavesOffset = metadataOffset + metadata.length;
  const dataOffset = leavesOffset + leaves.length;

  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(new TextEncoder().encode("PMTiles"), 0);
  header[7] = 3;
  const u64 = (at: number, v: number) => view.setBigUint64(at, BigInt(v), true);
  u64(8, rootOffset);
  u64(16, root.length);
  u64(24, metadataOffset);
  u64(32, metadata.length);
  u64(40, leavesOffset);
  u64(48, leaves.length);
  u64(56, dataOffset);
  u64(64, dataLength);
  u64(72, tiles.length);
  u64(80, entries.length);
  u64(88, stored.size);
  header[96] = 1; // clustered: tile data is in tile id order
  header[97] = COMPRESSION.gzip;
  header[98] = options.tileCompression;
  header[99] = options.tileType;
  header[100] = Math.min(...zooms);
  header[101] = Math.max(...zooms);
  const e7 = (at: number, deg: number) => view.setInt32(at, Math.round(deg * 1e7), true);
  const [w, s, e, n] = options.bounds;
  e7(102, w);
  e7(106, s);
  e7(110, e);
  e7(114, n);
  header[118] = options.center[2];
  e7(119, options.center[0]);
  e7(123, options.center[1]);
  return concat([header, root, metadata, leaves, ...dataParts]);
}

function bytesKey(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return s;
}
