/** Reads an import file of any supported format into records for the pipeline: the one entry point of relay/formats. */
import { formatOfMediaType, formatOfName, sniffFormat } from "./detect.ts";
import { readCsv } from "./csv.ts";
import { readGeoJsonSeq } from "./geojson_seq.ts";
import type { FileFormat, FileRead } from "./records.ts";
import { readShapefileZip } from "./shapefile.ts";
import { type ParseXml, readKmz, readXml } from "./xml.ts";
import { zipNames } from "./zip.ts";

/** Options for {@link readFile}. */
export interface ReadFileOptions {
  /** The format, when the caller knows it (`?format=`); else from `name`, `contentType`, bytes. */
  format?: FileFormat;
  /** The file's name (its extension decides first). */
  name?: string;
  /** The request's media type. */
  contentType?: string | null;
  /** Parses XML (KML, GPX): the browser's DOMParser or @xmldom/xmldom. */
  parseXml: ParseXml;
  /** The bound on a zip's unpacked entries. @default 256 MiB */
  maxUnzippedBytes?: number;
}

/**
 * The format of a file: `format`, else its name's extension, else its media type, else its bytes.
 * A `.json` or JSON media type that holds no JSON object is read as GeoJSONSeq when it has lines.
 */
export function fileFormat(
  bytes: Uint8Array,
  options: Omit<ReadFileOptions, "parseXml">,
): FileFormat {
  return options.format ?? (options.name ? formatOfName(options.name) : null) ??
    formatOfMediaType(options.contentType) ?? sniffFormat(bytes, zipNames);
}

/**
 * Reads any format but GeoJSON (whose FeatureCollection path is the pipeline's own) into records.
 *
 * @example
 * ```ts
 * import { readFile } from "./read_file.ts";
 * const bytes = new TextEncoder().encode("lat,lon,name\n1,2,a\n");
 * const r = readFile(bytes, "csv", { parseXml: (t) => new DOMParser().parseFromString(t, "text/xml") });
 * r.ok && r.records.length; // 1
 * ```
 */
export function readFile(
  bytes: Uint8Array,
  format: FileFormat,
  options: ReadFileOptions,
): FileRead {
  const text = () => new TextDecoder().decode(bytes);
  switch (format) {
    case "geojson":
    case "geojsonseq":
      return { ok: true, format: "geojsonseq", records: readGeoJsonSeq(text()) };
    case "kml":
    case "gpx":
      return readXml(text(), format, options.parseXml);
    case "kmz":
      return readKmz(bytes, options.parseXml, options.maxUnzippedBytes);
    case "csv":
      return readCsv(text());
    case "shapefile":
      return readShapefileZip(bytes, options.maxUnzippedBytes);
  }
}
