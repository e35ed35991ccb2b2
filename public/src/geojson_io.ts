/** Import and export of GeoJSON files: turn a file into one edit, and the map into a file. */
import { DEFAULT_SCHEMA_LIMITS, geometryIssue, propertiesProblem } from "../../relay/protocol.ts";
import type { EditOp, Geometry, StoredFeature } from "../../relay/protocol.ts";
import { stringifyAnyDepth } from "./json_text.ts";

/** The result of reading a file: put ops for every feature, or why the file cannot be used. */
export type ImportResult = { ok: true; ops: EditOp[] } | {
  ok: false;
  message: string;
};

/** Options for {@link importOps}. */
export interface ImportOptions {
  /** Ids already on the map: imported features with these ids get fresh ids instead. */
  existing: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  /** Makes a fresh feature id. */
  newId: () => string;
  /** Most features in one file. @default the relay's most ops in one edit (10 000) */
  maxFeatures?: number;
}

/**
 * Reads GeoJSON text (a FeatureCollection, a Feature, or a bare geometry) into `put` ops, all or
 * nothing: one bad feature makes the whole file fail with a message that says which and why.
 *
 * @example
 * ```ts
 * import { importOps } from "./geojson_io.ts";
 * const r = importOps('{"type":"Point","coordinates":[1,2]}', { existing: new Set(), newId: () => "n1" });
 * r.ok && r.ops.length; // 1
 * ```
 */
export function importOps(text: string, options: ImportOptions): ImportResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {
      ok: false,
      message: "The file is not JSON, so it cannot be GeoJSON.",
    };
  }
  if (!isObject(json)) {
    return { ok: false, message: "The file is not a GeoJSON object." };
  }
  let items: unknown[];
  if (json.type === "FeatureCollection") {
    if (!Array.isArray(json.features)) {
      return {
        ok: false,
        message: "The FeatureCollection has no 'features' list.",
      };
    }
    items = json.features;
  } else if (json.type === "Feature") {
    items = [json];
  } else {
    items = [{ type: "Feature", geometry: json, properties: {} }];
  }
  // One edit: at most as many ops as the relay takes in one.
  const max = options.maxFeatures ?? DEFAULT_SCHEMA_LIMITS.maxOpsPerEdit;
  if (items.length === 0) {
    return { ok: false, message: "The file holds no features." };
  }
  if (items.length > max) {
    return {
      ok: false,
      message: `The file holds ${items.length} features; at most ${max} can be imported at once.`,
    };
  }
  const used = new Set<string>();
  const ops: EditOp[] = [];
  for (const [index, item] of items.entries()) {
    const where = items.length > 1 ? `Feature ${index + 1}` : "The feature";
    if (!isObject(item) || item.type !== "Feature") {
      return { ok: false, message: `${where} is not a GeoJSON Feature.` };
    }
    if (item.geometry === null || item.geometry === undefined) {
      return { ok: false, message: `${where} has no geometry.` };
    }
    const problem = geometryIssue(item.geometry);
    if (problem !== null) {
      return { ok: false, message: `${where} has a bad geometry: ${problem}.` };
    }
    const properties = item.properties ?? {};
    if (!isObject(properties)) {
      return { ok: false, message: `${where} has 'properties' that are not an object.` };
    }
    // The relay's own check, so a file it would refuse is refused here, before anything is sent.
    const deep = propertiesProblem(properties);
    if (deep !== null) return { ok: false, message: `${where} has bad 'properties': ${deep}.` };
    let id = typeof item.id === "string" && item.id.length > 0 &&
        item.id.length <= DEFAULT_SCHEMA_LIMITS.maxFeatureIdLength
      ? item.id
      : "";
    if (!id || used.has(id) || options.existing.has(id)) id = options.newId();
    used.add(id);
    // geometryIssue() has checked the shape, which is what the Geometry type describes.
    const geometry = item.geometry as Geometry;
    ops.push({
      op: "put",
      feature: { type: "Feature", id, geometry, properties },
    });
  }
  return { ok: true, ops };
}

/**
 * The map as a GeoJSON FeatureCollection text, for download. A property nested too deeply for the
 * indented form (old maps and imported files can hold one) makes the whole file compact instead.
 */
export function exportText(features: Iterable<StoredFeature>): string {
  return stringifyAnyDepth({ type: "FeatureCollection", features: [...features] }, 1);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
