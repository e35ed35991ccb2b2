/** Reads a picked or dropped file of any supported format into edits: GeoJSON here, other formats by formats.js, loaded on first use. */
import { formatOfName } from "../../relay/formats/detect.ts";
import { readGeoJsonSeq } from "../../relay/formats/geojson_seq.ts";
import { importOps, importRecords } from "./geojson_io.ts";
import type { ImportOptions, ImportResult } from "./geojson_io.ts";
import type * as Formats from "./formats_entry.ts";

/**
 * Reads `file` into edits. A GeoJSON object is read here; a `.json` that turns out to hold one
 * Feature per line is read as GeoJSONSeq. Every other format is read by the readers bundled apart
 * in `formats.js` (papaparse, togeojson, shpjs with proj4, fflate: three times the size of the
 * GeoJSON path), which the page fetches only when such a file is first imported.
 */
export async function readImportFile(file: File, options: ImportOptions): Promise<ImportResult> {
  if (/\.(shp|shx|dbf|prj|cpg)$/i.test(file.name)) {
    return {
      ok: false,
      message: "A Shapefile is imported as one .zip holding its .shp, .dbf and .prj files.",
    };
  }
  const format = formatOfName(file.name);
  const head = new TextDecoder().decode(await file.slice(0, 64).arrayBuffer()).trimStart();
  if (format === "geojson" || (format === null && /^\uFEFF?\s*[{[]/.test(head))) {
    const text = await file.text();
    const result = importOps(text, options);
    if (result.ok || !/\n\s*\{/.test(text.trim())) return result;
    const seq = importRecords(readGeoJsonSeq(text), options);
    return seq.ok ? seq : result;
  }
  if (format === "geojsonseq" || head.startsWith("\x1e")) {
    return importRecords(readGeoJsonSeq(await file.text()), options);
  }
  let formats: typeof Formats;
  try {
    formats = await import(new URL("./formats.js", import.meta.url).href);
  } catch (e) {
    return {
      ok: false,
      message: `The file readers could not be loaded (${e instanceof Error ? e.message : e}).`,
    };
  }
  const read = formats.readImportFile(new Uint8Array(await file.arrayBuffer()), file.name);
  if (!read.ok) {
    return { ok: false, message: `${read.message[0].toUpperCase()}${read.message.slice(1)}.` };
  }
  return importRecords(read.records, options);
}
