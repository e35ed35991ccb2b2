/** What the relay needs from durable storage: one interface for SQLite (sync) and PostgreSQL (async). */
import type { JournalBatch, JournalCheck, MapRecord, StoredMap } from "./store.ts";
import type { StoredComments } from "./comments.ts";
import type { NewVersion, VersionInfo } from "./history_store.ts";
import type { FencedError } from "./pg_lease.ts";

export type { JournalBatch, JournalCheck, MapRecord, StoredMap };

/**
 * The store could not be reached (a database restarting, a cut connection): nothing is known to be
 * wrong with the data, so the map is answered "try again" rather than marked damaged.
 */
export class StoreUnreachableError extends Error {
  /** Names the error in logs. */
  override name = "StoreUnreachableError";
}

/**
 * Edits of a batch that the store already holds under the same author's client id and edit id (a
 * re-send whose ack was lost, beyond what the room remembered). Nothing of the batch was written;
 * their authors are answered `duplicate` so they stop re-sending them.
 */
export class DuplicateEditError extends Error {
  /** Names the error in logs. */
  override name = "DuplicateEditError";
  /** The map whose batch held them. */
  readonly mapId: string;
  /** The author's client id and edit id of each. */
  readonly edits: readonly { client: string; id: string }[];
  /** The map and the edits it already holds. */
  constructor(mapId: string, edits: readonly { client: string; id: string }[]) {
    super(`map ${mapId} already holds edits ${edits.map((e) => `${e.client}/${e.id}`).join(", ")}`);
    this.mapId = mapId;
    this.edits = edits;
  }
}

/**
 * What an append reports besides success: the batches left out because their map's lease is
 * another relay's now (PostgreSQL with leases; SQLite reports nothing), or because they re-send
 * edits the store already holds. Every other batch of the append was written.
 */
export interface AppendResult {
  /** The fenced batches' maps, with the lease they were made under and the map's holder now. */
  fenced: readonly FencedError[];
  /**
   * The batches left out because the store already holds some of their edits (nothing of such a
   * batch is written): one map's re-sent edit does not fail the other maps of a commit.
   */
  duplicates?: readonly DuplicateEditError[];
}

/** A value now (SQLite answers on the calling thread) or later (PostgreSQL answers over a socket). */
export type MaybePromise<T> = T | Promise<T>;

/** What the history API reads of a store's history besides pages and past states. */
export interface HistoryLists {
  /** The oldest seq still in the journal, or `null` when it holds none. */
  oldest(mapId: string): MaybePromise<number | null>;
  /** A map's named versions, newest first. */
  versions(mapId: string): MaybePromise<VersionInfo[]>;
}

/**
 * Durable storage for maps: their records, journals of accepted edits and snapshots. The SQLite
 * {@link import("./store.ts").Store} answers synchronously; {@link import("./pg_store.ts").PgStore}
 * with promises. Callers that can meet both await only when they were given a promise, so the
 * SQLite path keeps its synchronous timing.
 *
 * Rules every implementation keeps (relay/_store_contract.ts checks them):
 * - `appendBatches` is all or nothing, and refuses a batch that does not continue its map's
 *   journal at the next seq (a gap, or a seq already taken by another writer).
 * - A batch resolves only once it is durable; what resolved survives a crash.
 * - `loadMap` throws {@link import("./store.ts").StoreDamagedError} when a journal has gaps.
 */
export interface MapStore {
  /** `"sqlite"` or `"postgres"`: which implementation, for logs and the journal's choice. */
  readonly kind: "sqlite" | "postgres";
  /** Stores a new map (its id must be new). */
  createMap(record: MapRecord): MaybePromise<void>;
  /** A map's record (title, key hashes) without its features, or `null` when there is none. */
  loadRecord(id: string): MaybePromise<MapRecord | null>;
  /**
   * A map's record, snapshot, journal tail after the snapshot, up to `historyLimit` journal rows
   * at or before it (for catch-up), and its epoch; `null` when there is no such map.
   */
  loadMap(id: string, historyLimit: number): MaybePromise<StoredMap | null>;
  /**
   * Appends several maps' edits in one transaction (all or nothing, except batches fenced by a
   * stale lease, which are left out and reported), durable when it resolves.
   */
  appendBatches(batches: readonly JournalBatch[]): MaybePromise<AppendResult | void>;
  /**
   * Writes a snapshot of a map at `seq` (never over a newer one). The journal is the map's history
   * and is not pruned here (only by `pruneHistory`); `keep` is no longer used.
   */
  saveSnapshot(mapId: string, seq: number, featuresJson: string, keep: number): MaybePromise<void>;
  /** A map's comments (oldest first) and settings (extension: comments). */
  loadComments(mapId: string): MaybePromise<StoredComments>;
  /** Stores a named version with its features, durably. */
  addVersion(version: NewVersion): MaybePromise<void>;
  /**
   * Deletes history older than `cutoff` (ms since 1970), at most `budget` journal rows; resolves
   * with the rows deleted (see {@link import("./store.ts").Store.pruneHistory}).
   */
  pruneHistory(cutoff: number, budget: number): MaybePromise<number>;
  /** Its history's lists (oldest seq, named versions), or `null` while it keeps no history. */
  readonly history: HistoryLists | null;
  /** How many maps exist. */
  countMaps(): MaybePromise<number>;
  /** Every map's journal checked for gaps, without loading the maps. */
  checkJournals(): MaybePromise<JournalCheck>;
  /** Closes the store; it is unusable afterwards. */
  close(): MaybePromise<void>;
}
