/** What a file reader hands the import pipeline: one record per feature-like item of the file, kept or skipped with its line. */
import { readFeatures } from "../import_read.ts";
import type { FeatureLimits, ReadResult, SkippedFeature } from "../import_read.ts";

/** The formats an import reads. */
export type FileFormat = "geojson" | "geojsonseq" | "kml" | "kmz" | "gpx" | "csv" | "shapefile";

/** Every {@link FileFormat}, for messages and `?format=`. */
export const FILE_FORMATS: readonly FileFormat[] = [
  "geojson",
  "geojsonseq",
  "kml",
  "kmz",
  "gpx",
  "csv",
  "shapefile",
];

/**
 * One item of a file (a row of a CSV, a line of GeoJSONSeq, a Placemark): a GeoJSON Feature for
 * the pipeline to check, or why the reader could not make one.
 */
export type SourceRecord =
  | { feature: unknown; line?: number }
  | { skip: string; line?: number };

/** A file read into records, or why it cannot be read at all (400: not that format; 422: no data). */
export type FileRead =
  | { ok: true; format: FileFormat; records: SourceRecord[] }
  | { ok: false; status: 400 | 422; message: string };

/**
 * Runs the pipeline's per-feature reader ({@link readFeatures}) over a file's records: indexes
 * count records from 0, a skipped record keeps its line (a CSV row's line in the file), and the
 * reader's own skips and the pipeline's come out together in file order.
 *
 * @example
 * ```ts
 * import { readRecords } from "./records.ts";
 * const limits = { maxVertices: 100_000, maxPropsBytes: 65_536, maxFrameBytes: 4 << 20 };
 * readRecords([{ skip: "no coordinates", line: 3 }], limits).skipped;
 * // [{ index: 0, line: 3, reason: "no coordinates" }]
 * ```
 */
export function readRecords(records: readonly SourceRecord[], limits: FeatureLimits): ReadResult {
  const items: unknown[] = [];
  const origin: number[] = [];
  const skipped: SkippedFeature[] = [];
  records.forEach((record, index) => {
    if ("skip" in record) {
      skipped.push(withLine({ index, reason: record.skip }, record.line));
    } else {
      items.push(record.feature);
      origin.push(index);
    }
  });
  const read = readFeatures(items, limits);
  for (const f of read.features) f.index = origin[f.index];
  for (const s of read.skipped) {
    const index = origin[s.index];
    skipped.push(withLine({ ...s, index }, records[index].line));
  }
  skipped.sort((a, b) => a.index - b.index);
  return { features: read.features, skipped };
}

function withLine(skip: SkippedFeature, line: number | undefined): SkippedFeature {
  return line === undefined ? skip : { ...skip, line };
}
