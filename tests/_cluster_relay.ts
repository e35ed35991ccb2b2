/** One relay of a test cluster (tests/_cluster.ts): its process across restarts, signals, health, metrics, database link. */
import { startRelay } from "./_relay.ts";
import type { LogLine, RelayProcess } from "./_relay.ts";

/** One relay of the cluster; it keeps its id, port and logs across restarts. */
export interface ClusterRelay {
  /** Its relay id (`r1`, `r2`, ...): what the `maps.owner` column holds when it owns a map. */
  readonly id: string;
  /** Its server in HAProxy's `be_relays` (`relay1`, ...), for {@link ClusterHaproxy.stats}. */
  readonly server: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>`: the relay itself, bypassing HAProxy. */
  readonly url: string;
  /** `ws://127.0.0.1:<port>`: the relay itself, bypassing HAProxy. */
  readonly wsUrl: string;
  /** The current process's id. */
  readonly pid: number;
  /** The current process. */
  readonly process: RelayProcess;
  /** Every log line of every process this relay ran as, in order (a copy). */
  readonly logs: LogLine[];
  /**
   * Sends a signal. SIGKILL and SIGTERM wait until the process has exited; SIGSTOP and SIGCONT
   * (freeze, resume) return at once. @default "SIGKILL"
   */
  kill(signal?: Deno.Signal): Promise<void>;
  /** Starts it again on the same port with the same id (killing it first if it still runs). */
  restart(): Promise<void>;
  /** `GET /healthz` on the relay itself: status and parsed body. */
  healthz(): Promise<{ status: number; body: Record<string, unknown> }>;
  /** The sum of a metric's samples in `/metrics` (those whose labels contain `labels`, if given). */
  metric(name: string, labels?: string): Promise<number>;
  /**
   * Cuts this relay's link to the database, and only this relay's: its sessions are ended
   * (`pg_terminate_backend`) and new ones refused as PostgreSQL refuses them when it has no
   * connection slot left (its role's connection limit set to 0: "too many connections").
   * {@link ClusterRelay.restoreDatabase} lets it in again.
   */
  cutDatabase(): Promise<number>;
  /** Ends a {@link ClusterRelay.cutDatabase}. */
  restoreDatabase(): Promise<void>;
}

/**
 * Starts relay `id` (`DUPLEXMAP_RELAY_ID`) with `args`; the wrapper survives restarts, and
 * `dispose` kills whatever process it runs. `sql` runs SQL as the test's superuser.
 */
export async function clusterRelay(
  id: string,
  server: string,
  args: string[],
  env: Record<string, string>,
  sql: (query: string) => Promise<string>,
): Promise<ClusterRelay & { dispose(): Promise<void> }> {
  const start = (port?: number) =>
    startRelay({ args, port, env: { ...env, DUPLEXMAP_RELAY_ID: id } });
  // The log lines of the processes before the current one.
  const earlier: LogLine[] = [];
  let process = await start();
  const port = process.port;
  const url = `http://127.0.0.1:${port}`;
  const kill = async (signal: Deno.Signal = "SIGKILL") => {
    if (signal === "SIGKILL" || signal === "SIGTERM") {
      // A frozen process only acts on SIGTERM once resumed.
      if (signal === "SIGTERM") resume(process);
      await process.signal(signal);
    } else {
      try {
        Deno.kill(process.pid, signal);
      } catch {
        // Already gone.
      }
    }
  };
  const dispose = async () => {
    resume(process);
    await process.kill();
    await process[Symbol.asyncDispose]();
  };
  return {
    id,
    server,
    port,
    url,
    wsUrl: `ws://127.0.0.1:${port}`,
    get pid() {
      return process.pid;
    },
    get process() {
      return process;
    },
    get logs() {
      return [...earlier, ...process.logs];
    },
    kill,
    restart: async () => {
      await dispose();
      earlier.push(...process.logs);
      process = await start(port);
    },
    healthz: async () => {
      const res = await fetch(`${url}/healthz`);
      return { status: res.status, body: await res.json() };
    },
    metric: async (name, labels) => {
      const res = await fetch(`${url}/metrics`);
      return sumMetric(await res.text(), name, labels);
    },
    cutDatabase: async () => {
      await sql(`ALTER ROLE ${id} CONNECTION LIMIT 0;`);
      return Number(
        await sql(
          `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '${id}';`,
        ),
      );
    },
    restoreDatabase: async () => {
      await sql(`ALTER ROLE ${id} CONNECTION LIMIT -1;`);
    },
    dispose,
  };
}

function resume(process: RelayProcess): void {
  try {
    Deno.kill(process.pid, "SIGCONT");
  } catch {
    // Already gone.
  }
}

/**
 * The sum of the samples of `name` in Prometheus text (histogram/summary parts excluded unless
 * named), keeping those whose label text contains `labels` when given.
 */
export function sumMetric(text: string, name: string, labels?: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    if (labels !== undefined && !(match[2] ?? "").includes(labels)) continue;
    sum += Number(match[3]);
  }
  return sum;
}
