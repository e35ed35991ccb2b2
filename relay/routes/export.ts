/** `GET /api/maps/:id/features?format=`: the map as a GeoJSON, KML, CSV, zipped Shapefile or GPX file. */
import type { Context } from "hono";
import {
  EXPORT_FORMATS,
  exportFeatures,
  exportName,
  FORMAT_INFO,
  isExportFormat,
} from "../export_formats.ts";
import type { MapApi } from "../map_api.ts";
import { problem, requestKey } from "./common.ts";
import { REFUSAL_STATUS } from "./maps.ts";

/**
 * Answers an export in `format` with the same key rules as the GeoJSON read (either key; nothing
 * before it is durable), as a download named from the map's title. What the format left out is
 * counted in `X-Skipped-Features` and said in `X-Export-Note`.
 */
export async function exportResponse(c: Context, api: MapApi, format: string): Promise<Response> {
  if (!isExportFormat(format)) {
    return problem(
      c,
      400,
      `unknown format ${JSON.stringify(format.slice(0, 40))}; use one of ${
        EXPORT_FORMATS.join(", ")
      }`,
    );
  }
  const result = await api.readForExport(c.req.param("id") ?? "", requestKey(c));
  if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
  const { title, features } = result.value;
  const info = FORMAT_INFO[format];
  const headers: Record<string, string> = {
    "content-type": info.type,
    "content-disposition": `attachment; filename="${exportName(title, format)}"`,
    "cache-control": "no-store",
  };
  if (format === "geojson") {
    return c.body(JSON.stringify({ type: "FeatureCollection", features }), 200, headers);
  }
  const file = await exportFeatures(features, format);
  headers["x-skipped-features"] = String(file.skipped);
  if (file.note) headers["x-export-note"] = file.note;
  return c.body(file.body, 200, headers);
}
