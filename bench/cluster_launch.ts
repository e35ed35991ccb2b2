/** Starts what the cluster benchmark runs on: a throwaway PostgreSQL, N relays on it and HAProxy with haproxy/haproxy-cluster.cfg (TLS) in front. */
import { type PostgresCluster, startPostgres } from "../tests/_postgres.ts";
import { freePort, makeTestCerts, type TestCerts } from "../tests/_haproxy.ts";
import {
  type LineProcess,
  signalQuietly,
  sleep,
  spawnLines,
  terminate,
} from "../tests/_process.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CLUSTER_CFG = `${ROOT}haproxy/haproxy-cluster.cfg`;

/** One relay process of the cluster, restartable on its port. */
export interface BenchRelay {
  /** Its `--relay-id` (what the `maps.owner` column holds): `r1`, `r2`, ... */
  id: string;
  /** Its HAProxy server name: `relay1`, `relay2`, ... */
  server: string;
  port: number;
  /** The current process id (changes on restart). */
  pid: number;
  /** The last lines it wrote. */
  tail: string[];
  /** Sends a signal (SIGKILL, SIGSTOP, SIGCONT, ...) without waiting. */
  kill(signal: Deno.Signal): void;
  /** Waits for the process to exit (after SIGKILL) and starts it again on the same port. */
  restart(): Promise<void>;
}

/** A running cluster. */
export interface BenchCluster {
  pg: PostgresCluster;
  dbUrl: string;
  relays: BenchRelay[];
  /** `https://127.0.0.1:<port>` of HAProxy. */
  url: string;
  /** `wss://127.0.0.1:<port>` of HAProxy. */
  wsBase: string;
  /** An HTTP client trusting the test CA (for `fetch` and `WebSocket`). */
  client: Deno.HttpClient;
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
  log: (line: string) => void;
  /** HAProxy's slowstart for a server set ready. @default "1s" */
  slowstart?: string;
}

/**
 * haproxy-cluster.cfg with `server relayN` lines for N relays: the shipped file's three lines
 * are kept, further ones are added after them the way the file's own comment says.
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

function startRelayProcess(args: string[], onLine: (line: string) => void): LineProcess {
  return spawnLines(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }, onLine);
}

/** Starts PostgreSQL, the relays and HAProxy; everything is stopped and removed on dispose. */
export async function startBenchCluster(o: BenchClusterOptions): Promise<BenchCluster> {
  const stack = new AsyncDisposableStack();
  try {
    const pg = await startPostgres();
    stack.use(pg);
    const dbUrl = await pg.createDatabase("dm_bench_cluster");
    const certs = await makeTestCerts();
    stack.use(certs);
    const dir = await Deno.makeTempDir({ prefix: "duplexmap-bench-cluster-" });
    stack.defer(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
    const relays: BenchRelay[] = [];
    for (let n = 1; n <= o.relays; n++) {
      const relay = await spawnRelay(n, await freePort(), dbUrl, o);
      stack.use(relay);
      relays.push(relay);
    }
    const haproxy = await spawnHaproxy(relays, o, certs, dir);
    stack.use(haproxy);
    const client = Deno.createHttpClient({ caCerts: [certs.caPem] });
    stack.defer(() => client.close());
    const sql = (query: string) => pg.psql("dm_bench_cluster", query);
    const cluster: BenchCluster = {
      pg,
      dbUrl,
      relays,
      url: `https://127.0.0.1:${haproxy.port}`,
      wsBase: `wss://127.0.0.1:${haproxy.port}`,
      client,
      haproxyPid: haproxy.pid,
      stats: haproxy.stats,
      async setServers(ready, maint) {
        for (const s of ready) await haproxy.stats(`set server be_relays/${s} state ready`);
        for (const s of maint) await haproxy.stats(`set server be_relays/${s} state maint`);
        await waitServers(haproxy.stats, ready, 15_000);
      },
      async owners(mapIds) {
        const rows = await sql(
          `SELECT id, coalesce(owner, '') FROM maps WHERE id IN (${
            mapIds.map((id) => `'${id.replace(/[^A-Za-z0-9_-]/g, "")}'`).join(",")
          })`,
        );
        const found = new Map<string, string | null>(mapIds.map((id) => [id, null]));
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

async function spawnRelay(
  n: number,
  port: number,
  dbUrl: string,
  o: BenchClusterOptions,
): Promise<BenchRelay & AsyncDisposable> {
  const id = `r${n}`;
  const tail: string[] = [];
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--store",
    dbUrl,
    "--relay-id",
    id,
    ...(o.leaseMs ? ["--lease-ms", String(o.leaseMs)] : []),
    "--trust-proxy",
    "127.0.0.1",
    ...o.relayArgs,
  ];
  let proc: LineProcess;
  const start = async () => {
    let listening: () => void = () => {};
    const up = new Promise<void>((r) => listening = r);
    proc = startRelayProcess(args, (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (line.includes('"event":"listening"')) listening();
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      up,
      proc.status.then((s) => {
        throw new Error(`relay ${id} exited with ${s.code}:\n${tail.join("\n")}`);
      }),
      new Promise((_, reject) =>
        timer = setTimeout(() => reject(new Error(`relay ${id} did not listen in 60 s`)), 60_000)
      ),
    ]).finally(() => clearTimeout(timer));
  };
  await start();
  const relay = {
    id,
    server: `relay${n}`,
    port,
    get pid() {
      return proc.child.pid;
    },
    tail,
    kill: (signal: Deno.Signal) => signalQuietly(proc.child, signal),
    restart: async () => {
      signalQuietly(proc.child, "SIGCONT");
      signalQuietly(proc.child, "SIGKILL");
      await proc.status;
      // The port was ours a moment ago: retry while the kernel still holds it.
      for (let attempt = 1;; attempt++) {
        try {
          await start();
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await sleep(300);
        }
      }
    },
    [Symbol.asyncDispose]: async () => {
      signalQuietly(proc.child, "SIGCONT");
      await terminate(proc, 3000);
    },
  };
  return relay;
}

async function spawnHaproxy(
  relays: BenchRelay[],
  o: BenchClusterOptions,
  certs: TestCerts,
  dir: string,
) {
  const cfg = `${dir}/haproxy-cluster.cfg`;
  await Deno.writeTextFile(cfg, clusterConfig(await Deno.readTextFile(CLUSTER_CFG), relays.length));
  const socket = `${dir}/stats.sock`;
  const port = await freePort();
  const env: Record<string, string> = {
    DM_BIND_ADDR: "127.0.0.1",
    DM_HTTPS_PORT: String(port),
    DM_HTTP_PORT: String(await freePort()),
    DM_CERT: certs.combinedFile,
    DM_ACME_ADDR: `127.0.0.1:${await freePort()}`,
    DM_STATS_SOCKET: socket,
    // Every benchmark peer comes from one address: the per-address caps are abuse limits.
    DM_MAX_CONN_PER_ADDR: "100000",
    DM_MAX_CONN_RATE_PER_ADDR: "100000",
    DM_MAXCONN: "4000",
    DM_HARD_STOP_AFTER: "5s",
    DM_CLOSE_SPREAD_TIME: "0s",
    DM_SLOWSTART: o.slowstart ?? "1s",
    ...(Deno.uid() === 0 ? {} : { DM_UNPRIVILEGED: "1" }),
  };
  relays.forEach((r, i) => env[`DM_RELAY${i + 1}_ADDR`] = `127.0.0.1:${r.port}`);
  const tail: string[] = [];
  const proc = spawnLines("haproxy", { args: ["-db", "-f", cfg], env }, (line) => {
    tail.push(line);
    if (tail.length > 30) tail.shift();
  });
  for (let i = 0;; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (i > 200) {
        signalQuietly(proc.child, "SIGKILL");
        throw new Error(`haproxy did not listen:\n${tail.join("\n")}`);
      }
      await sleep(50);
    }
  }
  const stats = async (command: string): Promise<string> => {
    const conn = await Deno.connect({ transport: "unix", path: socket });
    await conn.write(new TextEncoder().encode(`${command}\n`));
    const answer = await new Response(conn.readable).text();
    return answer.trim();
  };
  return {
    port,
    pid: proc.child.pid,
    stats,
    [Symbol.asyncDispose]: async () => {
      await terminate(proc, 3000);
    },
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
