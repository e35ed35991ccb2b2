/** The journal as history on PostgreSQL: per-feature index, kept snapshots, named versions, retention. */
import type { Sql, TransactionSql } from "postgres";
import { deflateSync } from "node:zlib";
import { opsOf, touchedFids } from "./history_index.ts";
import type { Touch } from "./history_index.ts";
import type { PageEntry, PageQuery, PageRead } from "./history_pages.ts";
import type { HistoryReader } from "./history_reader.ts";
import type { RebuildRequest } from "./history_state.ts";
import { answerHistoryTask, historyTaskSize } from "./history_task.ts";
import type { HistoryAnswer, HistoryTask, Touched } from "./history_task.ts";
import { HISTORY_SNAPSHOT_EVERY } from "./history_store.ts";
import type { HistoryRow, NewVersion, VersionInfo } from "./history_store.ts";
import type { HistoryLists } from "./map_store.ts";
import { reachable } from "./pg_util.ts";
import { onWorker, TaskSlots } from "./worker_task.ts";

/** One map's journal rows, as a commit appends them. */
export interface MapRows {
  /** The map. */
  mapId: string;
  /** Its rows, in seq order. */
  rows: readonly HistoryRow[];
}

/**
 * Indexes a commit's journal rows by the features they touch, inside the append's transaction,
 * for every map of the commit at once: one read of the touched features' last entries, then one
 * insert, whatever the number of maps (the SQLite side's rule, see {@link touchedFids}).
 */
export async function indexEdits(tx: TransactionSql, maps: readonly MapRows[]): Promise<void> {
  // Each frame parsed once (an import's can be megabytes): for the fids, then for the index.
  const ops = maps.map(({ rows }) => rows.map((row) => opsOf(row.frame)));
  const askMap: string[] = [];
  const askFid: string[] = [];
  for (const [m, { mapId }] of maps.entries()) {
    const fids = new Set<string>();
    for (const o of ops[m]) for (const fid of touchedFids(o, () => null).keys()) fids.add(fid);
    for (const fid of fids) {
      askMap.push(mapId);
      askFid.push(fid);
    }
  }
  if (askFid.length === 0) return;
  /** The last entry of each touched feature, by map id and fid (JSON of the pair). */
  const last = new Map<string, Touch>();
  const key = (mapId: string, fid: string) => JSON.stringify([mapId, fid]);
  // One index probe per (map, fid) pair, newest seq first: a join of the pairs with the whole
  // table could be planned as a scan of every map's history.
  for (
    const r of await tx`
    SELECT t.map_id, t.fid, l.now, l.title
    FROM unnest(${askMap}::text[], ${askFid}::text[]) AS t(map_id, fid)
    CROSS JOIN LATERAL (
      SELECT e.now, e.title FROM edit_fids e
      WHERE e.map_id = t.map_id AND e.fid = t.fid ORDER BY e.seq DESC LIMIT 1
    ) l
  `
  ) {
    last.set(key(String(r.map_id), String(r.fid)), {
      was: false,
      now: Boolean(r.now),
      title: r.title === null ? null : String(r.title),
    });
  }
  const mapIds: string[] = [];
  const fid: string[] = [];
  const seq: number[] = [];
  // Booleans as "t"/"f" text: postgres.js sends a JS boolean array as a scalar type.
  const was: string[] = [];
  const now: string[] = [];
  const title: (string | null)[] = [];
  for (const [m, { mapId, rows }] of maps.entries()) {
    for (const [i, row] of rows.entries()) {
      const before = (f: string) => last.get(key(mapId, f)) ?? null;
      for (const [id, touch] of touchedFids(ops[m][i], before)) {
        last.set(key(mapId, id), touch);
        mapIds.push(mapId);
        fid.push(id);
        seq.push(row.seq);
        was.push(touch.was ? "t" : "f");
        now.push(touch.now ? "t" : "f");
        title.push(touch.title);
      }
    }
  }
  // As arrays, six parameters whatever the count: an import touching 30 000 features would
  // exceed PostgreSQL's 65 535 parameters of one statement as rows.
  await tx`
    INSERT INTO edit_fids (map_id, fid, seq, was, now, title)
    SELECT * FROM unnest(
      ${mapIds}::text[], ${fid}::text[], ${seq}::bigint[], ${was}::text[]::boolean[],
      ${now}::text[]::boolean[], ${title}::text[]
    )
    ON CONFLICT (map_id, fid, seq) DO UPDATE
    SET was = excluded.was, now = excluded.now, title = excluded.title
  `;
}

/** Keeps a snapshot for history when enough edits passed since the last kept one (as SQLite). */
export async function keepSnapshot(
  tx: TransactionSql,
  mapId: string,
  seq: number,
  featuresJson: string,
): Promise<void> {
  const rows = await tx`SELECT max(seq) AS seq FROM kept_snapshots WHERE map_id = ${mapId}`;
  const last = rows[0].seq === null ? null : Number(rows[0].seq);
  if (last !== null) {
    if (seq - last < HISTORY_SNAPSHOT_EVERY) return;
    const bytes = await tx`
      SELECT coalesce(sum(length(frame)), 0) AS n FROM edits
      WHERE map_id = ${mapId} AND seq > ${last} AND seq <= ${seq}
    `;
    if (Number(bytes[0].n) < featuresJson.length / 2) return;
  }
  await keepDeflated(tx, mapId, seq, featuresJson);
}

async function keepDeflated(
  tx: TransactionSql,
  mapId: string,
  seq: number,
  featuresJson: string,
): Promise<void> {
  const deflated = deflateSync(featuresJson, { level: 1 });
  await tx`
    INSERT INTO kept_snapshots (map_id, seq, deflated) VALUES (${mapId}, ${seq}, ${deflated})
    ON CONFLICT (map_id, seq) DO UPDATE SET deflated = excluded.deflated
  `;
}

/** Stores a named version with its features. */
export async function addVersion(sql: Sql, v: NewVersion): Promise<void> {
  await reachable(sql`
    INSERT INTO versions (map_id, seq, name, at, author, features)
    VALUES (${v.mapId}, ${v.seq}, ${v.name}, ${v.at}, ${v.author}, ${v.featuresJson})
  `);
}

/**
 * Deletes history older than `cutoff` (ms), at most `budget` journal rows, in one transaction, by
 * the SQLite store's rule: only edits at or before a map's latest snapshot, only up to a kept
 * snapshot (the latest one is kept for history when it becomes the base). Returns rows deleted.
 */
export async function pruneHistory(sql: Sql, cutoff: number, budget: number): Promise<number> {
  return await reachable(sql.begin(async (tx) => {
    let deleted = 0;
    const maps = await tx`
      SELECT m.id, coalesce(s.seq, 0) AS snapshot_seq FROM maps m
      LEFT JOIN snapshots s ON s.map_id = m.id
      WHERE EXISTS (SELECT 1 FROM edits e WHERE e.map_id = m.id)
    `;
    for (const map of maps) {
      if (deleted >= budget) break;
      deleted += await pruneMap(
        tx,
        String(map.id),
        Number(map.snapshot_seq),
        cutoff,
        budget - deleted,
      );
    }
    return deleted;
  }));
}

async function pruneMap(
  tx: TransactionSql,
  mapId: string,
  snapshotSeq: number,
  cutoff: number,
  budget: number,
): Promise<number> {
  const found = await tx`SELECT min(seq) AS seq FROM edits WHERE map_id = ${mapId}`;
  if (found[0].seq === null || budget <= 0) return 0;
  const oldest = Number(found[0].seq);
  // The newest seq up to the snapshot older than the cutoff, by binary search on the edits' times.
  let lo = oldest - 1;
  let hi = snapshotSeq;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const r = await tx`
      SELECT coalesce((frame::jsonb ->> 'at')::float8, 0) AS at FROM edits
      WHERE map_id = ${mapId} AND seq = ${mid}
    `;
    const at = r.length === 0 ? Infinity : Number(r[0].at);
    if (at < cutoff) lo = mid;
    else hi = mid - 1;
  }
  const limit = lo;
  if (limit < oldest) return 0;
  const kept = await tx`
    SELECT max(seq) AS seq FROM kept_snapshots WHERE map_id = ${mapId} AND seq <= ${limit}
  `;
  let base = kept[0].seq === null ? 0 : Number(kept[0].seq);
  if (snapshotSeq <= limit && snapshotSeq > base) {
    const latest = await tx`SELECT features FROM snapshots WHERE map_id = ${mapId}`;
    if (latest.length > 0) {
      await keepDeflated(tx, mapId, snapshotSeq, String(latest[0].features));
      base = snapshotSeq;
    }
  }
  if (base < oldest) return 0;
  const upTo = Math.min(base, oldest + budget - 1);
  await tx`DELETE FROM edit_fids WHERE map_id = ${mapId} AND seq <= ${upTo}`;
  await tx`DELETE FROM edits WHERE map_id = ${mapId} AND seq <= ${upTo}`;
  if (upTo === base) {
    await tx`DELETE FROM kept_snapshots WHERE map_id = ${mapId} AND seq < ${base}`;
  }
  return upTo - oldest + 1;
}

/** Options of {@link PgHistory}. */
export interface PgHistoryOptions {
  /**
   * A state or page that parses more characters than this (base and frames) is done by
   * `offThread`. @default 262144
   */
  inlineChars?: number;
  /**
   * Does a big task; by default on a worker thread of its own, at most 2 at once with 8 more
   * waiting (then the read fails and the page is told to try again).
   */
  offThread?: (task: HistoryTask) => Promise<HistoryAnswer>;
}

/** Does a history task on a worker thread of its own (here if the worker cannot run). */
export function historyTaskOnWorker(task: HistoryTask): Promise<HistoryAnswer> {
  return onWorker(
    new URL("./history_task_worker.ts", import.meta.url),
    task,
    answerHistoryTask,
    "history_task_worker_failed",
  );
}

/**
 * Reads history from PostgreSQL: pages, states at a seq, the oldest seq and named versions. Each
 * read is one REPEATABLE READ transaction; its frames are parsed once the connection is back in
 * the pool, on the calling thread when few, on a worker thread when many.
 */
export class PgHistory implements HistoryLists, HistoryReader {
  #sql: Sql;
  #inlineChars: number;
  #offThread: (task: HistoryTask) => Promise<HistoryAnswer>;

  /** Reads through `sql`. */
  constructor(sql: Sql, options: PgHistoryOptions = {}) {
    this.#sql = sql;
    this.#inlineChars = options.inlineChars ?? 256 * 1024;
    if (options.offThread) this.#offThread = options.offThread;
    else {
      const slots = new TaskSlots({ running: 2, waiting: 8, what: "history reads" });
      this.#offThread = (task) => slots.run(() => historyTaskOnWorker(task));
    }
  }

  async oldest(mapId: string): Promise<number | null> {
    const rows = await reachable(
      this.#sql`SELECT min(seq) AS seq FROM edits WHERE map_id = ${mapId}`,
    );
    return rows[0].seq === null ? null : Number(rows[0].seq);
  }

  async versions(mapId: string): Promise<VersionInfo[]> {
    const rows = await reachable(this.#sql`
      SELECT seq, name, at, author FROM versions WHERE map_id = ${mapId} ORDER BY seq DESC, at DESC
    `);
    return rows.map((r) => ({
      seq: Number(r.seq),
      name: String(r.name),
      at: Number(r.at),
      author: String(r.author),
    }));
  }

  async page(mapId: string, query: PageQuery): Promise<PageRead> {
    const read = await reachable(this.#read(async (tx) => {
      const limit = query.limit + 1;
      const rows = query.fid === undefined
        ? await tx`
          SELECT seq, frame FROM edits WHERE map_id = ${mapId} AND seq < ${query.before}
          ORDER BY seq DESC LIMIT ${limit}`
        : await tx`
          SELECT e.seq, e.frame FROM edit_fids f
          JOIN edits e ON e.map_id = f.map_id AND e.seq = f.seq
          WHERE f.map_id = ${mapId} AND f.fid = ${query.fid} AND f.seq < ${query.before}
          ORDER BY f.seq DESC LIMIT ${limit}`;
      const page = rows.slice(0, query.limit).map((r) => ({
        seq: Number(r.seq),
        frame: String(r.frame),
      }));
      const touches: [string, Touched][] = [];
      if (page.length > 0) {
        for (
          const t of await tx`
          SELECT fid, seq, was, title FROM edit_fids
          WHERE map_id = ${mapId} AND seq = ANY(${page.map((r) => r.seq)})
        `
        ) {
          touches.push([`${t.seq} ${t.fid}`, {
            was: Boolean(t.was),
            title: t.title === null ? null : String(t.title),
          }]);
        }
      }
      const oldest = await tx`SELECT min(seq) AS seq FROM edits WHERE map_id = ${mapId}`;
      return {
        oldest: oldest[0].seq === null ? null : Number(oldest[0].seq),
        more: rows.length > query.limit,
        page,
        touches,
      };
    }));
    const entries = await this.#run({ kind: "page", rows: read.page, touches: read.touches });
    return {
      oldest: read.oldest,
      next: read.more ? read.page[read.page.length - 1].seq : null,
      entries: entries as PageEntry[],
    };
  }

  async featuresAt(mapId: string, at: number): Promise<string | null> {
    const request = await reachable(this.#read(async (tx): Promise<string | RebuildRequest> => {
      const named = await tx`
        SELECT features FROM versions WHERE map_id = ${mapId} AND seq = ${at} LIMIT 1
      `;
      if (named.length > 0) return String(named[0].features);
      const kept = await tx`
        SELECT seq, deflated FROM kept_snapshots WHERE map_id = ${mapId} AND seq <= ${at}
        ORDER BY seq DESC LIMIT 1
      `;
      let from = kept.length === 0 ? 0 : Number(kept[0].seq);
      let base: RebuildRequest["base"] = kept.length === 0
        ? null
        : { deflated: kept[0].deflated as Uint8Array };
      // The map's latest snapshot is a base too (it may not be one kept for history).
      const latest = await tx`
        SELECT seq, features FROM snapshots WHERE map_id = ${mapId} AND seq <= ${at} AND seq > ${from}
      `;
      if (latest.length > 0) {
        from = Number(latest[0].seq);
        base = { json: String(latest[0].features) };
      }
      const rows = (await tx`
        SELECT seq, frame FROM edits WHERE map_id = ${mapId} AND seq > ${from} AND seq <= ${at}
        ORDER BY seq
      `).map((r) => ({ seq: Number(r.seq), frame: String(r.frame) }));
      return { from, base, at, rows };
    }));
    if (typeof request === "string") return request;
    return await this.#run({ kind: "state", state: request }) as string | null;
  }

  /** Does `task` here when small, else off this thread: every map of the relay shares its loop. */
  async #run(task: HistoryTask): Promise<HistoryAnswer> {
    return historyTaskSize(task) <= this.#inlineChars
      ? answerHistoryTask(task)
      : await this.#offThread(task);
  }

  /** Nothing to stop: the store's pool is closed with the store. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  #read<T>(work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    return this.#sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", work) as Promise<T>;
  }
}
