/** Imports (`PUT .../features`): parsed and validated on a worker thread, a bounded few at once. */
import { setImmediate } from "node:timers";
import { formatOfMediaType, sniffFormat } from "./formats/detect.ts";
import type { FileFormat } from "./formats/records.ts";
import { zipNames } from "./formats/zip.ts";
import { parseImport } from "./import_read.ts";
import type { FeatureLimits, ReadFeature, SkippedFeature } from "./import_read.ts";
import { onWorker } from "./worker_task.ts";

/** A parsed import: the features kept and skipped, or why the whole body is refused. */
export type ParsedImport =
  | { ok: true; total: number; features: ReadFeature[]; skipped: SkippedFeature[] }
  | { ok: false; status: 400 | 422; message: string };

/** What the worker answers: the kept features as JSON text in slices, or why not. */
export type WorkerAnswer =
  | { ok: true; total: number; slices: string[]; skipped: SkippedFeature[] }
  | { ok: false; status: 400 | 422; message: string };

/** What the worker is sent: the body and the limits each feature must meet. */
export interface WorkerRequest {
  /** The request body. */
  bytes: Uint8Array;
  /** The relay's limits. */
  limits: FeatureLimits;
  /** What the request says of the body's format. */
  hint?: FormatHint;
}

/** What a request says of its body's format: `?format=`, else its `Content-Type`, else sniffed. */
export interface FormatHint {
  /** From `?format=` (already checked). */
  format?: FileFormat;
  /** The `Content-Type` header. */
  contentType?: string | null;
  /** Bound on a zip's unpacked entries (KMZ, Shapefile). */
  maxUnzippedBytes?: number;
}

/** Features per slice the worker sends back: each is parsed in one turn of a few ms. */
const SLICE = 1000;

/**
 * Parses an import body: a GeoJSON FeatureCollection (UTF-8 JSON), or a file of another format
 * (GeoJSONSeq, KML, KMZ, GPX, CSV, zipped Shapefile) as `hint` or the bytes say. Each feature is
 * kept or skipped (with the reason) on its own; only a body that cannot be read is refused.
 */
export async function parseImportBytes(
  bytes: Uint8Array,
  limits: FeatureLimits,
  hint: FormatHint = {},
): Promise<ParsedImport> {
  const format = hint.format ?? formatOfMediaType(hint.contentType) ??
    sniffFormat(bytes, zipNames);
  if (format !== "geojson") return await parseOtherFormat(bytes, format, limits, hint);
  let json: unknown;
  const text = new TextDecoder().decode(bytes);
  try {
    json = JSON.parse(text);
  } catch {
    // One Feature per line sent as JSON: read it as the sequence it is.
    if (hint.format === undefined && isJsonLines(text)) {
      return await parseOtherFormat(bytes, "geojsonseq", limits, hint);
    }
    return { ok: false, status: 400, message: "body is not valid JSON" };
  }
  const parsed = parseImport(json, limits);
  if (!parsed.ok) {
    return { ok: false, status: 422, message: `not a valid FeatureCollection: ${parsed.error}` };
  }
  return { ok: true, total: parsed.total, features: parsed.features, skipped: parsed.skipped };
}

/** True when the text's first two non-empty lines are each a JSON object. */
function isJsonLines(text: string): boolean {
  const lines = text.split("\n", 64).map((l) => l.trim()).filter((l) => l !== "").slice(0, 2);
  return lines.length === 2 && lines.every((l) => {
    try {
      const v = JSON.parse(l);
      return typeof v === "object" && v !== null && !Array.isArray(v);
    } catch {
      return false;
    }
  });
}

/** Reads a body of another format than GeoJSON; the readers are loaded only for such a body. */
async function parseOtherFormat(
  bytes: Uint8Array,
  format: FileFormat,
  limits: FeatureLimits,
  hint: FormatHint,
): Promise<ParsedImport> {
  const [{ readFile }, { readRecords }, { DOMParser }] = await Promise.all([
    import("./formats/read_file.ts"),
    import("./formats/records.ts"),
    import("@xmldom/xmldom"),
  ]);
  const read = readFile(bytes, format, {
    // xmldom reports a fatal error by throwing, which the reader turns into a 400; no logging.
    parseXml: (text) => new DOMParser({ onError: () => {} }).parseFromString(text, "text/xml"),
    maxUnzippedBytes: hint.maxUnzippedBytes,
  });
  if (!read.ok) return read;
  if (read.records.length === 0) {
    return { ok: false, status: 422, message: `the ${format} file holds no features` };
  }
  return { ok: true, total: read.records.length, ...readRecords(read.records, limits) };
}

/** Options for {@link Imports}. */
export interface ImportsOptions {
  /** Imports running at once on the whole relay. @default 4 */
  maxConcurrent?: number;
}

/** Why an import could not start now. */
export type ImportSlot =
  | { ok: true; release: () => void }
  | { ok: false; reason: "map" | "addr" | "relay" };

/**
 * Admits imports, at most one per map, one per client address and `maxConcurrent` in all (so
 * bodies held in memory are bounded), and parses them off the relay's event loop: a 16 MiB
 * JSON.parse plus validation would stall every peer for a second.
 *
 * @example
 * ```ts
 * import { Imports } from "./imports.ts";
 * const imports = new Imports({ maxConcurrent: 2 });
 * const slot = imports.begin("map-id", "203.0.113.9");
 * if (slot.ok) slot.release();
 * ```
 */
export class Imports {
  #max: number;
  #maps = new Set<string>();
  #addrs = new Set<string>();
  /** One import per map and per address, `maxConcurrent` at once. */
  constructor(options: ImportsOptions = {}) {
    this.#max = options.maxConcurrent ?? 4;
    if (!(Number.isSafeInteger(this.#max) && this.#max >= 1)) {
      throw new RangeError(
        `Cannot create Imports as 'maxConcurrent' must be a whole number >= 1: received ${this.#max}`,
      );
    }
  }

  /** Parses and validates an import body on a worker thread. */
  parse(bytes: Uint8Array, limits: FeatureLimits, hint?: FormatHint): Promise<ParsedImport> {
    return parseOnWorker(hint ? { bytes, limits, hint } : { bytes, limits });
  }

  /**
   * Takes a slot for an import into `mapId` from `addr`; call `release` when it is done, however
   * it ends.
   */
  begin(mapId: string, addr: string): ImportSlot {
    if (this.#maps.has(mapId)) return { ok: false, reason: "map" };
    if (this.#addrs.has(addr)) return { ok: false, reason: "addr" };
    if (this.#maps.size >= this.#max) return { ok: false, reason: "relay" };
    this.#maps.add(mapId);
    this.#addrs.add(addr);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#maps.delete(mapId);
        this.#addrs.delete(addr);
      },
    };
  }
}

/** The worker's side: parse and validate, then slice the kept features as JSON text. */
export async function answerImport(
  { bytes, limits, hint }: WorkerRequest,
): Promise<WorkerAnswer> {
  const parsed = await parseImportBytes(bytes, limits, hint);
  if (!parsed.ok) return parsed;
  const slices: string[] = [];
  for (let at = 0; at < parsed.features.length; at += SLICE) {
    slices.push(JSON.stringify(parsed.features.slice(at, at + SLICE)));
  }
  return { ok: true, total: parsed.total, slices, skipped: parsed.skipped };
}

/**
 * Parses on a worker thread of its own, which ends with the import. The features come back as
 * JSON text in slices, parsed one slice per turn: handing back the objects themselves would cost
 * the relay's thread seconds of structured-clone reading for a big import.
 */
async function parseOnWorker(request: WorkerRequest): Promise<ParsedImport> {
  const answer = await onWorker(
    new URL("./import_worker.ts", import.meta.url),
    request,
    answerImport,
    "import_worker_failed",
  );
  if (!answer.ok) return answer;
  const features: ReadFeature[] = [];
  for (const slice of answer.slices) {
    // Text the worker made from validated features: parsing it again cannot fail.
    for (const feature of JSON.parse(slice) as ReadFeature[]) features.push(feature);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { ok: true, total: answer.total, features, skipped: answer.skipped };
}
