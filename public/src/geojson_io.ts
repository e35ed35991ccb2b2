/** Import and export of GeoJSON files: turn a file into edits the relay takes, and the map into a file. */
import { readFeatures, splitOps } from "../../relay/import_read.ts";
import type { FeatureLimits, ReadResult, SkippedFeature } from "../../relay/import_read.ts";
import { readRecords } from "../../relay/formats/records.ts";
import type { SourceRecord } from "../../relay/formats/records.ts";
import { DEFAULT_LIMITS } from "../../relay/limits.ts";
import { DEFAULT_SCHEMA_LIMITS } from "../../relay/protocol.ts";
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { stringifyAnyDepth } from "./json_text.ts";

/** The result of reading a file: its valid features as edits the relay takes, or why none. */
export type ImportResult = {
  ok: true;
  /** `put` ops, split into edits by the relay's ops per edit and bytes per frame. */
  batches: EditOp[][];
  /** Features that will be imported. */
  count: number;
  /** Features in the file. */
  total: number;
  /** The features that will not be, and why, in file order. */
  skipped: SkippedFeature[];
} | {
  ok: false;
  message: string;
};

/** The relay's limits an import follows (`/api/config`; the defaults without it). */
export interface ImportLimits extends FeatureLimits {
  /** Ops in one edit. */
  maxOps: number;
}

/** The relay's default {@link ImportLimits}. */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxVertices: DEFAULT_LIMITS.maxVertices,
  maxPropsBytes: DEFAULT_LIMITS.maxPropsBytes,
  maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes,
  maxOps: DEFAULT_SCHEMA_LIMITS.maxOpsPerEdit,
};

/** Options for {@link importOps}. */
export interface ImportOptions {
  /** Ids already on the map: imported features with these ids get fresh ids instead. */
  existing: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  /** Makes a fresh feature id. */
  newId: () => string;
  /** The relay's limits. @default DEFAULT_IMPORT_LIMITS */
  limits?: ImportLimits;
}

/**
 * Reads GeoJSON text (a FeatureCollection, a Feature, or a bare geometry) into `put` ops split into
 * edits the relay takes. Each feature is kept or skipped on its own, by the relay's own reader
 * (null geometry kept, polygons rewound to the right-hand rule); a file is refused only when it is
 * not GeoJSON or none of its features can be imported.
 *
 * @example
 * ```ts
 * import { importOps } from "./geojson_io.ts";
 * const r = importOps('{"type":"Point","coordinates":[1,2]}', { existing: new Set(), newId: () => "n1" });
 * r.ok && r.count; // 1
 * ```
 */
export function importOps(text: string, options: ImportOptions): ImportResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: "The file is not JSON, so it cannot be GeoJSON." };
  }
  if (!isObject(json)) {
    return { ok: false, message: "The file is not a GeoJSON object." };
  }
  let items: unknown[];
  if (json.type === "FeatureCollection") {
    if (!Array.isArray(json.features)) {
      return { ok: false, message: "The FeatureCollection has no 'features' list." };
    }
    items = json.features;
  } else if (json.type === "Feature") {
    items = [json];
  } else {
    items = [{ type: "Feature", geometry: json, properties: {} }];
  }
  if (items.length === 0) {
    return { ok: false, message: "The file holds no features." };
  }
  const limits = options.limits ?? DEFAULT_IMPORT_LIMITS;
  return importRead(readFeatures(items, limits), items.length, options);
}

/**
 * The same as {@link importOps} for a file of another format, read into records (a KML's
 * placemarks, a CSV's rows): records its reader could not use are reported with the others.
 */
export function importRecords(
  records: readonly SourceRecord[],
  options: ImportOptions,
): ImportResult {
  if (records.length === 0) return { ok: false, message: "The file holds no features." };
  const read = readRecords(records, options.limits ?? DEFAULT_IMPORT_LIMITS);
  return importRead(read, records.length, options);
}

function importRead(read: ReadResult, total: number, options: ImportOptions): ImportResult {
  const limits = options.limits ?? DEFAULT_IMPORT_LIMITS;
  if (read.features.length === 0) {
    return {
      ok: false,
      message: total === 1
        ? `The feature cannot be imported: ${read.skipped[0].reason}.`
        : `None of the ${total} features can be imported: ${skippedList(read.skipped)}.`,
    };
  }
  const used = new Set<string>();
  const sizes = new Map<EditOp, number>();
  const ops: EditOp[] = [];
  for (const f of read.features) {
    let id = typeof f.id === "string" ? f.id : "";
    if (!id || used.has(id) || options.existing.has(id)) id = options.newId();
    used.add(id);
    const op: EditOp = {
      op: "put",
      feature: { type: "Feature", id, geometry: f.geometry, properties: f.properties },
    };
    sizes.set(op, f.size + id.length * 3);
    ops.push(op);
  }
  const batches = splitOps(ops, (op) => sizes.get(op) ?? 0, {
    maxOps: limits.maxOps,
    maxBytes: limits.maxFrameBytes,
  });
  return { ok: true, batches, count: ops.length, total, skipped: read.skipped };
}

/**
 * The skipped features for a person: `#17 (id "x"): reason`, the first `max` of them.
 *
 * @example
 * ```ts
 * skippedList([{ index: 4, reason: "bad geometry" }]); // "#4: bad geometry"
 * ```
 */
export function skippedList(skipped: readonly SkippedFeature[], max = 5): string {
  // A CSV row or GeoJSONSeq record is found by its line; other features by their position.
  const shown = skipped.slice(0, max).map((s) =>
    `${s.line === undefined ? `#${s.index}` : `line ${s.line}`}${
      s.id === undefined ? "" : ` (id ${JSON.stringify(s.id)})`
    }: ${s.reason}`
  );
  const more = skipped.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

/**
 * The map as a GeoJSON FeatureCollection text, for download, without each feature's `meta`. A property nested too deeply for the
 * indented form (old maps and imported files can hold one) makes the whole file compact instead.
 */
export function exportText(features: Iterable<StoredFeature>): string {
  // Who last changed a feature (`meta`) is collaboration state, left out as the features API does.
  const data = [...features].map(({ meta: _meta, ...f }) => f);
  return stringifyAnyDepth({ type: "FeatureCollection", features: data }, 1);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
