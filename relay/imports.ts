/** Imports (`PUT .../features`): parsed and validated on a worker thread, a bounded few at once. */
import { parseImport } from "./protocol.ts";
import type { ImportFeature } from "./protocol.ts";

/** A parsed import, or why it is refused. */
export type ParsedImport =
  | { ok: true; features: ImportFeature[] }
  | { ok: false; status: 400 | 422; message: string };

/** Parses an import body: UTF-8 JSON holding a GeoJSON FeatureCollection. Runs on the worker. */
export function parseImportBytes(bytes: Uint8Array): ParsedImport {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return { ok: false, status: 400, message: "body is not valid JSON" };
  }
  const parsed = parseImport(json);
  if (!parsed.ok) {
    return { ok: false, status: 422, message: `not a valid FeatureCollection: ${parsed.error}` };
  }
  return { ok: true, features: parsed.features };
}

/** Options for {@link Imports}. */
export interface ImportsOptions {
  /** Imports running at once on the whole relay. @default 4 */
  maxConcurrent?: number;
  /** Parses one body; tests may parse inline. @default a fresh worker thread per import */
  parse?: (bytes: Uint8Array) => Promise<ParsedImport>;
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
  readonly parse: (bytes: Uint8Array) => Promise<ParsedImport>;

  constructor(options: ImportsOptions = {}) {
    this.#max = options.maxConcurrent ?? 4;
    if (!(Number.isSafeInteger(this.#max) && this.#max >= 1)) {
      throw new RangeError(
        `Cannot create Imports as 'maxConcurrent' must be a whole number >= 1: received ${this.#max}`,
      );
    }
    this.parse = options.parse ?? parseOnWorker;
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

/** Parses on a worker thread of its own, which ends with the import. */
function parseOnWorker(bytes: Uint8Array): Promise<ParsedImport> {
  const worker = new Worker(new URL("./import_worker.ts", import.meta.url).href, {
    type: "module",
  });
  // The bytes move to the worker instead of being copied.
  const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes
    : bytes.slice();
  return new Promise<ParsedImport>((resolve) => {
    worker.onmessage = (event: MessageEvent<ParsedImport>) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      resolve({ ok: false, status: 400, message: "the import could not be parsed" });
    };
    worker.postMessage(owned, [owned.buffer as ArrayBuffer]);
  }).finally(() => worker.terminate());
}
