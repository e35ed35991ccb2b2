/** The journal as history in SQLite: per-feature index, kept snapshots, named versions, retention. */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { deflateSync, inflateSync } from "node:zlib";
import { touchedFids } from "./history_index.ts";
import type { VersionInfo } from "./history_wire.ts";

export type { VersionInfo };

/**
 * A snapshot is kept for history (deflated) when at least this many edits and at least half its
 * size in edit frames were written since the last kept one: rebuilding any seq then parses one
 * snapshot and at most about half a snapshot's worth of edits (plus one `snapshotEvery`), whatever
 * the map's size, and kept snapshots take a fraction of the journal's disk.
 */
export const HISTORY_SNAPSHOT_EVERY = 1000;

/** A journal row: the edit's seq and its frame as sent. */
export interface HistoryRow {
  /** The edit's seq. */
  seq: number;
  /** The `edit` frame's JSON. */
  frame: string;
}

/** A named version to store, with the map's features at its seq (a JSON array). */
export interface NewVersion extends VersionInfo {
  /** The map. */
  mapId: string;
  /** The features at `seq`, as a JSON array without `meta`. */
  featuresJson: string;
}

/**
 * The history tables of one SQLite connection. The {@link Store} owns it and calls it inside its
 * own transactions; reads are single indexed queries, so a page of history costs what it returns.
 */
export class HistoryTables {
  #db: DatabaseSync;
  #lastTouch!: StatementSync;
  #insertTouch!: StatementSync;
  #deleteTouch!: StatementSync;
  #was!: StatementSync;
  #lastKept!: StatementSync;
  #keep!: StatementSync;
  #bytesBetween!: StatementSync;
  #page!: StatementSync;
  #fidPage!: StatementSync;
  #oldest!: StatementSync;
  #base!: StatementSync;
  #deflated!: StatementSync;
  #rows!: StatementSync;
  #versions!: StatementSync;
  #version!: StatementSync;
  #insertVersion!: StatementSync;
  #atOf!: StatementSync;

  /** Creates the tables on `db` (and indexes the journal an older relay wrote, once). */
  constructor(db: DatabaseSync) {
    this.#db = db;
    const ddl = `
      CREATE TABLE IF NOT EXISTS edit_fids (
        map_id TEXT NOT NULL, fid TEXT NOT NULL, seq INTEGER NOT NULL,
        was INTEGER NOT NULL, now INTEGER NOT NULL, title TEXT,
        PRIMARY KEY (map_id, fid, seq)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS snapshots (
        map_id TEXT NOT NULL, seq INTEGER NOT NULL, deflated BLOB NOT NULL,
        PRIMARY KEY (map_id, seq)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS versions (
        map_id TEXT NOT NULL, seq INTEGER NOT NULL, name TEXT NOT NULL, at INTEGER NOT NULL,
        author TEXT NOT NULL, features TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS versions_by_map ON versions (map_id, seq);
    `;
    const migrated = () =>
      this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'edit_fids'")
        .get() !== undefined;
    if (!migrated()) {
      // Under the write lock, so two connections opening an older file index it once.
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        if (!migrated()) {
          this.#db.exec(ddl);
          this.#prepare();
          const all = this.#db.prepare("SELECT map_id, seq, frame FROM edits ORDER BY map_id, seq");
          for (const r of all.iterate()) {
            this.index(String(r.map_id), [{ seq: Number(r.seq), frame: String(r.frame) }]);
          }
        }
        this.#db.exec("COMMIT");
      } catch (err) {
        if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
        throw err;
      }
    }
    this.#db.exec(ddl);
    this.#prepare();
  }

  #prepare(): void {
    const db = this.#db;
    this.#lastTouch = db.prepare(
      "SELECT now, title FROM edit_fids WHERE map_id = ? AND fid = ? ORDER BY seq DESC LIMIT 1",
    );
    this.#insertTouch = db.prepare(
      "INSERT OR REPLACE INTO edit_fids (map_id, fid, seq, was, now, title) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#deleteTouch = db.prepare(
      "DELETE FROM edit_fids WHERE map_id = ? AND fid = ? AND seq = ?",
    );
    this.#was = db.prepare(
      "SELECT was, title FROM edit_fids WHERE map_id = ? AND fid = ? AND seq = ?",
    );
    this.#lastKept = db.prepare("SELECT max(seq) AS seq FROM snapshots WHERE map_id = ?");
    this.#keep = db.prepare(
      "INSERT OR REPLACE INTO snapshots (map_id, seq, deflated) VALUES (?, ?, ?)",
    );
    this.#bytesBetween = db.prepare(
      "SELECT sum(length(frame)) AS bytes FROM edits WHERE map_id = ? AND seq > ? AND seq <= ?",
    );
    this.#page = db.prepare(
      "SELECT seq, frame FROM edits WHERE map_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
    );
    this.#fidPage = db.prepare(
      "SELECT e.seq AS seq, e.frame AS frame FROM edit_fids f " +
        "JOIN edits e ON e.map_id = f.map_id AND e.seq = f.seq " +
        "WHERE f.map_id = ? AND f.fid = ? AND f.seq < ? ORDER BY f.seq DESC LIMIT ?",
    );
    this.#oldest = db.prepare("SELECT min(seq) AS seq FROM edits WHERE map_id = ?");
    this.#base = db.prepare(
      "SELECT max(seq) AS seq FROM snapshots WHERE map_id = ? AND seq <= ?",
    );
    this.#deflated = db.prepare("SELECT deflated FROM snapshots WHERE map_id = ? AND seq = ?");
    this.#rows = db.prepare(
      "SELECT seq, frame FROM edits WHERE map_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
    );
    this.#versions = db.prepare(
      "SELECT seq, name, at, author FROM versions WHERE map_id = ? ORDER BY seq DESC, at DESC",
    );
    this.#version = db.prepare(
      "SELECT features FROM versions WHERE map_id = ? AND seq = ? LIMIT 1",
    );
    this.#insertVersion = db.prepare(
      "INSERT INTO versions (map_id, seq, name, at, author, features) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.#atOf = db.prepare(
      "SELECT coalesce(json_extract(frame, '$.at'), 0) AS at FROM edits " +
        "WHERE map_id = ? AND seq = ?",
    );
  }

  /** Indexes appended journal rows by the features they touch. Inside the append's transaction. */
  index(mapId: string, rows: readonly HistoryRow[]): void {
    for (const row of rows) {
      const touched = touchedFids(row.frame, (fid) => {
        const last = this.#lastTouch.get(mapId, fid);
        if (!last) return null;
        const title = last.title === null ? null : String(last.title);
        return { was: false, now: Number(last.now) === 1, title };
      });
      for (const [fid, { was, now, title }] of touched) {
        this.#insertTouch.run(mapId, fid, row.seq, was ? 1 : 0, now ? 1 : 0, title);
      }
    }
  }

  /** Keeps a snapshot for history when enough edits passed since the last kept one. */
  keepSnapshot(mapId: string, seq: number, featuresJson: string): void {
    const value = this.#lastKept.get(mapId)?.seq;
    const last = value === null || value === undefined ? null : Number(value);
    if (last !== null) {
      if (seq - last < HISTORY_SNAPSHOT_EVERY) return;
      const bytes = Number(this.#bytesBetween.get(mapId, last, seq)?.bytes ?? 0);
      if (bytes < featuresJson.length / 2) return;
    }
    this.#keepDeflated(mapId, seq, featuresJson);
  }

  #keepDeflated(mapId: string, seq: number, featuresJson: string): void {
    this.#keep.run(mapId, seq, deflateSync(featuresJson, { level: 1 }));
  }

  /** Up to `limit` journal rows with seq < `before`, newest first (only those touching `fid`). */
  page(mapId: string, before: number, limit: number, fid?: string): HistoryRow[] {
    const rows = fid === undefined
      ? this.#page.all(mapId, before, limit)
      : this.#fidPage.all(mapId, fid, before, limit);
    return rows.map((r) => ({ seq: Number(r.seq), frame: String(r.frame) }));
  }

  /**
   * What the index knows of feature `fid` at edit `seq`: whether it existed right before, and its
   * name as of that edit (`null` when never named in the journal).
   */
  touch(mapId: string, fid: string, seq: number): { was: boolean; title: string | null } {
    const row = this.#was.get(mapId, fid, seq);
    return {
      was: Number(row?.was ?? 0) === 1,
      title: row?.title === null || row?.title === undefined ? null : String(row.title),
    };
  }

  /** The oldest seq still in the journal, or `null` when it holds none. */
  oldest(mapId: string): number | null {
    const seq = this.#oldest.get(mapId)?.seq;
    return seq === null || seq === undefined ? null : Number(seq);
  }

  /**
   * The newest kept snapshot at or before `seq`, or `null`: its seq, and its features read and
   * inflated only when asked (retention and the choice of a base need only the seq).
   */
  baseAt(mapId: string, seq: number): { seq: number; featuresJson: () => string } | null {
    const found = this.#base.get(mapId, seq)?.seq;
    if (found === null || found === undefined) return null;
    const at = Number(found);
    return {
      seq: at,
      featuresJson: () => {
        const row = this.#deflated.get(mapId, at);
        if (!row) throw new Error(`snapshot ${at} of map ${mapId} went while it was read`);
        return inflateSync(row.deflated as Uint8Array).toString("utf8");
      },
    };
  }

  /** Journal rows with `from` < seq <= `to`, oldest first. */
  rows(mapId: string, from: number, to: number): HistoryRow[] {
    return this.#rows.all(mapId, from, to).map((r) => ({
      seq: Number(r.seq),
      frame: String(r.frame),
    }));
  }

  /** A map's named versions, newest first. */
  versions(mapId: string): VersionInfo[] {
    return this.#versions.all(mapId).map((r) => ({
      seq: Number(r.seq),
      name: String(r.name),
      at: Number(r.at),
      author: String(r.author),
    }));
  }

  /** The features of a named version at `seq` (a JSON array), or `null` when none names it. */
  versionFeatures(mapId: string, seq: number): string | null {
    const row = this.#version.get(mapId, seq);
    return row ? String(row.features) : null;
  }

  /** Stores a named version. */
  addVersion(v: NewVersion): void {
    this.#insertVersion.run(v.mapId, v.seq, v.name, v.at, v.author, v.featuresJson);
  }

  /**
   * Prunes the history of `mapId` older than `cutoff` (ms), at most `budget` rows: only edits at
   * or before its latest snapshot (`snapshotSeq`, what a load needs stays), and only up to a kept
   * snapshot, so every seq from the new oldest one back to that snapshot can still be shown.
   * Named versions keep their own features. Returns the rows deleted. Call in a transaction.
   */
  prune(
    mapId: string,
    snapshot: { seq: number; featuresJson: () => string | null },
    cutoff: number,
    budget: number,
  ): number {
    const oldest = this.oldest(mapId);
    if (oldest === null || budget <= 0) return 0;
    const limit = this.#lastBefore(mapId, oldest, snapshot.seq, cutoff);
    if (limit < oldest) return 0;
    let base = this.baseAt(mapId, limit)?.seq ?? 0;
    const latest = snapshot.seq <= limit && snapshot.seq > base ? snapshot.featuresJson() : null;
    if (latest !== null) {
      // The latest snapshot becomes the base of what is kept: keep it for history too.
      this.#keepDeflated(mapId, snapshot.seq, latest);
      base = snapshot.seq;
    }
    if (base < oldest) return 0;
    const upTo = Math.min(base, oldest + budget - 1);
    for (const row of this.rows(mapId, oldest - 1, upTo)) {
      for (const fid of touchedFids(row.frame, () => null).keys()) {
        this.#deleteTouch.run(mapId, fid, row.seq);
      }
    }
    this.#db.prepare("DELETE FROM edits WHERE map_id = ? AND seq <= ?").run(mapId, upTo);
    if (upTo === base) {
      this.#db.prepare("DELETE FROM snapshots WHERE map_id = ? AND seq < ?").run(mapId, base);
    }
    return upTo - oldest + 1;
  }

  /**
   * The newest seq in [`oldest`, `max`] whose edit is older than `cutoff`, by binary search on
   * the edits' times (the relay's clock, which only goes forward but for clock corrections);
   * `oldest - 1` when there is none. Edits written without a time count as old.
   */
  #lastBefore(mapId: string, oldest: number, max: number, cutoff: number): number {
    let lo = oldest - 1;
    let hi = max;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      const at = Number(this.#atOf.get(mapId, mid)?.at ?? Infinity);
      if (at < cutoff) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The maps that have journal rows, with their latest snapshot. */
  mapsWithHistory(): { id: string; snapshotSeq: number }[] {
    return this.#db.prepare(
      "SELECT id, snapshot_seq FROM maps m WHERE EXISTS (SELECT 1 FROM edits e WHERE e.map_id = m.id)",
    ).all().map((r) => ({ id: String(r.id), snapshotSeq: Number(r.snapshot_seq) }));
  }
}
