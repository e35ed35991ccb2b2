/** A test cluster: one throwaway PostgreSQL, several relay processes on it, HAProxy (haproxy-cluster.cfg) in front. */
import { startPostgres } from "./_postgres.ts";
import type { PostgresCluster } from "./_postgres.ts";
import { createMap } from "./_relay.ts";
import { clusterRelay } from "./_cluster_relay.ts";
import type { ClusterRelay } from "./_cluster_relay.ts";
import { startHaproxy } from "./_haproxy.ts";
import type { HaproxyProcess } from "./_haproxy.ts";

export type { ClusterRelay } from "./_cluster_relay.ts";
export { sumMetric } from "./_cluster_relay.ts";

const CLUSTER_CFG = new URL("../haproxy/haproxy-cluster.cfg", import.meta.url).pathname;
/** How many `server relayN` lines haproxy/haproxy-cluster.cfg has. */
const CONFIGURED_RELAYS = 3;

/** Options for {@link startCluster}. */
export interface StartClusterOptions {
  /** How many relays (1 to 3, the servers of haproxy-cluster.cfg). @default 3 */
  relays?: number;
  /** Each relay's lease on its maps (`DUPLEXMAP_LEASE_MS`). @default 4000, the relay's default */
  leaseMs?: number;
  /** Extra flags for every relay. */
  relayArgs?: string[];
  /** Extra or overriding `DM_*` variables of haproxy-cluster.cfg. */
  haproxyEnv?: Record<string, string>;
}

/** HAProxy in front of the relays, with its runtime API. */
export interface ClusterHaproxy extends HaproxyProcess {
  /** `https://127.0.0.1:<port>` */
  url: string;
  /** Runs one command on the stats socket (`set server be_relays/relay2 state maint`); its answer. */
  stats(cmd: string): Promise<string>;
}

/** Who owns a map, from its `maps` row. */
export interface MapOwner {
  owner: string | null;
  epoch: number;
  headSeq: number;
}

/** One row of a map's journal (`edits`). */
export interface JournalRow {
  seq: number;
  client: string;
  edit_id: string;
}

/** A running cluster; everything is torn down by `await using`. */
export interface Cluster {
  pg: PostgresCluster;
  /** The database the relays share. */
  dbUrl: string;
  dbName: string;
  relays: ClusterRelay[];
  haproxy: ClusterHaproxy;
  /** The relay with this id. */
  relay(id: string): ClusterRelay;
  /** Creates a map through HAProxy. */
  createMap(title?: string): ReturnType<typeof createMap>;
  /** The map's owner, epoch and head seq (SQL), or null when it has no row. */
  ownerOf(mapId: string): Promise<MapOwner | null>;
  /** The map's journal in seq order (SQL). */
  journal(mapId: string): Promise<JournalRow[]>;
  /** Runs SQL on the shared database; unaligned `psql` output. */
  sql(query: string): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts PostgreSQL, `relays` relays on it (`--store`, ids `r1`...), and HAProxy with
 * haproxy/haproxy-cluster.cfg and test certificates, its stats socket in a temp dir. A failure
 * half-way tears down what was started.
 *
 * @example
 * ```ts
 * await using cluster = await startCluster({ relays: 3, leaseMs: 2000 });
 * const map = await cluster.createMap();
 * const ws = cluster.haproxy.webSocket(`/ws/${map.id}`);
 * ```
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  const count = options.relays ?? 3;
  if (!Number.isInteger(count) || count < 1 || count > CONFIGURED_RELAYS) {
    throw new RangeError(
      `Cannot start a cluster as 'relays' must be 1 to ${CONFIGURED_RELAYS}: received ${count}`,
    );
  }
  const cleanup = new AsyncDisposableStack();
  try {
    const pg = cleanup.use(await startPostgres());
    const dbName = "dm_cluster";
    const dbUrl = await pg.createDatabase(dbName);
    await pg.psql(
      dbName,
      `CREATE ROLE dm_relays NOLOGIN; ALTER DATABASE ${dbName} OWNER TO dm_relays; ` +
        `ALTER SCHEMA public OWNER TO dm_relays;`,
    );
    const env: Record<string, string> = options.leaseMs === undefined
      ? {}
      : { DUPLEXMAP_LEASE_MS: String(options.leaseMs) };
    const relays: ClusterRelay[] = [];
    // One at a time: several relays migrating at once is tested elsewhere, and a 2-core machine
    // starts them about as fast in a row.
    for (let i = 1; i <= count; i++) {
      // Each relay logs in as its own role, so a test can cut one relay's link to the database
      // with SQL and leave the others alone. Every session then acts as one shared owner role,
      // so the tables whichever relay migrates belong to all of them.
      const id = `r${i}`;
      await pg.psql(
        dbName,
        `CREATE ROLE ${id} LOGIN IN ROLE dm_relays; ALTER ROLE ${id} SET role = 'dm_relays';`,
      );
      const args = [
        "--store",
        dbUrl.replace("://dm@", `://${id}@`),
        "--trust-proxy",
        "127.0.0.1",
        ...(options.relayArgs ?? []),
      ];
      const sql = (query: string) => pg.psql(dbName, query);
      const relay = await clusterRelay(id, `relay${i}`, args, env, sql);
      cleanup.defer(() => relay.dispose());
      relays.push(relay);
    }
    const socketDir = await Deno.makeTempDir({ prefix: "duplexmap-haproxy-" });
    cleanup.defer(() => Deno.remove(socketDir, { recursive: true }).catch(() => {}));
    const statsSocket = `${socketDir}/stats.sock`;
    // Relays not started (fewer than 3) point at a port nothing listens on: marked down at once.
    const relayAddrs = Object.fromEntries(
      Array.from({ length: CONFIGURED_RELAYS }, (_, i) => [
        `DM_RELAY${i + 1}_ADDR`,
        `127.0.0.1:${relays[i]?.port ?? 1}`,
      ]),
    );
    const proxy = cleanup.use(
      await startHaproxy({
        config: CLUSTER_CFG,
        relayPort: relays[0].port,
        env: {
          ...relayAddrs,
          DM_STATS_SOCKET: statsSocket,
          DM_HEALTH_INTERVAL: "250ms",
          DM_SLOWSTART: "1s",
          // Every test peer comes from 127.0.0.1 and retries quickly while relays are away; the
          // per-address connection rate (100 per 10 s) would hold them off for the rest of its
          // window, which measures the limit rather than the failover.
          DM_MAX_CONN_RATE_PER_ADDR: "2000",
          ...options.haproxyEnv,
        },
      }),
    );
    const haproxy: ClusterHaproxy = {
      ...proxy,
      url: proxy.httpsUrl,
      stats: (cmd) => statsCommand(statsSocket, cmd),
    };
    const sql = (query: string) => pg.psql(dbName, query);
    const moved = cleanup.move();
    return {
      pg,
      dbUrl,
      dbName,
      relays,
      haproxy,
      relay: (id) => {
        const found = relays.find((r) => r.id === id);
        if (!found) throw new Error(`no relay ${id} in this cluster`);
        return found;
      },
      createMap: (title) => createMap(haproxy.url, title, haproxy.client),
      ownerOf: async (mapId) => {
        const row = await sql(
          `SELECT coalesce(owner, '') || '|' || owner_epoch || '|' || head_seq FROM maps ` +
            `WHERE id = ${literal(mapId)};`,
        );
        if (row === "") return null;
        const [owner, epoch, headSeq] = row.split("|");
        return { owner: owner || null, epoch: Number(epoch), headSeq: Number(headSeq) };
      },
      journal: async (mapId) => {
        const rows = await sql(
          `SELECT seq || '|' || coalesce(client, '') || '|' || coalesce(edit_id, '') FROM edits ` +
            `WHERE map_id = ${literal(mapId)} ORDER BY seq;`,
        );
        return rows === "" ? [] : rows.split("\n").map((line) => {
          const [seq, client, editId] = line.split("|");
          return { seq: Number(seq), client, edit_id: editId };
        });
      },
      sql,
      [Symbol.asyncDispose]: () => moved.disposeAsync(),
    };
  } catch (e) {
    await cleanup.disposeAsync();
    throw e;
  }
}

/** One command on HAProxy's runtime API (a unix socket that answers and closes). */
async function statsCommand(path: string, cmd: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  await conn.write(new TextEncoder().encode(`${cmd}\n`));
  // The readable closes the connection once HAProxy has answered and hung up.
  return await new Response(conn.readable).text();
}

/** A SQL string literal (map ids are base64url; quoting anyway keeps a bad id harmless). */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
