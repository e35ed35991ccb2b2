/** Which format a file or request body is in: by its name, its media type, or its first bytes. */
import type { FileFormat } from "./records.ts";

const BY_EXTENSION: Record<string, FileFormat> = {
  geojson: "geojson",
  json: "geojson",
  geojsonl: "geojsonseq",
  geojsons: "geojsonseq",
  geojsonseq: "geojsonseq",
  ndjson: "geojsonseq",
  jsonl: "geojsonseq",
  kml: "kml",
  kmz: "kmz",
  gpx: "gpx",
  csv: "csv",
  tsv: "csv",
};

const BY_MEDIA_TYPE: Record<string, FileFormat> = {
  "application/geo+json": "geojson",
  "application/json": "geojson",
  "application/geo+json-seq": "geojsonseq",
  "application/x-ndjson": "geojsonseq",
  "application/jsonl": "geojsonseq",
  "application/vnd.google-earth.kml+xml": "kml",
  "application/vnd.google-earth.kmz": "kmz",
  "application/gpx+xml": "gpx",
  "text/csv": "csv",
  "text/tab-separated-values": "csv",
};

/**
 * The format a file name's extension says (`.zip` says nothing: a zip holds a Shapefile or a KML).
 *
 * @example
 * ```ts
 * formatOfName("Trails.GPX"); // "gpx"
 * ```
 */
export function formatOfName(name: string): FileFormat | null {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? "";
  return Object.hasOwn(BY_EXTENSION, ext) ? BY_EXTENSION[ext] : null;
}

/** The format a media type names (`text/csv; charset=utf-8` is CSV); generic ones say nothing. */
export function formatOfMediaType(contentType: string | null | undefined): FileFormat | null {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  return Object.hasOwn(BY_MEDIA_TYPE, type) ? BY_MEDIA_TYPE[type] : null;
}

/**
 * The format the first bytes show: a zip (Shapefile, or KMZ when it holds a `.kml`), XML (KML or
 * GPX by the root element), JSON text (GeoJSON; GeoJSONSeq when it starts with RS), else CSV.
 * `zipNames` lists a zip's entries (the caller's zip reader), so this module needs none.
 */
export function sniffFormat(
  bytes: Uint8Array,
  zipNames: (bytes: Uint8Array) => string[],
): FileFormat {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    let names: string[] = [];
    try {
      names = zipNames(bytes);
    } catch {
      // Unreadable: the Shapefile reader says so.
    }
    const lower = names.map((n) => n.toLowerCase());
    return lower.some((n) => n.endsWith(".kml")) && !lower.some((n) => n.endsWith(".shp"))
      ? "kmz"
      : "shapefile";
  }
  const head = new TextDecoder().decode(bytes.subarray(0, 4096)).replace(/^\uFEFF/, "")
    .trimStart();
  if (head.startsWith("\x1e")) return "geojsonseq";
  if (head.startsWith("{") || head.startsWith("[")) return "geojson";
  if (head.startsWith("<")) {
    const root = /<(?:[\w-]+:)?(kml|gpx)[\s>]/i.exec(head.replace(/<[?!][^>]*>/g, ""))?.[1];
    return root?.toLowerCase() === "gpx" ? "gpx" : "kml";
  }
  return "csv";
}
