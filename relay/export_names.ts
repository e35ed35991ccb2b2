/** The export formats' names, extensions and media types: light, so the page can list them without the writers. */
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
