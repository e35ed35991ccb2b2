/** Starts what the cluster benchmark runs on: a throwaway PostgreSQL, N relays on it and HAProxy with haproxy/haproxy-cluster.cfg (TLS) in front. */
import { type PostgresCluster, startPostgres } from "../tests/_postgres.ts";
import { type HaproxyProcess, startHaproxy } from "../tests/_haproxy.ts";
import { type LogLine, type RelayProcess, startRelay } from "../tests/_relay.ts";
import { sleep } from "../tests/_process.ts";
import { childPids } from "./proc.ts";

const CLUSTER_CFG = new URL("../haproxy/haproxy-cluster.cfg", import.meta.url).pathname;

/**
 * One relay process of the cluster, restartable on its port. tests/_cluster.ts has the same for
 * the three servers haproxy-cluster.cfg ships with; the benchmark adds a fourth.
 */
export interface BenchRelay {
  /** Its relay id (what the `maps.owner` column holds): `r1`, `r2`, ... */
  id: string;
  /** Its HAProxy server name: `relay1`, `relay2`, ... */
  server: string;
  port: number;
  /** The current process id (changes on restart). */
  readonly pid: number;
  /** The current process's log lines. */
  readonly logs: LogLine[];
  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT, ...) without waiting. */
  kill(signal: Deno.Signal): void;
  /** Kills the process (if it still runs) and starts it again on the same port. */
  restart(): Promise<void>;
}

/** A running cluster. */
export interface BenchCluster {
  pg: PostgresCluster;
  dbUrl: string;
  relays: BenchRelay[];
  /** HAProxy (its `client` trusts the test CA, its `webSocket` opens `wss://` paths). */
  haproxy: HaproxyProcess;
  /** `https://127.0.0.1:<port>` of HAProxy. */
  url: string;
  /** HAProxy's process id. */
  haproxyPid: number;
  /** One command on HAProxy's stats socket (runtime API); its answer. */
  stats(command: string): Promise<string>;
  /** `set server be_relays/<server> state ready|maint`, then waits until HAProxy agrees. */
  setServers(ready: string[], maint: string[]): Promise<void>;
  /** Owner relay id of each map (`maps.owner`; null while nobody holds it). */
  owners(mapIds: string[]): Promise<Map<string, string | null>>;
  /** SQL on the cluster's database through psql (unaligned, `|`-separated). */
  sql(query: string): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link startBenchCluster}. */
export interface BenchClusterOptions {
  /** Relay processes (and HAProxy servers); those past `active` start in maint. */
  relays: number;
  active: number;
  leaseMs?: number;
  relayArgs: string[];
  /** HAProxy's slowstart for a server set ready. @default "1s" */
  slowstart?: string;
}

/**
 * haproxy-cluster.cfg with `server relayN` lines for N relays: the shipped file's lines are
 * kept, further ones are added after them the way the file's own comment says.
 */
export function clusterConfig(text: string, relays: number): string {
  const lines = text.split("\n");
  const last = lines.findLastIndex((l) => /^\s*server relay\d+ /.test(l));
  if (last < 0) throw new Error("haproxy-cluster.cfg has no `server relayN` line");
  const indent = /^\s*/.exec(lines[last])![0];
  const present = lines.filter((l) => /^\s*server relay\d+ /.test(l)).length;
  const extra = [];
  for (let n = present + 1; n <= relays; n++) {
    extra.push(`${indent}server relay${n} "\${DM_RELAY${n}_ADDR}"`);
  }
  lines.splice(last + 1, 0, ...extra);
  return lines.join("\n");
}

/** Starts PostgreSQL, the relays and HAProxy; everything is stopped and removed on dispose. */
export async function startBenchCluster(o: BenchClusterOptions): Promise<BenchCluster> {
  const stack = new AsyncDisposableStack();
  try {
    const pg = await startPostgres();
    stack.use(pg);
    const dbUrl = await pg.createDatabase("dm_bench_cluster");
    const dir = await Deno.makeTempDir({ prefix: "duplexmap-bench-cluster-" });
    stack.defer(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
    const relays: BenchRelay[] = [];
    for (let n = 1; n <= o.relays; n++) {
      const relay = await benchRelay(n, dbUrl, o);
      stack.use(relay);
      relays.push(relay);
    }
    const config = `${dir}/haproxy-cluster.cfg`;
    await Deno.writeTextFile(
      config,
      clusterConfig(await Deno.readTextFile(CLUSTER_CFG), relays.length),
    );
    const socket = `${dir}/stats.sock`;
    const before = new Set(childPids(Deno.pid, "haproxy"));
    const haproxy = await startHaproxy({
      config,
      relayPort: relays[0].port,
      env: {
        ...Object.fromEntries(
          relays.map((r, i) => [`DM_RELAY${i + 1}_ADDR`, `127.0.0.1:${r.port}`]),
        ),
        DM_STATS_SOCKET: socket,
        // Every benchmark peer comes from one address: the per-address caps are abuse limits.
        DM_MAX_CONN_PER_ADDR: "100000",
        DM_MAX_CONN_RATE_PER_ADDR: "100000",
        // Each HAProxy connection takes two descriptors; its maxconn must fit the open-file limit.
        DM_MAXCONN: "4000",
        DM_SLOWSTART: o.slowstart ?? "1s",
      },
    });
    stack.use(haproxy);
    const haproxyPid = childPids(Deno.pid, "haproxy").find((p) => !before.has(p)) ?? NaN;
    const stats = async (command: string): Promise<string> => {
      const conn = await Deno.connect({ transport: "unix", path: socket });
      await conn.write(new TextEncoder().encode(`${command}\n`));
      // HAProxy answers one command and hangs up.
      return (await new Response(conn.readable).text()).trim();
    };
    const sql = (query: string) => pg.psql("dm_bench_cluster", query);
    const cluster: BenchCluster = {
      pg,
      dbUrl,
      relays,
      haproxy,
      url: haproxy.httpsUrl,
      haproxyPid,
      stats,
      async setServers(ready, maint) {
        for (const s of ready) await stats(`set server be_relays/${s} state ready`);
        for (const s of maint) await stats(`set server be_relays/${s} state maint`);
        await waitServers(stats, ready, 20_000);
      },
      async owners(mapIds) {
        const found = new Map<string, string | null>(mapIds.map((id) => [id, null]));
        if (mapIds.length === 0) return found;
        const rows = await sql(
          `SELECT id, coalesce(owner, '') FROM maps WHERE id IN (${
            mapIds.map((id) => `'${id.replaceAll("'", "''")}'`).join(",")
          })`,
        );
        for (const line of rows.split("\n").filter(Boolean)) {
          const [id, owner] = line.split("|");
          found.set(id, owner || null);
        }
        return found;
      },
      sql,
      [Symbol.asyncDispose]: () => stack.disposeAsync(),
    };
    await cluster.setServers(
      relays.slice(0, o.active).map((r) => r.server),
      relays.slice(o.active).map((r) => r.server),
    );
    return cluster;
  } catch (e) {
    await stack.disposeAsync();
    throw e;
  }
}

/** Relay `n` (`--relay-id rN` by its environment variable) on the shared database. */
async function benchRelay(
  n: number,
  dbUrl: string,
  o: BenchClusterOptions,
): Promise<BenchRelay & AsyncDisposable> {
  const id = `r${n}`;
  const env = {
    DUPLEXMAP_RELAY_ID: id,
    ...(o.leaseMs ? { DUPLEXMAP_LEASE_MS: String(o.leaseMs) } : {}),
  };
  const args = ["--store", dbUrl, "--trust-proxy", "127.0.0.1", ...o.relayArgs];
  let process: RelayProcess = await startRelay({ args, env });
  const port = process.port;
  const signal = (sig: Deno.Signal) => {
    try {
      Deno.kill(process.pid, sig);
    } catch {
      // Already gone.
    }
  };
  const end = async () => {
    signal("SIGCONT");
    await process.kill();
    await process[Symbol.asyncDispose]();
  };
  return {
    id,
    server: `relay${n}`,
    port,
    get pid() {
      return process.pid;
    },
    get logs() {
      return process.logs;
    },
    kill: signal,
    restart: async () => {
      await end();
      // The port was ours a moment ago: retry while the kernel still holds it.
      for (let attempt = 1;; attempt++) {
        try {
          process = await startRelay({ args, env, port });
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await sleep(300);
        }
      }
    },
    [Symbol.asyncDispose]: end,
  };
}

/** Waits until every server in `ready` is up (operational state 2) as HAProxy sees it. */
async function waitServers(
  stats: (c: string) => Promise<string>,
  ready: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await stats("show servers state be_relays");
    const lines = text.split("\n");
    const head = lines.find((l) => l.startsWith("# be_id"))?.slice(2).split(" ") ?? [];
    const [nameAt, stateAt] = [head.indexOf("srv_name"), head.indexOf("srv_op_state")];
    const up = new Set(
      lines.filter((l) => /^\d/.test(l)).map((l) => l.split(" "))
        .filter((f) => f[stateAt] === "2").map((f) => f[nameAt]),
    );
    if (ready.every((s) => up.has(s))) return;
    if (Date.now() > deadline) {
      throw new Error(`HAProxy did not see ${ready.join(", ")} up in time:\n${text}`);
    }
    await sleep(100);
  }
}
