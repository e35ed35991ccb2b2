/** The HTTP API's work on maps: create one, read its features, replace them with an import. */
import type { Durability } from "./durability.ts";
import type { Journal } from "./journal.ts";
import { hashKey, newKey, newMapId } from "./keys.ts";
import type { RandomBytes } from "./keys.ts";
import type { MaybePromise } from "./map_store.ts";
import type { MapRegistry, Opened, Outcome, Refusal } from "./map_registry.ts";
import { NOT_SAVED } from "./map_registry.ts";
import type { Metrics } from "./metrics.ts";
import { opFid } from "./edit_ops.ts";
import { delSize, splitOps } from "./import_read.ts";
import type { ReadFeature, SkippedFeature } from "./import_read.ts";
import type { Limits } from "./limits.ts";
import { DEFAULT_SCHEMA_LIMITS } from "./protocol.ts";
import type { EditOp } from "./protocol.ts";
import type { Room } from "./room.ts";

/** A newly created map: the only time the keys are known to the server. */
export interface CreatedMap {
  /** The map's id. */
  id: string;
  /** The key that may edit it. */
  editKey: string;
  /** The key that may view it. */
  viewKey: string;
}

/** An import as read ({@link ReadFeature}s; `index` and `size` are worked out when missing). */
export interface ImportInput {
  /** Features in the file, kept and skipped. @default features + skipped */
  total?: number;
  /** The features to import. */
  features: (Pick<ReadFeature, "geometry"> & Partial<ReadFeature>)[];
  /** The features already skipped while reading. */
  skipped: SkippedFeature[];
}

/** The answer to an import (`PUT .../features`). */
export interface ImportAnswer {
  /** The `seq` of its last edit. */
  seq: number;
  /** Features imported. */
  features: number;
  /** Features in the file. */
  total: number;
  /** Features not imported, and why, in file order. */
  skipped: SkippedFeature[];
  /** Edits it took. */
  edits: number;
}

/** An import's outcome: a refusal also lists the features that were skipped. */
export type ImportOutcome =
  | { ok: true; value: ImportAnswer }
  | { ok: false; reason: Refusal; message: string; skipped?: SkippedFeature[] };

/** What the API uses of the hub. */
export interface MapApiOptions {
  /** The relay's limits an import is split by. */
  limits: Pick<Limits, "maxFrameBytes" | "maxFeatures">;
  /** The maps, for the key check. */
  maps: MapRegistry;
  /** Where new maps are written. */
  journal: Journal;
  /** Issues the ticket an import waits for. */
  durability: Durability;
  /** Counters it updates. */
  metrics: Metrics;
  /** Milliseconds clock. */
  now: () => number;
  /** Ids for imported features without one, and for the import's edit. */
  ids: () => string;
  /** Random bytes for map ids and keys. */
  random: RandomBytes;
  /** `room` changed: commit and send it this turn. */
  touch(room: Room): void;
  /** Waits until what `room` shows is durable; false when its commit failed meanwhile. */
  madeDurable(room: Room): Promise<boolean>;
}

const FORBIDDEN = {
  ok: false,
  reason: "forbidden",
  message: "this key may view the map but not change it",
} as const;

/** The maps API behind `relay/routes/maps.ts`; answers are domain {@link Outcome}s. */
export class MapApi {
  #o: MapApiOptions;

  /** An API on the hub's maps. */
  constructor(options: MapApiOptions) {
    this.#o = options;
  }

  /** Creates a map; the keys are returned once and only their hashes kept. */
  async createMap(title: string): Promise<CreatedMap> {
    const { random } = this.#o;
    const id = newMapId(random);
    const editKey = newKey(random);
    const viewKey = newKey(random);
    await this.#o.journal.createMap({
      id,
      title,
      editHash: hashKey(editKey),
      viewHash: hashKey(viewKey),
      createdAt: this.#o.now(),
    });
    return { id, editKey, viewKey };
  }

  /** A map's features as GeoJSON text, for either key; never shows an edit before it is durable. */
  async readFeatures(mapId: string, key: string): Promise<Outcome<string>> {
    const opened = this.#o.maps.open(mapId, key);
    // Awaited only when the store made it a promise: SQLite's answer keeps its timing.
    const auth = opened instanceof Promise ? await opened : opened;
    if (!auth.ok) return auth;
    const { room } = auth.value;
    const json = room.exportJson();
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: json };
  }

  /**
   * A map's title and features (a JSON array), for either key, for an export; the same rules as
   * {@link readFeatures}.
   */
  async readForExport(
    mapId: string,
    key: string,
  ): Promise<Outcome<{ title: string; featuresJson: string }>> {
    const opened = this.#o.maps.open(mapId, key);
    const auth = opened instanceof Promise ? await opened : opened;
    if (!auth.ok) return auth;
    const { room } = auth.value;
    // Without each feature's meta, as GET features gives them.
    const featuresJson = room.exportFeaturesJson();
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: { title: room.record.title, featuresJson } };
  }

  /**
   * Checks that `key` may edit `mapId` before anything big is read for it: the same `not_found`
   * for an unknown map or a wrong key as everywhere, `forbidden` for a view key.
   */
  authoriseEdit(mapId: string, key: string): MaybePromise<Outcome<null>> {
    const opened = this.#o.maps.open(mapId, key);
    if (opened instanceof Promise) return opened.then(editorOnly);
    return editorOnly(opened);
  }

  /**
   * Replaces a map's features with an edit key: deletes of what is not in the import, then puts of
   * everything in it, as as many durable edits as the relay's limits need (ops per edit, bytes per
   * frame), each waited for before the next (so peers and the store keep pace). Features read with
   * problems are reported as skipped; a feature whose id repeats an earlier one gets a fresh id.
   */
  async importFeatures(
    mapId: string,
    key: string,
    read: ImportInput,
  ): Promise<ImportOutcome> {
    const { maps, ids, limits } = this.#o;
    const opened = maps.open(mapId, key);
    const auth = opened instanceof Promise ? await opened : opened;
    if (!auth.ok) return auth;
    const { room, role } = auth.value;
    if (role !== "editor") return FORBIDDEN;
    const skipped: SkippedFeature[] = [...read.skipped];
    const seen = new Set<string>();
    const sizes = new Map<EditOp, number>();
    const puts: EditOp[] = [];
    for (const f of read.features) {
      // Real files repeat ids (Natural Earth 10m has "036" twice): the repeat gets a fresh one.
      let id = f.id === undefined ? "" : String(f.id);
      if (id === "" || seen.has(id)) id = `f-${ids()}`;
      seen.add(id);
      const op: EditOp = {
        op: "put",
        feature: { type: "Feature", id, geometry: f.geometry, properties: f.properties ?? {} },
      };
      sizes.set(op, (f.size ?? JSON.stringify(op).length) + id.length * 3);
      puts.push(op);
    }
    skipped.sort((a, b) => a.index - b.index);
    const total = read.total ?? read.features.length + read.skipped.length;
    if (puts.length === 0 && total > 0) {
      return {
        ok: false,
        reason: "invalid",
        message: `none of the ${total} features could be imported; the map is unchanged`,
        skipped,
      };
    }
    if (puts.length > limits.maxFeatures) {
      return {
        ok: false,
        reason: "invalid",
        message:
          `the import holds ${puts.length} valid features; a map holds at most ${limits.maxFeatures}`,
        skipped,
      };
    }
    const dels: EditOp[] = [...room.featureIds()].filter((id) => !seen.has(id)).map((fid) => ({
      op: "del",
      fid,
    }));
    const batches = splitOps([...dels, ...puts], (op) => sizes.get(op) ?? delSize(opFid(op)), {
      maxOps: DEFAULT_SCHEMA_LIMITS.maxOpsPerEdit,
      maxBytes: limits.maxFrameBytes,
    });
    const importId = ids();
    let seq = room.seq;
    for (const [n, ops] of batches.entries()) {
      const id = batches.length === 1 ? `import-${importId}` : `import-${importId}-${n + 1}`;
      const result = room.edit("api", id, ops, undefined, this.#o.durability.next, {
        by: "API import",
        color: "#64748b",
        at: this.#o.now(),
      });
      if (!result.ok) {
        const done = n === 0 ? "" : ` after ${n} of ${batches.length} edits were applied`;
        return { ok: false, reason: "invalid", message: `${result.message}${done}`, skipped };
      }
      seq = result.seq;
      this.#o.metrics.edits++;
      maps.active(room);
      this.#o.touch(room);
      if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    }
    return {
      ok: true,
      value: { seq, features: puts.length, total, skipped, edits: batches.length },
    };
  }
}

/** An opened map's outcome for a write: `forbidden` unless the key is the edit key. */
function editorOnly(auth: Outcome<Opened>): Outcome<null> {
  if (!auth.ok) return auth;
  if (auth.value.role !== "editor") return FORBIDDEN;
  return { ok: true, value: null };
}
