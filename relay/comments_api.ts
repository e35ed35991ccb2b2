/** The HTTP API's work on comments and settings: read the comments, read and change the settings. */
import { commentsGeoJson } from "./comments_geojson.ts";
import type { Durability } from "./durability.ts";
import type { MapRegistry, Outcome } from "./map_registry.ts";
import { NOT_SAVED } from "./map_registry.ts";
import type { MapSettings } from "./protocol.ts";
import type { Room } from "./room.ts";

/** What the comments API uses of the hub. */
export interface CommentsApiOptions {
  /** The maps, for the key check. */
  maps: MapRegistry;
  /** Issues the ticket a settings change waits for. */
  durability: Durability;
  /** `room` changed: commit and send it this turn. */
  touch(room: Room): void;
  /** Waits until what `room` shows is durable; false when its commit failed meanwhile. */
  madeDurable(room: Room): Promise<boolean>;
}

/** The comments API behind `relay/routes/comments.ts`; answers are domain {@link Outcome}s. */
export class CommentsApi {
  #o: CommentsApiOptions;

  /** An API on the hub's maps. */
  constructor(options: CommentsApiOptions) {
    this.#o = options;
  }

  /**
   * A map's comments, oldest first, as `{"comments": [...]}` JSON text, or (`geojson`) as a
   * FeatureCollection of threads; for either key, never showing a comment before it is durable.
   */
  async read(
    mapId: string,
    key: string,
    format: "json" | "geojson",
  ): Promise<Outcome<{ title: string; body: string }>> {
    const opened = this.#o.maps.open(mapId, key);
    const auth = opened instanceof Promise ? await opened : opened;
    if (!auth.ok) return auth;
    const { room } = auth.value;
    const body = format === "json"
      ? `{"comments":${room.comments.json()}}`
      : JSON.stringify(commentsGeoJson(room.comments.list(), (fid) => room.feature(fid)));
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: { title: room.record.title, body } };
  }

  /** A map's settings, for either key. */
  async settings(mapId: string, key: string): Promise<Outcome<MapSettings>> {
    const opened = this.#o.maps.open(mapId, key);
    const auth = opened instanceof Promise ? await opened : opened;
    if (!auth.ok) return auth;
    const { room } = auth.value;
    const settings = { ...room.comments.settings };
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: settings };
  }

  /**
   * Changes a map's settings with its edit key; answers once they are durable, and every peer that
   * understands comments is sent a `settings` frame at the same time.
   */
  async changeSettings(
    mapId: string,
    key: string,
    settings: MapSettings,
  ): Promise<Outcome<MapSettings>> {
    const opened = this.#o.maps.open(mapId, key);
    const auth = opened instanceof Promise ? await opened : opened;
    if (!auth.ok) return auth;
    const { room, role } = auth.value;
    if (role !== "editor") {
      return {
        ok: false,
        reason: "forbidden",
        message: "only the edit key may change the map's settings",
      };
    }
    if (room.comments.setSettings(settings)) {
      const frame = JSON.stringify({ type: "settings", ...room.comments.settings });
      room.broadcastComment(frame, this.#o.durability.next);
      this.#o.touch(room);
    }
    const now = { ...room.comments.settings };
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: now };
  }
}
