/** The HTTP API's work on maps: create one, read its features, replace them with an import. */
import type { Durability } from "./durability.ts";
import type { Journal } from "./journal.ts";
import { hashKey, newKey, newMapId } from "./keys.ts";
import type { RandomBytes } from "./keys.ts";
import type { MapRegistry, Outcome } from "./map_registry.ts";
import type { Metrics } from "./metrics.ts";
import type { EditOp, ImportFeature } from "./protocol.ts";
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

/** What the API uses of the hub. */
export interface MapApiOptions {
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
const NOT_SAVED = {
  ok: false,
  reason: "not_saved",
  message: "the map could not be saved; try again",
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
    const auth = this.#o.maps.open(mapId, key);
    if (!auth.ok) return auth;
    const { room } = auth.value;
    const json = room.featureCollectionJson();
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: json };
  }

  /**
   * Checks that `key` may edit `mapId` before anything big is read for it: the same `not_found`
   * for an unknown map or a wrong key as everywhere, `forbidden` for a view key.
   */
  authoriseEdit(mapId: string, key: string): Outcome<null> {
    const auth = this.#o.maps.open(mapId, key);
    if (!auth.ok) return auth;
    if (auth.value.role !== "editor") return FORBIDDEN;
    return { ok: true, value: null };
  }

  /**
   * Replaces a map's features with an edit key: one durable edit (deletes of what is not in the
   * import, puts of everything in it) that connected peers receive like any other.
   */
  async importFeatures(
    mapId: string,
    key: string,
    features: ImportFeature[],
  ): Promise<Outcome<{ seq: number; features: number }>> {
    const { maps, ids } = this.#o;
    const auth = maps.open(mapId, key);
    if (!auth.ok) return auth;
    const { room, role } = auth.value;
    if (role !== "editor") return FORBIDDEN;
    const incoming = new Set<string>();
    const puts: EditOp[] = features.map((f) => {
      const id = f.id === undefined ? `f-${ids()}` : String(f.id);
      incoming.add(id);
      return {
        op: "put",
        feature: { type: "Feature", id, geometry: f.geometry, properties: f.properties ?? {} },
      };
    });
    if (incoming.size !== puts.length) {
      return { ok: false, reason: "invalid", message: "feature ids in the import are not unique" };
    }
    const dels: EditOp[] = [...room.featureIds()].filter((id) => !incoming.has(id)).map((fid) => ({
      op: "del",
      fid,
    }));
    const ops = [...dels, ...puts];
    const result = room.edit("api", `import-${ids()}`, ops, undefined, this.#o.durability.next);
    if (!result.ok) return { ok: false, reason: "invalid", message: result.message };
    this.#o.metrics.edits++;
    maps.active(room);
    this.#o.touch(room);
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: { seq: result.seq, features: puts.length } };
  }
}
