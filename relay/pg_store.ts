/** The PostgreSQL store (`--store postgres://…`): maps, the journal and snapshots, via `npm:postgres`. */
import postgres from "postgres";
import type { Sql, TransactionSql } from "postgres";
import { DuplicateEditError } from "./map_store.ts";
import type { AppendResult, MapStore } from "./map_store.ts";
import { isPostgresUrl, reachable, redactUrl } from "./pg_util.ts";
import { missingRanges, StoreDamagedError } from "./store.ts";
import type { JournalBatch, JournalCheck, MapRecord, StoredMap } from "./store.ts";
import { migrate } from "./pg_migrations.ts";
import {
  acquireLease,
  assertLease,
  FencedError,
  HANDOFF_CHANNEL,
  releaseLease,
  renewLease,
  renewLeases,
  requestHandoff,
} from "./pg_lease.ts";
import { PgListener } from "./pg_listen.ts";
import type { Lease } from "./pg_lease.ts";
import type { MigrationResult } from "./pg_migrations.ts";
import type { StoredComments } from "./comments.ts";
import type { NewVersion } from "./history_store.ts";

import { addVersion, indexEdits, keepSnapshot, PgHistory, pruneHistory } from "./pg_history.ts";

/** Options for {@link PgStore.open}. */
export interface PgStoreOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://`). */
  url: string;
  /** Connections in the pool. @default 4 */
  maxConnections?: number;
  /** Seconds to wait for a connection before a query fails. @default 10 */
  connectTimeoutS?: number;
  /** A new map's epoch. @default 32 random hex digits */
  newEpoch?: () => string;
  /**
   * A session idle inside a transaction this long is ended by the server: a relay frozen in the
   * middle of a commit (SIGSTOP, a paused VM) would otherwise keep its maps' rows locked, so no
   * other relay could take them over however long ago its leases ran out. The lease's length.
   * @default 4000
   */
  idleInTransactionMs?: number;
}

/** A map's batch, optionally committed under a lease: then only while that lease is the map's. */
export interface FencedBatch extends JournalBatch {
  /** The lease the edits were sequenced under; a stale one fails with FencedError. */
  lease?: Lease;
}

/**
 * A {@link MapStore} on PostgreSQL. Every transaction runs with `synchronous_commit = on`, so a
 * resolved append is on the server's disk (and on its synchronous standbys, when it has any). An
 * append is conditional on the map's `head_seq`: a batch that does not continue the journal, or
 * that another store instance got in first with, is refused as a whole.
 *
 * @example
 * ```ts ignore
 * import { PgStore } from "./pg_store.ts";
 * const store = await PgStore.open({ url: "postgres://dm@127.0.0.1:5432/duplexmap" });
 * await store.countMaps();
 * await store.close();
 * ```
 */
export class PgStore implements MapStore {
  /** Which implementation this is. */
  readonly kind = "postgres";
  /** The schema migrations found and applied when it opened. */
  readonly migration: MigrationResult;
  /** Its URL without the password, for logs. */
  readonly where: string;
  /** Its history: pages, states at a seq, the oldest seq, named versions. */
  readonly history: PgHistory;
  #sql: Sql;
  #url: string;
  #newEpoch: () => string;

  private constructor(
    sql: Sql,
    migration: MigrationResult,
    newEpoch: () => string,
    url: string,
  ) {
    this.#sql = sql;
    this.#url = url;
    const where = redactUrl(url);
    this.history = new PgHistory(sql);
    this.where = where;
    this.migration = migration;
    this.#newEpoch = newEpoch;
  }

  /** Connects, applies the schema migrations, and returns the store. */
  static async open(options: PgStoreOptions): Promise<PgStore> {
    if (typeof options?.url !== "string" || !isPostgresUrl(options.url)) {
      throw new TypeError(
        `Cannot open PgStore as 'url' must be a postgres:// URL: received ${
          JSON.stringify(redactUrl(String(options?.url)))
        }`,
      );
    }
    const sql = postgres(options.url, {
      max: options.maxConnections ?? 4,
      connect_timeout: options.connectTimeoutS ?? 10,
      // Acknowledge only what is on disk, whatever the server's default.
      connection: {
        synchronous_commit: "on",
        application_name: "duplexmap",
        idle_in_transaction_session_timeout: options.idleInTransactionMs ?? 4000,
      },
      onnotice: () => {},
    });
    try {
      const migration = await migrate(sql);
      return new PgStore(sql, migration, options.newEpoch ?? randomEpoch, options.url);
    } catch (err) {
      await sql.end({ timeout: 1 }).catch(() => {});
      throw err;
    }
  }

  async createMap(record: MapRecord): Promise<void> {
    await this.#sql`
      INSERT INTO maps (id, title, edit_hash, view_hash, created_at, epoch)
      VALUES (${record.id}, ${record.title}, ${record.editHash}, ${record.viewHash},
              ${record.createdAt}, ${this.#newEpoch()})
    `;
  }

  async loadRecord(id: string): Promise<MapRecord | null> {
    const rows = await reachable(this.#sql`
      SELECT id, title, edit_hash, view_hash, created_at FROM maps WHERE id = ${id}
    `);
    return rows.length === 0 ? null : recordOf(rows[0]);
  }

  async loadMap(id: string, historyLimit: number): Promise<StoredMap | null> {
    // One snapshot of the database for the row, its snapshot and its journal.
    return await reachable(
      this.#sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
        const rows = await tx`
        SELECT m.id, m.title, m.edit_hash, m.view_hash, m.created_at, m.epoch, m.head_seq,
               coalesce(s.seq, 0) AS snapshot_seq, s.features AS snapshot
        FROM maps m LEFT JOIN snapshots s ON s.map_id = m.id WHERE m.id = ${id}
      `;
        if (rows.length === 0) return null;
        const row = rows[0];
        const snapshotSeq = Number(row.snapshot_seq);
        const history = (await tx`
        SELECT seq, frame, client, edit_id FROM edits WHERE map_id = ${id} AND seq <= ${snapshotSeq}
        ORDER BY seq DESC LIMIT ${historyLimit}
      `).reverse().map(entryOf);
        const tail = (await tx`
        SELECT seq, frame, client, edit_id FROM edits WHERE map_id = ${id} AND seq > ${snapshotSeq}
        ORDER BY seq
      `).map(entryOf);
        const seqs = [...history, ...tail].map((e) => e.seq);
        const missing = missingRanges(snapshotSeq, seqs);
        // Rows committed up to head_seq must all be there (a truncated table, a bad restore).
        const last = Math.max(snapshotSeq, seqs.at(-1) ?? 0);
        const head = Number(row.head_seq);
        if (head > last) missing.push([last + 1, head]);
        if (missing.length > 0) throw new StoreDamagedError(id, missing);
        return {
          record: recordOf(row),
          snapshotSeq,
          snapshot: row.snapshot === null ? null : String(row.snapshot),
          tail,
          history,
          epoch: String(row.epoch),
        };
      }),
    );
  }

  /**
   * Appends batches in one transaction. A batch with a `lease` is written only while that lease is
   * the map's (same owner and epoch): with several maps, the leased maps' rows are locked and
   * checked first, a batch whose lease is stale is left out (the others still commit). A batch
   * that re-sends an edit the store holds (its unique index on author and edit id) rolls the
   * transaction back; it is then written again without that map's batch. The result names the
   * batches left out.
   */
  async appendBatches(batches: readonly FencedBatch[]): Promise<AppendResult> {
    let work = batches.filter((b) =>
      b.entries.length > 0 || (b.comments?.length ?? 0) > 0 || b.settings !== undefined
    );
    const duplicates: DuplicateEditError[] = [];
    while (work.length > 0) {
      try {
        const fenced = await this.#appendOnce(work);
        return duplicates.length > 0 ? { fenced, duplicates } : { fenced };
      } catch (err) {
        if (!(err instanceof DuplicateEditError)) throw err;
        duplicates.push(err);
        work = work.filter((b) => b.mapId !== err.mapId);
      }
    }
    return duplicates.length > 0 ? { fenced: [], duplicates } : { fenced: [] };
  }

  /** One transaction of {@link appendBatches}: the batches left out as fenced, or it throws. */
  async #appendOnce(work: readonly FencedBatch[]): Promise<FencedError[]> {
    if (work.length === 1) {
      // One map (the usual commit): its conditional UPDATE checks the lease, no lock up front.
      try {
        await reachable(this.#sql.begin((tx) => appendAll(tx, work)));
        return [];
      } catch (err) {
        if (err instanceof FencedError) return [err];
        throw err;
      }
    }
    return await reachable(this.#sql.begin(async (tx) => {
      const fenced = await staleLeases(tx, work);
      await appendAll(tx, work.filter((b) => !fenced.has(b.mapId)));
      return [...fenced.values()];
    }));
  }

  async saveSnapshot(
    mapId: string,
    seq: number,
    featuresJson: string,
    _keep = 0,
  ): Promise<void> {
    await reachable(this.#sql.begin(async (tx) => {
      await tx`
        INSERT INTO snapshots (map_id, seq, features) VALUES (${mapId}, ${seq}, ${featuresJson})
        ON CONFLICT (map_id) DO UPDATE SET seq = excluded.seq, features = excluded.features
        WHERE snapshots.seq <= excluded.seq
      `;
      await keepSnapshot(tx, mapId, seq, featuresJson);
    }));
  }

  /** A map's comments (oldest first) and settings (extension: comments). */
  async loadComments(mapId: string): Promise<StoredComments> {
    return await reachable(
      this.#sql.begin("ISOLATION LEVEL REPEATABLE READ READ ONLY", async (tx) => {
        const rows = await tx`
          SELECT n, id, record FROM comments WHERE map_id = ${mapId} ORDER BY n
        `;
        const settings = await tx`SELECT settings FROM map_settings WHERE map_id = ${mapId}`;
        return {
          rows: rows.map((r) => ({ n: Number(r.n), id: String(r.id), record: String(r.record) })),
          settings: settings.length === 0 ? null : String(settings[0].settings),
        };
      }),
    );
  }

  /** Stores a named version with its features, durably. */
  addVersion(version: NewVersion): Promise<void> {
    return addVersion(this.#sql, version);
  }

  /** Deletes history older than `cutoff` (see {@link pruneHistory}). */
  pruneHistory(cutoff: number, budget: number): Promise<number> {
    return pruneHistory(this.#sql, cutoff, budget);
  }

  async countMaps(): Promise<number> {
    const rows = await this.#sql`SELECT count(*)::bigint AS n FROM maps`;
    return Number(rows[0].n);
  }

  async checkJournals(): Promise<JournalCheck> {
    // One pass over the journal's primary key; only a map whose rows do not add up is read whole.
    const rows = await this.#sql`
      SELECT m.id, coalesce(s.seq, 0) AS s, m.head_seq AS head, e.n, e.lo, e.hi
      FROM maps m
      JOIN (SELECT map_id, count(*) AS n, min(seq) AS lo, max(seq) AS hi
            FROM edits GROUP BY map_id) e ON e.map_id = m.id
      LEFT JOIN snapshots s ON s.map_id = m.id
    `;
    let edits = 0;
    const damaged: JournalCheck["damaged"] = [];
    for (const r of rows) {
      const [s, n, lo, hi, head] = [r.s, r.n, r.lo, r.hi, r.head].map(Number);
      edits += n;
      if (hi - lo + 1 === n && lo <= s + 1 && hi >= s && head <= hi) continue;
      const mapId = String(r.id);
      const all = (await this.#sql`SELECT seq FROM edits WHERE map_id = ${mapId} ORDER BY seq`)
        .map((x) => Number(x.seq));
      const missing = missingRanges(s, all);
      if (head > Math.max(s, hi)) missing.push([Math.max(s, hi) + 1, head]);
      damaged.push({ mapId, missing });
    }
    return { maps: await this.countMaps(), edits, damaged };
  }

  /** Takes a map's lease (see {@link acquireLease}); `null` while another relay holds it. */
  acquireLease(mapId: string, owner: string, leaseMs: number): Promise<Lease | null> {
    return acquireLease(this.#sql, mapId, owner, leaseMs);
  }

  /** Extends a lease; false when it was lost (see {@link renewLease}). */
  renewLease(lease: Lease, leaseMs: number): Promise<boolean> {
    return renewLease(this.#sql, lease, leaseMs);
  }

  /** Renews all of `owner`'s leases in one statement (see {@link renewLeases}). */
  renewLeases(owner: string, leases: readonly Lease[], leaseMs: number): Promise<Set<string>> {
    return renewLeases(this.#sql, owner, leases, leaseMs);
  }

  /** Asks a map's holder to hand it over (see {@link requestHandoff}). */
  requestHandoff(mapId: string, from: string): Promise<string | null> {
    return requestHandoff(this.#sql, mapId, from);
  }

  /** A LISTEN for handoff requests on a connection of its own (see {@link PgListener}). */
  handoffListener(onNotify: (payload: string) => void): PgListener {
    return new PgListener(this.#url, HANDOFF_CHANNEL, onNotify);
  }

  /** Gives a map up (see {@link releaseLease}). */
  releaseLease(lease: Lease): Promise<boolean> {
    return releaseLease(this.#sql, lease);
  }

  /** A setting as this store's sessions see it (`synchronous_commit` must be `on`). */
  async sessionSetting(name: string): Promise<string> {
    const rows = await this.#sql`SELECT current_setting(${name}) AS v`;
    return String(rows[0].v);
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: 5 });
  }
}

/**
 * Appends a commit's batches: every map's edits with their comments and settings, in a few
 * statements whatever the number of maps (one round trip after another per map made a commit of
 * 40 maps cost ~21 ms). The edits move each map's `head_seq` from the seq before its batch to its
 * last seq, which only succeeds when its journal ends right before the batch (and, for a batch
 * under a lease, while that lease is the map's). A concurrent writer's UPDATE waits on the row
 * lock, then finds `head_seq` moved and changes nothing: it is refused, never interleaved. The
 * unique (client, edit id) index refuses an edit stored before under a new seq.
 */
async function appendAll(tx: TransactionSql, batches: readonly FencedBatch[]): Promise<void> {
  const withEdits = batches.filter((b) => b.entries.length > 0);
  if (withEdits.length > 0) await appendEdits(tx, withEdits);
  for (const batch of batches) {
    if (batch.entries.length === 0 && batch.lease) await assertOwner(tx, batch.lease);
  }
  // In the same transaction as the edits: acknowledged together or not at all.
  const comments = batches.flatMap(({ mapId, comments }) =>
    (comments ?? []).map((c) => ({ map_id: mapId, n: c.n, id: c.id, record: c.record }))
  );
  if (comments.length > 0) {
    await tx`
      INSERT INTO comments ${tx(comments, "map_id", "n", "id", "record")}
      ON CONFLICT (map_id, n) DO UPDATE SET record = excluded.record
    `;
  }
  for (const { mapId, settings } of batches) {
    if (settings === undefined) continue;
    await tx`
      INSERT INTO map_settings (map_id, settings) VALUES (${mapId}, ${settings})
      ON CONFLICT (map_id) DO UPDATE SET settings = excluded.settings
    `;
  }
}

/**
 * Locks the rows of the maps whose batches carry a lease (in id order, so two commits cannot
 * deadlock) and returns the batches whose lease is no longer the map's, by map id. Under the lock
 * no other relay can take those maps before this transaction ends.
 */
async function staleLeases(
  tx: TransactionSql,
  batches: readonly FencedBatch[],
): Promise<Map<string, FencedError>> {
  const fenced = new Map<string, FencedError>();
  const leased = batches.filter((b) => b.lease !== undefined);
  if (leased.length === 0) return fenced;
  const ids = [...new Set(leased.map((b) => b.mapId))].sort();
  const rows = await tx`
    SELECT id, owner, owner_epoch FROM maps WHERE id IN ${tx(ids)} ORDER BY id FOR UPDATE
  `;
  const now = new Map(rows.map((r) => [String(r.id), r]));
  for (const { mapId, lease } of leased) {
    const row = now.get(mapId);
    if (!row) continue;
    const owner = row.owner === null ? null : String(row.owner);
    const epoch = Number(row.owner_epoch);
    if (owner !== lease!.owner || epoch !== lease!.epoch) {
      fenced.set(mapId, new FencedError(lease!, { owner, epoch }));
    }
  }
  return fenced;
}

/** Takes the map's row lock and checks the lease (a batch of comments only, no edits). */
async function assertOwner(tx: TransactionSql, lease: Lease): Promise<void> {
  await tx`SELECT 1 FROM maps WHERE id = ${lease.mapId} FOR UPDATE`;
  await assertLease(tx, lease);
}

/** Appends the batches' edits, each conditional on its map's `head_seq` (see {@link appendAll}). */
async function appendEdits(tx: TransactionSql, batches: readonly FencedBatch[]): Promise<void> {
  for (const { mapId, entries } of batches) {
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].seq !== entries[i - 1].seq + 1) {
        throw new Error(`edits for map ${mapId} skip from seq ${entries[i - 1].seq}`);
      }
    }
  }
  // In map id order: a commit of several maps has locked their rows in this order already
  // (staleLeases), so two relays' commits cannot deadlock on them.
  const sorted = [...batches].sort((a, b) => a.mapId < b.mapId ? -1 : a.mapId > b.mapId ? 1 : 0);
  const moved = await tx`
    UPDATE maps m SET head_seq = v.last
    FROM unnest(
      ${sorted.map((b) => b.mapId)}::text[],
      ${sorted.map((b) => b.entries[0].seq)}::bigint[],
      ${sorted.map((b) => b.entries[b.entries.length - 1].seq)}::bigint[],
      ${sorted.map((b) => b.lease?.owner ?? null)}::text[],
      ${sorted.map((b) => b.lease?.epoch ?? null)}::bigint[]
    ) AS v(id, first, last, owner, epoch)
    WHERE m.id = v.id AND m.head_seq = v.first - 1
      AND (v.owner IS NULL OR (m.owner = v.owner AND m.owner_epoch = v.epoch))
    RETURNING m.id
  `;
  if (moved.length < sorted.length) {
    const done = new Set(moved.map((r) => String(r.id)));
    await refusal(tx, sorted.find((b) => !done.has(b.mapId))!);
  }
  const mapId: string[] = [];
  const seq: number[] = [];
  const frame: string[] = [];
  const client: (string | null)[] = [];
  const editId: (string | null)[] = [];
  for (const b of sorted) {
    for (const e of b.entries) {
      mapId.push(b.mapId);
      seq.push(e.seq);
      frame.push(e.frame);
      client.push(e.client ?? null);
      editId.push(e.client === undefined ? null : (e.id ?? null));
    }
  }
  // As arrays, five parameters whatever the count (rows as parameters stop at 65 535 values).
  const inserted = await tx`
    INSERT INTO edits (map_id, seq, frame, client, edit_id)
    SELECT * FROM unnest(
      ${mapId}::text[], ${seq}::bigint[], ${frame}::text[], ${client}::text[], ${editId}::text[]
    )
    ON CONFLICT (map_id, client, edit_id) WHERE client IS NOT NULL AND edit_id IS NOT NULL
    DO NOTHING RETURNING map_id, seq
  `;
  if (inserted.length < seq.length) {
    // Throwing rolls the whole transaction back: nothing of this commit is written.
    const written = new Set(inserted.map((r) => `${r.map_id} ${r.seq}`));
    const dupes = seq.flatMap((s, i) => written.has(`${mapId[i]} ${s}`) ? [] : [i]);
    const map = mapId[dupes[0]];
    throw new DuplicateEditError(
      map,
      dupes.filter((i) => mapId[i] === map).map((i) => ({ client: client[i]!, id: editId[i]! })),
    );
  }
  await indexEdits(tx, sorted.map((b) => ({ mapId: b.mapId, rows: b.entries })));
}

/**
 * Why a batch's conditional UPDATE changed nothing: its lease is gone (FencedError), there is no
 * such map, or its journal is not where the batch starts. Always throws.
 */
async function refusal(tx: TransactionSql, { mapId, entries, lease }: FencedBatch): Promise<never> {
  if (lease) await assertLease(tx, lease);
  const at = await tx`
    SELECT greatest(m.head_seq, coalesce(s.seq, 0)) AS seq
    FROM maps m LEFT JOIN snapshots s ON s.map_id = m.id WHERE m.id = ${mapId}
  `;
  if (at.length === 0) throw new Error(`there is no map ${mapId}; refusing its edits`);
  throw new Error(
    `journal of map ${mapId} is at seq ${Number(at[0].seq)}; refusing edits from seq ${
      entries[0].seq
    }`,
  );
}

/** A map's record from its row. */
function recordOf(row: Record<string, unknown>): MapRecord {
  return {
    id: String(row.id),
    title: String(row.title),
    editHash: new Uint8Array(row.edit_hash as Uint8Array),
    viewHash: new Uint8Array(row.view_hash as Uint8Array),
    createdAt: Number(row.created_at),
  };
}

/** A journal row as the relay reads it, with its author's client and edit id when it has them. */
function entryOf(row: Record<string, unknown>): StoredMap["tail"][number] {
  const entry = { seq: Number(row.seq), frame: String(row.frame) };
  if (row.client === null || row.edit_id === null) return entry;
  return { ...entry, client: String(row.client), id: String(row.edit_id) };
}

/** 128 random bits as 32 hex digits, like the SQLite store's epochs. */
function randomEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
