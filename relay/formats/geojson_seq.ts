/** GeoJSON text sequences (RFC 8142, RS-separated) and newline-delimited GeoJSON: one record per feature. */
import type { SourceRecord } from "./records.ts";

/**
 * Reads GeoJSONSeq or NDJSON text: records separated by RS (U+001E) or by new lines, each a
 * Feature (a bare geometry becomes one). A record that is not JSON is skipped with its line, so
 * one broken line does not cost the rest of the file.
 *
 * @example
 * ```ts
 * import { readGeoJsonSeq } from "./geojson_seq.ts";
 * readGeoJsonSeq('{"type":"Point","coordinates":[1,2]}\nnope\n').length; // 2 (the second skipped)
 * ```
 */
export function readGeoJsonSeq(text: string): SourceRecord[] {
  const records: SourceRecord[] = [];
  let line = 1;
  // RFC 8142 records may span lines (pretty-printed); NDJSON records are lines.
  const parts = text.includes("\x1e") ? text.split("\x1e") : text.split("\n");
  const joiner = text.includes("\x1e") ? 0 : 1;
  for (const part of parts) {
    const startLine = line +
      (part.length - part.trimStart().length === 0
        ? 0
        : countNewlines(part.slice(0, part.length - part.trimStart().length)));
    line += countNewlines(part) + joiner;
    const body = part.trim();
    if (body === "") continue;
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      records.push({ skip: "not JSON", line: startLine });
      continue;
    }
    const isGeometry = typeof json === "object" && json !== null && !Array.isArray(json) &&
        "coordinates" in json || isObjectOfType(json, "GeometryCollection");
    records.push({
      feature: isGeometry ? { type: "Feature", geometry: json, properties: {} } : json,
      line: startLine,
    });
  }
  return records;
}

function isObjectOfType(json: unknown, type: string): boolean {
  return typeof json === "object" && json !== null && (json as { type?: unknown }).type === type;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}
