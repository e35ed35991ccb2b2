/** A map's features as a file in each export format; shared by the relay's GET API and the page. */
import { toKML } from "@placemarkio/tokml";
import type { StoredFeature } from "./protocol.ts";
import { toCsv, toGpx } from "./export_text.ts";
import { toShapefileZip } from "./export_shapefile.ts";

type KmlInput = Parameters<typeof toKML>[0];

/** The formats a map can be exported as. */
export const EXPORT_FORMATS = ["geojson", "kml", "csv", "shp", "gpx"] as const;

/** One of {@link EXPORT_FORMATS}. */
export type ExportFormat = typeof EXPORT_FORMATS[number];

/** Each format's file name extension, media type and label for people. */
export const FORMAT_INFO: Record<ExportFormat, { ext: string; type: string; label: string }> = {
  geojson: { ext: "geojson", type: "application/geo+json", label: "GeoJSON" },
  kml: { ext: "kml", type: "application/vnd.google-earth.kml+xml", label: "KML" },
  csv: { ext: "csv", type: "text/csv; charset=utf-8", label: "CSV" },
  shp: { ext: "zip", type: "application/zip", label: "Shapefile (zip)" },
  gpx: { ext: "gpx", type: "application/gpx+xml", label: "GPX" },
};

/** Whether `text` names an export format. */
export function isExportFormat(text: string): text is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(text);
}

/** An exported file, with how many features it left out and why. */
export interface ExportedFile {
  body: string | Uint8Array<ArrayBuffer>;
  /** Features the format could not hold. */
  skipped: number;
  /** Why they were left out (and what the format changed), for people; `""` when nothing. */
  note: string;
}

/**
 * The file name for a map title and format: lower-case words joined by dashes, `map` if none.
 *
 * @example
 * ```ts
 * exportName("Trees of Paris", "shp"); // "trees-of-paris.zip"
 * ```
 */
export function exportName(title: string, format: ExportFormat): string {
  const slug = (title || "map").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${slug || "map"}.${FORMAT_INFO[format].ext}`;
}

/**
 * Writes features in a format other than GeoJSON (the relay and the page write GeoJSON themselves).
 * Features without geometry are kept in CSV; KML, GPX and Shapefile leave them out, counted.
 */
export async function exportFeatures(
  features: readonly StoredFeature[],
  format: Exclude<ExportFormat, "geojson">,
): Promise<ExportedFile> {
  switch (format) {
    case "csv":
      return { body: toCsv(features), skipped: 0, note: "" };
    case "kml": {
      const kept = features.filter((f) => f.geometry !== null);
      const skipped = features.length - kept.length;
      const body = toKML({ type: "FeatureCollection", features: kept as KmlInput["features"] });
      return { body, skipped, note: skipped ? `${skipped} without geometry left out` : "" };
    }
    case "gpx": {
      const { text, skipped } = toGpx(features);
      const note = skipped
        ? `${skipped} left out (GPX holds only points and lines: polygons, collections and ` +
          "features without geometry are not exported)"
        : "";
      return { body: text, skipped, note };
    }
    case "shp":
      return await toShapefileZip(features);
  }
}
