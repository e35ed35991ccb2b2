/** The HTTP API's work on a map's history: pages of edits, the map at a seq, named versions. */
import type { Journal } from "./journal.ts";
import type { MapRegistry, Outcome } from "./map_registry.ts";
import { NOT_SAVED } from "./map_registry.ts";
import type { HistoryReader } from "./history_reader.ts";
import type { PageRead } from "./history_pages.ts";
import type { VersionInfo } from "./history_store.ts";
import { summaryOf, titleOf } from "./history_words.ts";
import type { Change } from "./history_words.ts";
import type { Room } from "./room.ts";
import type { HistoryLists } from "./map_store.ts";
import type { HistoryEntry, HistoryPage } from "./history_wire.ts";
import { SlotsFullError } from "./worker_task.ts";

export type { HistoryEntry, HistoryPage };

/** A request for a page of history. */
export interface HistoryQuery {
  /** Only entries with a smaller seq; from the head when absent. */
  before?: number;
  /** Entries at most. */
  limit: number;
  /** Only entries touching this feature. */
  fid?: string;
}

/** A named version to create. */
export interface VersionRequest {
  /** Its name (1 to 200 characters). */
  name: string;
  /** Who names it. */
  author: string;
  /** The seq it names. @default the map's latest */
  seq?: number;
}

/** What {@link HistoryApi} needs from the hub. */
export interface HistoryApiOptions {
  /** The maps, for the key check. */
  maps: MapRegistry;
  /** The store's history lists, or `null` when its store keeps no history (answered 501). */
  lists: HistoryLists | null;
  /** Where named versions are written. */
  journal: Journal;
  /** Where past states are rebuilt (a worker thread with a database file); `null` as `lists`. */
  reader: HistoryReader | null;
  /** Milliseconds clock. */
  now: () => number;
  /** Waits until what `room` shows is durable; false when its commit failed meanwhile. */
  madeDurable(room: Room): Promise<boolean>;
  /** A read failed (a bug or a damaged file): logged and counted; the caller is told to retry. */
  failed(where: string, err: unknown, mapId: string): void;
}

const UNREADABLE = {
  ok: false,
  reason: "capacity",
  message: "the map's history could not be read just now; try again",
} as const;
const NOT_KEPT = {
  ok: false,
  reason: "not_implemented",
  message: "this relay's store keeps no history of maps; history, past states and named versions " +
    "cannot be read or saved",
} as const;

/** A map opened for its history: its room, the key's role, and where its history is read. */
interface Opened {
  room: Room;
  editor: boolean;
  lists: HistoryLists;
  reader: HistoryReader;
}

/** Reads history from the store, after what the room shows is durable (so it is in the store). */
export class HistoryApi {
  #o: HistoryApiOptions;

  /** An API on the hub's maps and store. */
  constructor(options: HistoryApiOptions) {
    this.#o = options;
  }

  async #open(mapId: string, key: string): Promise<Outcome<Opened>> {
    const opened = this.#o.maps.open(mapId, key);
    const auth = opened instanceof Promise ? await opened : opened;
    if (!auth.ok) return auth;
    const { lists, reader } = this.#o;
    if (!lists || !reader) return NOT_KEPT;
    const { room, role } = auth.value;
    if (!await this.#o.madeDurable(room)) return NOT_SAVED;
    return { ok: true, value: { room, editor: role === "editor", lists, reader } };
  }

  /**
   * A page of the map's edits, newest first; for either key. Read (frames parsed) by the reader;
   * names only the live map knows are filled in here, then the summary is said.
   */
  async page(mapId: string, key: string, query: HistoryQuery): Promise<Outcome<HistoryPage>> {
    const opened = await this.#open(mapId, key);
    if (!opened.ok) return opened;
    const { room } = opened.value;
    const before = Math.min(query.before ?? room.seq + 1, room.seq + 1);
    let read: PageRead;
    try {
      read = await opened.value.reader.page(mapId, { before, limit: query.limit, fid: query.fid });
    } catch (err) {
      return this.#unreadable("history_page", err, mapId);
    }
    const named = (change: Change) => {
      change.title ??= titleOf(room.feature(change.fid)?.properties);
    };
    const entries = read.entries.map(({ tally, ...entry }): HistoryEntry => {
      entry.changes.forEach(named);
      for (const t of tally) named(t.first);
      const { changes, more, ...rest } = entry;
      return {
        ...rest,
        summary: summaryOf(tally, entry.label),
        changes,
        ...(more === undefined ? {} : { more }),
      };
    });
    return {
      ok: true,
      value: { seq: room.seq, oldest: read.oldest ?? room.seq + 1, next: read.next, entries },
    };
  }

  /**
   * The map's title and its features right after edit `at` (a JSON array without `meta`), for
   * either key: `bad_request` past the head, `gone` when retention pruned what it needs.
   */
  async featuresAt(
    mapId: string,
    key: string,
    at: number,
  ): Promise<Outcome<{ title: string; featuresJson: string }>> {
    const opened = await this.#open(mapId, key);
    if (!opened.ok) return opened;
    const { room } = opened.value;
    const json = await this.#stateAt(opened.value, at);
    if (!json.ok) return json;
    return { ok: true, value: { title: room.record.title, featuresJson: json.value } };
  }

  /** A read the reader could not do: too many at once is a moment's load (503 with why), else a failure. */
  #unreadable(where: string, err: unknown, mapId: string): Extract<Outcome<never>, { ok: false }> {
    if (err instanceof SlotsFullError) {
      return { ok: false, reason: "capacity", message: err.message };
    }
    this.#o.failed(where, err, mapId);
    return UNREADABLE;
  }

  async #stateAt({ room, lists, reader }: Opened, at: number): Promise<Outcome<string>> {
    if (at > room.seq) {
      return {
        ok: false,
        reason: "bad_request",
        message: `at=${at} is after the map's latest edit (seq ${room.seq})`,
      };
    }
    if (at === room.seq) return { ok: true, value: room.exportFeaturesJson() };
    let json: string | null;
    try {
      json = await reader.featuresAt(room.id, at);
    } catch (err) {
      return this.#unreadable("history_at", err, room.id);
    }
    if (json === null) {
      const oldest = await lists.oldest(room.id);
      return {
        ok: false,
        reason: "gone",
        message: `the map's history before seq ${
          oldest ?? room.seq + 1
        } is no longer kept (retention); at=${at} cannot be shown`,
      };
    }
    return { ok: true, value: json };
  }

  /** The map's named versions, newest first; for either key. */
  async versions(mapId: string, key: string): Promise<Outcome<{ versions: VersionInfo[] }>> {
    const opened = await this.#open(mapId, key);
    if (!opened.ok) return opened;
    const versions = opened.value.lists.versions(mapId);
    return {
      ok: true,
      value: { versions: versions instanceof Promise ? await versions : versions },
    };
  }

  /** Names the map's state at `seq` (default: now), keeping its features; edit key only. */
  async addVersion(
    mapId: string,
    key: string,
    request: VersionRequest,
  ): Promise<Outcome<VersionInfo>> {
    const opened = await this.#open(mapId, key);
    if (!opened.ok) return opened;
    const { room, editor } = opened.value;
    if (!editor) {
      return {
        ok: false,
        reason: "forbidden",
        message: "this key may view the map but not name versions",
      };
    }
    const seq = request.seq ?? room.seq;
    const json = await this.#stateAt(opened.value, seq);
    if (!json.ok) return json;
    const version = { seq, name: request.name, at: this.#o.now(), author: request.author };
    try {
      await this.#o.journal.addVersion({ mapId, ...version, featuresJson: json.value });
    } catch (err) {
      this.#o.failed("version_save", err, mapId);
      return NOT_SAVED;
    }
    return { ok: true, value: version };
  }
}
