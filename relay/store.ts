/** The durable store: maps, a journal of accepted edits and snapshots, in SQLite (`node:sqlite`). */
import { DatabaseSync } from "node:sqlite";
import type { StatementSync } from "node:sqlite";
import type { CommentRow, StoredComments } from "./comments.ts";
import { HistoryTables } from "./history_store.ts";
import type { NewVersion } from "./history_store.ts";
import type { MapStore } from "./map_store.ts";

/** SQL for a new epoch: 128 random bits as 32 hex digits (not a secret, only never reused). */
const NEW_EPOCH = "lower(hex(randomblob(16)))";

/** A map's identity and access, as stored (keys only as hashes). */
export interface MapRecord {
  /** The map id. */
  id: string;
  /** The map's title. */
  title: string;
  /** Hash of the edit key. */
  editHash: Uint8Array;
  /** Hash of the view key. */
  viewHash: Uint8Array;
  /** When it was created (ms since the epoch). */
  createdAt: number;
}

/** What a room needs to come back into memory. */
export interface StoredMap {
  /** The map's record. */
  record: MapRecord;
  /** Seq the snapshot was taken at (0 when none). */
  snapshotSeq: number;
  /** The snapshot's features as a JSON array, or `null` when none was written. */
  snapshot: string | null;
  /**
   * Journal rows after the snapshot, oldest first, each the JSON of an `edit` frame (with its
   * author's client id and edit id when the store keeps them).
   */
  tail: { seq: number; frame: string; client?: string; id?: string }[];
  /** Journal rows at or before the snapshot kept for catch-up, oldest first. */
  history: { seq: number; frame: string; client?: string; id?: string }[];
  /**
   * The history's epoch: seqs of one epoch are one history, so a client's `since` is only
   * meaningful with the epoch it was seen under. Absent only for a map an older relay created in
   * a file this one had already migrated (it then behaves as before epochs).
   */
  epoch?: string;
}

/** The edits of one map accepted in one turn, written in one commit with the other maps' batches. */
export interface JournalBatch {
  /** The map the edits belong to. */
  mapId: string;
  /** Comments added or changed in the turn (extension: comments). */
  comments?: CommentRow[];
  /** The map's settings as JSON, when they changed in the turn. */
  settings?: string;
  /**
   * Each edit's `seq` and its edit frame as sent, oldest first; with the author's client id and
   * the edit's id when the client sent one (a store may keep them unique, see relay/pg_store.ts).
   */
  entries: { seq: number; frame: string; client?: string; id?: string }[];
}

/** Options for {@link Store}. */
export interface StoreOptions {
  /** SQLite file path, or `":memory:"` for a store that lives only as long as the process. */
  path: string;
  /**
   * Largest size of the database in pages (`PRAGMA max_page_count`), past which writes fail as on
   * a full disk. Tests use it to reach "database or disk is full" on a real file.
   * @default SQLite's own limit
   */
  maxPages?: number;
}

/**
 * A map's journal does not run on without gaps: edits it once acknowledged are missing, so
 * replaying it would give a wrong map and a wrong catch-up. The map must not be served.
 */
export class StoreDamagedError extends Error {
  /** Names the error in logs. */
  override name = "StoreDamagedError";
  /** The damaged map. */
  readonly mapId: string;
  /** Inclusive seq ranges that should be in the journal and are not. */
  readonly missing: readonly [number, number][];
  /** The map and the seq ranges missing from its journal. */
  constructor(mapId: string, missing: readonly [number, number][]) {
    super(
      `journal of map ${mapId} is damaged: edits ${
        missing.map(([a, b]) => a === b ? `${a}` : `${a}-${b}`).join(", ")
      } are missing; restore the database from a backup`,
    );
    this.mapId = mapId;
    this.missing = missing;
  }
}

/** What {@link Store.checkJournals} found. */
export interface JournalCheck {
  /** Maps checked. */
  maps: number;
  /** Edits checked. */
  edits: number;
  /** Maps whose journal has gaps, with the missing seq ranges. */
  damaged: { mapId: string; missing: [number, number][] }[];
}

/**
 * The seq ranges missing from a map's journal rows `seqs` (ascending) given its snapshot at
 * `snapshotSeq`: the rows must run without a gap, those after the snapshot from `snapshotSeq + 1`,
 * and rows kept for catch-up must reach the snapshot.
 */
export function missingRanges(snapshotSeq: number, seqs: readonly number[]): [number, number][] {
  const missing: [number, number][] = [];
  if (seqs.length === 0) return missing;
  if (seqs[0] > snapshotSeq + 1) missing.push([snapshotSeq + 1, seqs[0] - 1]);
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] > seqs[i - 1] + 1) missing.push([seqs[i - 1] + 1, seqs[i] - 1]);
  }
  const last = seqs[seqs.length - 1];
  if (last < snapshotSeq) missing.push([last + 1, snapshotSeq]);
  return missing;
}

/**
 * A SQLite store in WAL mode with `synchronous=FULL`: once {@link Store.transaction} returns, the
 * edits written in it survive a crash of the process or the machine.
 *
 * @example
 * ```ts
 * import { Store } from "./store.ts";
 * const store = new Store({ path: ":memory:" });
 * store.close();
 * ```
 */
export class Store implements MapStore {
  /** Which implementation this is. */
  readonly kind = "sqlite";
  #db: DatabaseSync;
  #insertMap: StatementSync;
  #getMap: StatementSync;
  #getRecord: StatementSync;
  #insertEdit: StatementSync;
  #saveSnapshot: StatementSync;
  #snapshotOf: StatementSync;
  #snapshotSeqOf: StatementSync;
  #tail: StatementSync;
  #history: StatementSync;
  #countMaps: StatementSync;
  #lastSeq: StatementSync;
  #putComment: StatementSync;
  #comments: StatementSync;
  #putSettings: StatementSync;
  #settings: StatementSync;
  #depth = 0;
  /** The journal read as history: pages, per-feature index, kept snapshots, named versions. */
  readonly history: HistoryTables;

  /** Opens (or creates) the database at `path` and its schema. */
  constructor(options: StoreOptions) {
    if (typeof options?.path !== "string" || options.path === "") {
      throw new TypeError(
        `Cannot create Store as 'path' must be a non-empty string: received ${
          JSON.stringify(options?.path)
        }`,
      );
    }
    this.#db = new DatabaseSync(options.path);
    if (options.maxPages !== undefined) {
      this.#db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(options.maxPages))}`);
    }
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS maps (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        edit_hash BLOB NOT NULL,
        view_hash BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        snapshot_seq INTEGER NOT NULL DEFAULT 0,
        snapshot TEXT,
        epoch TEXT
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS edits (
        map_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        frame TEXT NOT NULL,
        PRIMARY KEY (map_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS comments (
        map_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        id TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (map_id, n)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS map_settings (
        map_id TEXT PRIMARY KEY,
        settings TEXT NOT NULL
      ) WITHOUT ROWID;
    `);
    this.#addEpochs();
    this.history = new HistoryTables(this.#db);
    this.#insertMap = this.#db.prepare(
      "INSERT INTO maps (id, title, edit_hash, view_hash, created_at, epoch) " +
        `VALUES (?, ?, ?, ?, ?, ${NEW_EPOCH})`,
    );
    this.#getMap = this.#db.prepare(
      "SELECT id, title, edit_hash, view_hash, created_at, snapshot_seq, snapshot, epoch " +
        "FROM maps WHERE id = ?",
    );
    this.#getRecord = this.#db.prepare(
      "SELECT id, title, edit_hash, view_hash, created_at FROM maps WHERE id = ?",
    );
    this.#insertEdit = this.#db.prepare("INSERT INTO edits (map_id, seq, frame) VALUES (?, ?, ?)");
    this.#saveSnapshot = this.#db.prepare(
      "UPDATE maps SET snapshot_seq = ?, snapshot = ? WHERE id = ? AND snapshot_seq <= ?",
    );
    this.#snapshotOf = this.#db.prepare("SELECT snapshot FROM maps WHERE id = ?");
    this.#snapshotSeqOf = this.#db.prepare("SELECT snapshot_seq FROM maps WHERE id = ?");
    this.#tail = this.#db.prepare(
      "SELECT seq, frame FROM edits WHERE map_id = ? AND seq > ? ORDER BY seq",
    );
    this.#history = this.#db.prepare(
      "SELECT seq, frame FROM edits WHERE map_id = ? AND seq <= ? ORDER BY seq DESC LIMIT ?",
    );
    this.#countMaps = this.#db.prepare("SELECT count(*) AS n FROM maps");
    this.#lastSeq = this.#db.prepare(
      "SELECT max(snapshot_seq, coalesce((SELECT max(seq) FROM edits WHERE map_id = ?1), 0)) " +
        "AS seq FROM maps WHERE id = ?1",
    );
    this.#putComment = this.#db.prepare(
      "INSERT INTO comments (map_id, n, id, record) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (map_id, n) DO UPDATE SET record = excluded.record",
    );
    this.#comments = this.#db.prepare(
      "SELECT n, id, record FROM comments WHERE map_id = ? ORDER BY n",
    );
    this.#putSettings = this.#db.prepare(
      "INSERT INTO map_settings (map_id, settings) VALUES (?, ?) " +
        "ON CONFLICT (map_id) DO UPDATE SET settings = excluded.settings",
    );
    this.#settings = this.#db.prepare("SELECT settings FROM map_settings WHERE map_id = ?");
  }

  /**
   * Migrates a database made before epochs: adds the column and gives every map an epoch of its
   * own. Under the write lock, so two connections opening the file at once migrate it once.
   */
  #addEpochs(): void {
    const hasEpoch = () =>
      this.#db.prepare("PRAGMA table_info(maps)").all().some((c) => c.name === "epoch");
    if (hasEpoch()) return;
    this.transaction(() => {
      if (hasEpoch()) return;
      this.#db.exec("ALTER TABLE maps ADD COLUMN epoch TEXT");
      this.#db.exec(`UPDATE maps SET epoch = ${NEW_EPOCH}`);
    });
  }

  /**
   * Gives every map a new epoch, so that no client's `since` from before is taken as a position
   * in the maps' history from now on (they get a full snapshot). For a copy that becomes a
   * different history than the file it came from: a backup. Returns how many maps changed.
   */
  renewEpochs(): number {
    return this.transaction(() =>
      Number(this.#db.prepare(`UPDATE maps SET epoch = ${NEW_EPOCH}`).run().changes)
    );
  }

  /** Runs `fn` in one transaction (nested calls join the outer one); durable when it returns. */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.#db.exec("BEGIN IMMEDIATE");
    this.#depth++;
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (err) {
      // On SQLITE_FULL (and I/O errors) SQLite has already rolled back; a ROLLBACK then would
      // throw "no transaction is active" and hide the real cause, which is what must be told.
      if (this.#db.isTransaction) {
        try {
          this.#db.exec("ROLLBACK");
        } catch {
          // The original error says more than a failed rollback; it is the one rethrown.
        }
      }
      throw err;
    } finally {
      this.#depth--;
    }
  }

  /**
   * Runs `fn` in one read transaction, so everything it reads is of one moment (a snapshot of the
   * write-ahead log) however the other connections write meanwhile. Joins an outer transaction.
   */
  read<T>(fn: () => T): T {
    if (this.#depth > 0 || this.#db.isTransaction) return fn();
    this.#db.exec("BEGIN");
    try {
      return fn();
    } finally {
      if (this.#db.isTransaction) this.#db.exec("COMMIT");
    }
  }

  /** Stores a new map. */
  createMap(record: MapRecord): void {
    this.#insertMap.run(
      record.id,
      record.title,
      record.editHash,
      record.viewHash,
      record.createdAt,
    );
  }

  /**
   * Reads only a map's record (title and key hashes), or `null` when there is no such map: enough
   * to check a key without reading, or trusting, the map's snapshot and journal.
   */
  loadRecord(id: string): MapRecord | null {
    const row = this.#getRecord.get(id);
    if (!row) return null;
    return recordOf(row);
  }

  /** Reads a map's record, snapshot and journal tail, or `null` when there is no such map. */
  loadMap(id: string, historyLimit: number): StoredMap | null {
    const row = this.#getMap.get(id);
    if (!row) return null;
    const snapshotSeq = Number(row.snapshot_seq);
    const history = this.#history.all(id, snapshotSeq, historyLimit).reverse().map((r) => ({
      seq: Number(r.seq),
      frame: String(r.frame),
    }));
    const tail = this.#tail.all(id, snapshotSeq).map((r) => ({
      seq: Number(r.seq),
      frame: String(r.frame),
    }));
    const missing = missingRanges(snapshotSeq, [...history, ...tail].map((e) => e.seq));
    if (missing.length > 0) throw new StoreDamagedError(id, missing);
    return {
      record: recordOf(row),
      snapshotSeq,
      snapshot: row.snapshot === null ? null : String(row.snapshot),
      tail,
      history,
      ...(row.epoch === null ? {} : { epoch: String(row.epoch) }),
    };
  }

  /**
   * Appends accepted edits to a map's journal. Call inside {@link Store.transaction}. Refuses a
   * batch that does not continue the journal at the next `seq`: after a failed commit, later
   * edits of that map must not be stored over the gap (the map would no longer replay).
   */
  appendEdits(mapId: string, edits: readonly { seq: number; frame: string }[]): void {
    if (edits.length === 0) return;
    const last = Number(this.#lastSeq.get(mapId)?.seq ?? 0);
    if (edits[0].seq !== last + 1) {
      throw new Error(
        `journal of map ${mapId} is at seq ${last}; refusing edits from seq ${edits[0].seq}`,
      );
    }
    for (const edit of edits) this.#insertEdit.run(mapId, edit.seq, edit.frame);
    this.history.index(mapId, edits);
  }

  /** Appends several maps' edits in one transaction (all or nothing). */
  appendBatches(batches: readonly JournalBatch[]): void {
    this.transaction(() => {
      for (const b of batches) {
        this.appendEdits(b.mapId, b.entries);
        for (const c of b.comments ?? []) this.#putComment.run(b.mapId, c.n, c.id, c.record);
        if (b.settings !== undefined) this.#putSettings.run(b.mapId, b.settings);
      }
    });
  }

  /** A map's comments (oldest first) and settings (extension: comments). */
  loadComments(mapId: string): StoredComments {
    const rows = this.#comments.all(mapId).map((r) => ({
      n: Number(r.n),
      id: String(r.id),
      record: String(r.record),
    }));
    const settings = this.#settings.get(mapId)?.settings;
    return { rows, settings: settings === undefined ? null : String(settings) };
  }

  /**
   * Writes a snapshot of a map at `seq`, so a load replays only the edits after it. The journal is
   * the map's history and is not pruned here (only by {@link Store.pruneHistory}); `_keep`, the
   * rows once kept for catch-up, is no longer needed and stays for the callers' sake.
   */
  saveSnapshot(mapId: string, seq: number, featuresJson: string, _keep = 0): void {
    this.transaction(() => {
      this.#saveSnapshot.run(seq, featuresJson, mapId, seq);
      this.history.keepSnapshot(mapId, seq, featuresJson);
    });
  }

  /**
   * Deletes history older than `cutoff` (ms since 1970), at most `budget` journal rows in one
   * transaction (so the writes waiting behind it wait little): never an edit after a map's latest
   * snapshot (a load needs it), never what a named version needs (it keeps its own features).
   * Returns the rows deleted; when it equals `budget` there may be more to prune.
   */
  pruneHistory(cutoff: number, budget: number): number {
    return this.transaction(() => {
      let deleted = 0;
      for (const map of this.history.mapsWithHistory()) {
        if (deleted >= budget) break;
        deleted += this.history.prune(
          map.id,
          { seq: map.snapshotSeq, featuresJson: () => this.#snapshotJson(map.id) },
          cutoff,
          budget - deleted,
        );
      }
      return deleted;
    });
  }

  /** A map's latest snapshot: its seq (0 when none) and, read only when asked, its features. */
  latestSnapshot(mapId: string): { seq: number; featuresJson: () => string | null } {
    const row = this.#snapshotSeqOf.get(mapId);
    return {
      seq: Number(row?.snapshot_seq ?? 0),
      featuresJson: () => this.#snapshotJson(mapId),
    };
  }

  /** A map's latest snapshot's features as JSON, or `null` when it has none. */
  #snapshotJson(mapId: string): string | null {
    const r = this.#snapshotOf.get(mapId);
    return r?.snapshot === null || r?.snapshot === undefined ? null : String(r.snapshot);
  }

  /** Stores a named version with its features, durably. */
  addVersion(version: NewVersion): void {
    this.transaction(() => this.history.addVersion(version));
  }

  /** How many maps exist. */
  countMaps(): number {
    return Number(this.#countMaps.get()?.n ?? 0);
  }

  /**
   * Throws SQLite's error when the database cannot be written (a read-only file or directory, a
   * full disk): commits the unchanged `user_version`, a real write that changes nothing.
   */
  assertWritable(): void {
    const version = Number(this.#db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
    this.transaction(() => this.#db.exec(`PRAGMA user_version = ${version}`));
  }

  /** `PRAGMA quick_check`: `[]` when the file is sound, else SQLite's findings (at most 10). */
  quickCheck(): string[] {
    const rows = this.#db.prepare("PRAGMA quick_check(10)").all();
    // One row may hold several findings, one a line, under a "*** in database main ***" heading.
    const found = rows.flatMap((r) => String(Object.values(r)[0]).split("\n"))
      .filter((line) => line.trim() !== "" && !line.startsWith("*** in database"));
    return found.length === 1 && found[0] === "ok" ? [] : found;
  }

  /**
   * Checks every map's journal for gaps without loading the maps: one pass over the journal's
   * primary key counts each map's rows and their first and last seq; only a map whose count does
   * not match its range (or whose rows do not meet its snapshot) has its seqs read to name the gap.
   */
  checkJournals(): JournalCheck {
    const rows = this.#db.prepare(`
      SELECT m.id AS id, m.snapshot_seq AS s, e.n AS n, e.lo AS lo, e.hi AS hi
      FROM maps m JOIN (
        SELECT map_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi FROM edits GROUP BY map_id
      ) e ON e.map_id = m.id
    `).all();
    const seqs = this.#db.prepare("SELECT seq FROM edits WHERE map_id = ? ORDER BY seq");
    let edits = 0;
    const damaged: JournalCheck["damaged"] = [];
    for (const r of rows) {
      const [s, n, lo, hi] = [Number(r.s), Number(r.n), Number(r.lo), Number(r.hi)];
      edits += n;
      if (hi - lo + 1 === n && lo <= s + 1 && hi >= s) continue;
      const mapId = String(r.id);
      const all = seqs.all(mapId).map((x) => Number(x.seq));
      damaged.push({ mapId, missing: missingRanges(s, all) });
    }
    return { maps: this.countMaps(), edits, damaged };
  }

  /** Closes the database; the store is unusable afterwards. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/** A map's record from its row in `maps`. */
function recordOf(row: Record<string, unknown>): MapRecord {
  return {
    id: String(row.id),
    title: String(row.title),
    editHash: row.edit_hash as Uint8Array,
    viewHash: row.view_hash as Uint8Array,
    createdAt: Number(row.created_at),
  };
}
