/** The PostgreSQL schema as numbered migrations, applied once each, under an advisory lock. */
import type { Sql } from "postgres";

/** One step of the schema; never edited once released (a change is a new step). */
export interface Migration {
  /** Applied in ascending order; recorded in `schema_migrations`. */
  version: number;
  /** What it does, for the log. */
  name: string;
  /** Its statements, run in the migration's transaction. */
  sql: string;
}

/**
 * Key of the advisory lock held while migrating ("dmap" in ASCII): relays starting at once take
 * turns, and the second finds the schema already there.
 */
export const MIGRATION_LOCK = 0x646d6170;

/** The schema, oldest step first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "maps, journal, snapshots",
    sql: `
      CREATE TABLE maps (
        id text PRIMARY KEY,
        title text NOT NULL,
        edit_hash bytea NOT NULL,
        view_hash bytea NOT NULL,
        created_at bigint NOT NULL,
        epoch text NOT NULL,
        -- The last seq committed to the journal: every append is conditional on it, so two
        -- writers of one map can never both extend it (the later one is refused).
        head_seq bigint NOT NULL DEFAULT 0
      );
      CREATE TABLE edits (
        map_id text NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        frame text NOT NULL,
        client text,
        edit_id text,
        PRIMARY KEY (map_id, seq)
      );
      -- A re-sent edit (its ack lost in a crash) is stored once, whoever sequences it.
      CREATE UNIQUE INDEX edits_client_edit ON edits (map_id, client, edit_id)
        WHERE client IS NOT NULL AND edit_id IS NOT NULL;
      -- Apart from maps, so renewing a lease never rewrites a large row.
      CREATE TABLE snapshots (
        map_id text PRIMARY KEY REFERENCES maps (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        features text NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "map leases: owner, fencing epoch, lease end",
    sql: `
      -- One sequencer per map (relay/pg_lease.ts). owner_epoch is the fencing token, apart from
      -- maps.epoch (the history's identity that clients' since is read under).
      ALTER TABLE maps
        ADD COLUMN owner text,
        ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0,
        ADD COLUMN lease_until timestamptz;
    `,
  },
  {
    version: 3,
    name: "comments and map settings",
    sql: `
      -- Written in the same transaction as the turn's edits (extension: comments).
      CREATE TABLE comments (
        map_id text NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
        n bigint NOT NULL,
        id text NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (map_id, n)
      );
      CREATE TABLE map_settings (
        map_id text PRIMARY KEY REFERENCES maps (id) ON DELETE CASCADE,
        settings text NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: "history: per-feature index, kept snapshots, named versions",
    sql: `
      -- What each edit did to each feature it touched (relay/history_index.ts), for fid= pages.
      CREATE TABLE edit_fids (
        map_id text NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
        fid text NOT NULL,
        seq bigint NOT NULL,
        was boolean NOT NULL,
        now boolean NOT NULL,
        title text,
        PRIMARY KEY (map_id, fid, seq)
      );
      CREATE INDEX edit_fids_by_seq ON edit_fids (map_id, seq);
      -- Deflated snapshots kept for history (features?at=SEQ), apart from the latest one.
      CREATE TABLE kept_snapshots (
        map_id text NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        deflated bytea NOT NULL,
        PRIMARY KEY (map_id, seq)
      );
      CREATE TABLE versions (
        map_id text NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
        seq bigint NOT NULL,
        name text NOT NULL,
        at bigint NOT NULL,
        author text NOT NULL,
        features text NOT NULL
      );
      CREATE INDEX versions_by_map ON versions (map_id, seq);
    `,
  },
];

/** What {@link migrate} did. */
export interface MigrationResult {
  /** The schema version now. */
  version: number;
  /** Versions this call applied (empty when another relay or an earlier start had). */
  applied: number[];
}

/**
 * Brings the schema up to the newest {@link MIGRATIONS} step in one transaction under
 * {@link MIGRATION_LOCK}; refuses a database whose schema is newer than this relay knows (an
 * older relay must not write to a schema it does not understand).
 */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  const newest = migrations.at(-1)?.version ?? 0;
  return await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx.unsafe(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )
    `);
    const rows = await tx`SELECT coalesce(max(version), 0)::int AS v FROM schema_migrations`;
    const current = Number(rows[0].v);
    if (current > newest) {
      throw new Error(
        `the database schema is at version ${current}, newer than this relay's ${newest}; ` +
          "run a relay at least as new as the one that migrated it",
      );
    }
    const applied: number[] = [];
    for (const m of migrations) {
      if (m.version <= current) continue;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
    return { version: Math.max(current, newest), applied };
  });
}
