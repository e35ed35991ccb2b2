/** Zipped Shapefiles read by shpjs: every layer in the zip, reprojected to WGS84 from its .prj by proj4. */
import { parseDbf, parseShp } from "shpjs";
import type { FileRead, SourceRecord } from "./records.ts";
import { unzipEntries } from "./zip.ts";

const PARTS = /\.(shp|dbf|prj|cpg)$/i;

/**
 * Reads a zip holding one or more Shapefiles (`.shp` with its `.dbf`, `.prj` and `.cpg`).
 * Coordinates are reprojected to WGS84 when a `.prj` says another system. Text in the `.dbf`
 * is decoded as its `.cpg` says, else as its header's language driver says (GDAL's default,
 * ISO-8859-1, writes no `.cpg`), else as UTF-8.
 */
export function readShapefileZip(bytes: Uint8Array, maxUnzippedBytes?: number): FileRead {
  const unzipped = unzipEntries(bytes, (n) => PARTS.test(n), maxUnzippedBytes);
  if (!unzipped.ok) return { ok: false, status: 400, message: unzipped.message };
  const parts = new Map<string, Record<string, Uint8Array>>();
  for (const [name, data] of Object.entries(unzipped.files)) {
    const base = name.slice(0, -4);
    const ext = name.slice(-3).toLowerCase();
    parts.set(base, { ...parts.get(base), [ext]: data });
  }
  const layers = [...parts.entries()].filter(([, p]) => p.shp).sort(([a], [b]) => a < b ? -1 : 1);
  if (layers.length === 0) {
    return {
      ok: false,
      status: 400,
      message: "the zip holds no .shp file (not a zipped Shapefile)",
    };
  }
  const records: SourceRecord[] = [];
  const decoder = new TextDecoder();
  for (const [name, p] of layers) {
    try {
      const prj = p.prj ? decoder.decode(p.prj) : undefined;
      const geometries = parseShp(p.shp, prj) as unknown[];
      const rows = p.dbf
        ? parseDbf(p.dbf, p.cpg ? decoder.decode(p.cpg) : dbfEncoding(p.dbf)) as unknown[]
        : [];
      geometries.forEach((geometry, i) =>
        records.push({ feature: { type: "Feature", geometry, properties: rows[i] ?? {} } })
      );
    } catch (e) {
      return {
        ok: false,
        status: 400,
        message: `${name}.shp cannot be read: ${e instanceof Error ? e.message : e}`,
      };
    }
  }
  return { ok: true, format: "shapefile", records };
}

/** The encoding a `.dbf` header's language driver id (byte 29) names, for the ones seen in practice. */
function dbfEncoding(dbf: Uint8Array): string | undefined {
  const ldid = dbf[29];
  // 0x57 is what GDAL writes by default (ISO-8859-1), 0x03 Windows ANSI: both read as windows-1252.
  return ldid === 0x57 || ldid === 0x03 ? "windows-1252" : undefined;
}
