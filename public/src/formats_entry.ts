/** The file readers (KML, KMZ, GPX, CSV, GeoJSONSeq, zipped Shapefiles) and writers (KML, CSV, Shapefile, GPX): bundled apart (formats.js), loaded on the first such import or export. */
import { fileFormat, readFile } from "../../relay/formats/read_file.ts";
import type { FileRead } from "../../relay/formats/records.ts";

export { exportFeatures } from "../../relay/export_formats.ts";

/**
 * Reads a picked or dropped file (not a GeoJSON object: the map page reads those itself) into
 * records for the import pipeline, with the browser's own XML parser.
 */
export function readImportFile(bytes: Uint8Array, name: string): FileRead {
  const format = fileFormat(bytes, { name });
  return readFile(bytes, format, {
    name,
    parseXml: (text) => new DOMParser().parseFromString(text, "text/xml"),
  });
}
