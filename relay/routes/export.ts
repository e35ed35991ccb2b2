/** `GET /api/maps/:id/features?format=`: the map as a GeoJSON, KML, CSV, zipped Shapefile or GPX file. */
import type { Context } from "hono";
import { EXPORT_FORMATS, exportName, FORMAT_INFO, isExportFormat } from "../export_names.ts";
import type { Exports } from "../exports.ts";
import type { MapApi } from "../map_api.ts";
import type { Outcome } from "../map_registry.ts";
import { problem, requestKey } from "./common.ts";
import { REFUSAL_STATUS } from "./maps.ts";

/**
 * Answers an export in `format` with the same key rules as the GeoJSON read (either key; nothing
 * before it is durable), as a download named from the map's title. What the format left out is
 * counted in `X-Skipped-Features` and said in `X-Export-Note`.
 */
export async function exportResponse(
  c: Context,
  api: MapApi,
  exports: Exports,
  format: string,
  read?: () => Promise<Outcome<{ title: string; featuresJson: string }>>,
): Promise<Response> {
  if (!isExportFormat(format)) {
    return problem(
      c,
      400,
      `unknown format ${JSON.stringify(format.slice(0, 40))}; use one of ${
        EXPORT_FORMATS.join(", ")
      }`,
    );
  }
  const result = read
    ? await read()
    : await api.readForExport(c.req.param("id") ?? "", requestKey(c));
  if (!result.ok) return problem(c, REFUSAL_STATUS[result.reason], result.message);
  const { title, featuresJson } = result.value;
  const info = FORMAT_INFO[format];
  const headers: Record<string, string> = {
    "content-type": info.type,
    "content-disposition": `attachment; filename="${exportName(title, format)}"`,
    "cache-control": "no-store",
  };
  if (format === "geojson") {
    return c.body(`{"type":"FeatureCollection","features":${featuresJson}}`, 200, headers);
  }
  const file = await exports.write({ featuresJson, format });
  if (!file) {
    return problem(c, 503, "the server is busy with other exports; try again shortly", {
      "retry-after": "2",
    });
  }
  headers["x-skipped-features"] = String(file.skipped);
  if (file.note) headers["x-export-note"] = file.note;
  return c.body(file.body, 200, headers);
}
