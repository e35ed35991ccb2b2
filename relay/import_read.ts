/** Reading a GeoJSON file's features one by one, keeping the valid ones: shared by the relay's import API and the page. */
import { rewindGeometry } from "@placemarkio/geojson-rewind";
import { vertexCount } from "./geometry.ts";
import type { Geometry } from "./geometry.ts";
import { DEFAULT_SCHEMA_LIMITS, geometryIssue, propertiesProblem } from "./protocol.ts";
import type { EditOp } from "./protocol.ts";

/** The limits one imported feature must meet: the relay's, from `/api/config` in the page. */
export interface FeatureLimits {
  /** Positions in one feature's geometry (`--max-vertices`). */
  maxVertices: number;
  /** Bytes of one feature's properties as JSON (`--max-props-bytes`). */
  maxPropsBytes: number;
  /** Bytes of one frame (`--max-frame-bytes`): a feature must fit in one edit. */
  maxFrameBytes: number;
}

/** A feature of the file that was not imported, and why. */
export interface SkippedFeature {
  /** Its position in the file's `features` array, from 0. */
  index: number;
  /** Its `id` in the file, when it has a string or number one. */
  id?: string | number;
  /** Its line in the file, where the format has lines (CSV rows, GeoJSONSeq records). */
  line?: number;
  /** Why, for a person. */
  reason: string;
}

/** A feature that will be imported: geometry checked and wound by RFC 7946's right-hand rule. */
export interface ReadFeature {
  /** Its position in the file's `features` array, from 0. */
  index: number;
  /** Its usable `id` in the file, if any (a string or an integer); integers stay numbers here. */
  id?: string | number;
  /** Its geometry, `null` for an attribute-only row (or empty coordinates, read as null). */
  geometry: Geometry | null;
  /** Its properties (an object). */
  properties: Record<string, unknown>;
  /** Bytes of the feature as JSON (id left out, room for it added): the splitter uses it. */
  size: number;
}

/** What is left of a file's features after reading. */
export interface ReadResult {
  /** The features that will be imported, in file order. */
  features: ReadFeature[];
  /** The ones that will not, in file order. */
  skipped: SkippedFeature[];
}

/** Room in an edit frame for everything but its features' JSON (envelope, ids, op names). */
const FRAME_OVERHEAD = 512;
/** Per op, the `{"op":"put","feature":{"type":"Feature","id":…,` around the feature. */
const OP_OVERHEAD = 64;

/**
 * Reads a file's features, keeping every valid one and saying why each other one is skipped.
 * RFC 7946 allows a `null` geometry (an attribute-only row) and lets a reader take empty
 * `coordinates` as null, so both are kept as features without geometry. Polygons are rewound
 * to the right-hand rule (outer rings counter-clockwise, holes clockwise) instead of refused.
 *
 * @example
 * ```ts
 * import { readFeatures } from "./import_read.ts";
 * const limits = { maxVertices: 100_000, maxPropsBytes: 65_536, maxFrameBytes: 4 << 20 };
 * const r = readFeatures([{ type: "Feature", geometry: null, properties: { a: 1 } }, {}], limits);
 * r.features.length; // 1
 * r.skipped; // [{ index: 1, reason: 'not a GeoJSON Feature (its "type" must be "Feature")' }]
 * ```
 */
export function readFeatures(items: readonly unknown[], limits: FeatureLimits): ReadResult {
  const features: ReadFeature[] = [];
  const skipped: SkippedFeature[] = [];
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    const read = readOne(item, index, limits);
    if ("reason" in read) skipped.push(read);
    else features.push(read);
  }
  return { features, skipped };
}

function readOne(
  item: unknown,
  index: number,
  limits: FeatureLimits,
): ReadFeature | SkippedFeature {
  if (!isObject(item) || item.type !== "Feature") {
    return { index, reason: 'not a GeoJSON Feature (its "type" must be "Feature")' };
  }
  const id = usableId(item.id);
  const skip = (reason: string): SkippedFeature =>
    id === undefined ? { index, reason } : { index, id, reason };
  if (item.id !== undefined && id === undefined) {
    return skip(
      `bad id: it must be a non-empty string of at most ${DEFAULT_SCHEMA_LIMITS.maxFeatureIdLength} characters or an integer`,
    );
  }
  let geometry: Geometry | null = null;
  if (!(item.geometry === null || isEmptyGeometry(item.geometry))) {
    const problem = geometryIssue(item.geometry);
    if (problem !== null) return skip(`bad geometry: ${problem}`);
    geometry = rewound(item.geometry as Geometry);
    const vertices = vertexCount(geometry);
    if (vertices > limits.maxVertices) {
      return skip(
        `geometry has ${vertices} positions; the relay takes at most ${limits.maxVertices}`,
      );
    }
  }
  const properties = item.properties ?? {};
  const propsProblem = propertiesProblem(properties);
  if (propsProblem !== null) return skip(`bad properties: ${propsProblem}`);
  const propsBytes = utf8Bytes(JSON.stringify(properties));
  if (propsBytes > limits.maxPropsBytes) {
    return skip(
      `properties are ${propsBytes} bytes as JSON; the relay takes at most ${limits.maxPropsBytes}`,
    );
  }
  const props = properties as Record<string, unknown>;
  const bytes = utf8Bytes(JSON.stringify(geometry)) + propsBytes + OP_OVERHEAD;
  if (bytes > limits.maxFrameBytes - FRAME_OVERHEAD) {
    return skip(
      `the feature is ${mb(bytes)} as JSON; one edit may be at most ${
        mb(limits.maxFrameBytes)
      } (the relay's --max-frame-bytes)`,
    );
  }
  const read: ReadFeature = { index, geometry, properties: props, size: bytes };
  if (id !== undefined) read.id = id;
  return read;
}

/**
 * Splits ops into edits the relay takes: at most `maxOps` ops (the relay's ops per edit) and about
 * `maxBytes` of JSON each (`sizes[i]` is op i's size; ops without a size count as small).
 *
 * @example
 * ```ts
 * import { splitOps } from "./import_read.ts";
 * const ops = [{ op: "del", fid: "a" }, { op: "del", fid: "b" }] as const;
 * splitOps([...ops], () => 10, { maxOps: 1, maxBytes: 1000 }).length; // 2
 * ```
 */
export function splitOps(
  ops: readonly EditOp[],
  sizeOf: (op: EditOp) => number,
  limits: { maxOps: number; maxBytes: number },
): EditOp[][] {
  const batches: EditOp[][] = [];
  let batch: EditOp[] = [];
  let bytes = FRAME_OVERHEAD;
  for (const op of ops) {
    const size = sizeOf(op);
    if (batch.length > 0 && (batch.length >= limits.maxOps || bytes + size > limits.maxBytes)) {
      batches.push(batch);
      batch = [];
      bytes = FRAME_OVERHEAD;
    }
    batch.push(op);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** The size a `del` op counts for in {@link splitOps}: its fid plus the op's own keys. */
export function delSize(fid: string): number {
  return fid.length * 3 + 32;
}

/** Polygons wound by RFC 7946's right-hand rule; other geometries as they are. */
function rewound(geometry: Geometry): Geometry {
  if (!hasPolygon(geometry)) return geometry;
  // The library's types are the `geojson` package's, which describe the same objects.
  return rewindGeometry(geometry as Parameters<typeof rewindGeometry>[0]) as Geometry;
}

function hasPolygon(g: Geometry): boolean {
  return g.type === "Polygon" || g.type === "MultiPolygon" ||
    (g.type === "GeometryCollection" && g.geometries.some(hasPolygon));
}

const COORDINATE_TYPES = new Set([
  "Point",
  "MultiPoint",
  "LineString",
  "MultiLineString",
  "Polygon",
  "MultiPolygon",
]);

/** A geometry whose `coordinates` is `[]`, which RFC 7946 (3.1) lets a reader take as null. */
function isEmptyGeometry(input: unknown): boolean {
  return isObject(input) && typeof input.type === "string" && COORDINATE_TYPES.has(input.type) &&
    Array.isArray(input.coordinates) && input.coordinates.length === 0;
}

function usableId(id: unknown): string | number | undefined {
  if (typeof id === "string") {
    return id.length > 0 && id.length <= DEFAULT_SCHEMA_LIMITS.maxFeatureIdLength ? id : undefined;
  }
  return typeof id === "number" && Number.isSafeInteger(id) ? id : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const encoder = new TextEncoder();

function utf8Bytes(text: string): number {
  return /[^\x20-\x7e]/.test(text) ? encoder.encode(text).length : text.length;
}

function mb(bytes: number): string {
  return bytes >= 1 << 20
    ? `${(bytes / (1 << 20)).toFixed(1)} MB`
    : `${Math.ceil(bytes / 1024)} KB`;
}

/** An import body read: its features kept and skipped, or why the body itself is unusable. */
export type ParsedImport =
  | ({ ok: true; total: number } & ReadResult)
  | { ok: false; error: string };

/**
 * Reads an import body (`PUT /api/maps/<id>/features`): it must be a FeatureCollection with a
 * `features` array; each feature is then kept or skipped on its own ({@link readFeatures}).
 */
export function parseImport(json: unknown, limits: FeatureLimits): ParsedImport {
  if (!isObject(json) || json.type !== "FeatureCollection") {
    return { ok: false, error: 'type must be "FeatureCollection"' };
  }
  if (!Array.isArray(json.features)) {
    return { ok: false, error: "features must be an array" };
  }
  return { ok: true, total: json.features.length, ...readFeatures(json.features, limits) };
}
