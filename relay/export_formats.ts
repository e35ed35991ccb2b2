/** A map's features as a file in each export format; shared by the relay's GET API and the page. */
import { toKML } from "@placemarkio/tokml";
import type { StoredFeature } from "./protocol.ts";
import { toCsv, toGpx } from "./export_text.ts";
import { toShapefileZip } from "./export_shapefile.ts";
import type { ExportFormat } from "./export_names.ts";

export * from "./export_names.ts";

type KmlInput = Parameters<typeof toKML>[0];

/** An exported file, with how many features it left out and why. */
export interface ExportedFile {
  body: string | Uint8Array<ArrayBuffer>;
  /** Features the format could not hold. */
  skipped: number;
  /** Why they were left out (and what the format changed), for people; `""` when nothing. */
  note: string;
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
