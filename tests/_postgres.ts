/** A throwaway PostgreSQL 15 cluster for tests: initdb in a temp dir as `postgres`, a free port, removed at the end. */
import { freePort, run } from "./_haproxy.ts";

/** Where Debian's PostgreSQL 15 puts its server programs. */
const PG_BIN = Deno.env.get("DUPLEXMAP_PG_BIN") ?? "/usr/lib/postgresql/15/bin";
/** The superuser initdb creates (trust authentication on loopback only). */
const PG_USER = "dm";

/** A running test cluster. */
export interface PostgresCluster {
  /** Its data directory (owned by the `postgres` user when the tests run as root). */
  dir: string;
  /** Its port on 127.0.0.1. */
  port: number;
  /** `postgres://dm@127.0.0.1:PORT/DB` for a database made by {@link PostgresCluster.createDatabase}. */
  url(database: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL with `psql` against `database` and returns its unaligned output. */
  psql(database: string, sql: string): Promise<string>;
  /** Stops the server: `fast` (clean) or `immediate` (a crash: no checkpoint, WAL replayed at start). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Ends every other session on `database` (`pg_terminate_backend`); returns how many. */
  terminateBackends(database: string): Promise<number>;
  /** Stops the server (immediately) and deletes its directory; safe to call twice. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

/**
 * Creates a cluster in a fresh temp directory and starts it on a free loopback port. PostgreSQL
 * refuses to run as root, so when the tests run as root the cluster belongs to the `postgres`
 * user the Debian package creates, and its programs run through `runuser`. Fails (never skips)
 * naming what to install when PostgreSQL is missing.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  try {
    await Deno.stat(`${PG_BIN}/initdb`);
  } catch {
    throw new Error(
      `PostgreSQL 15 is required for this test but ${PG_BIN}/initdb is missing ` +
        "(apt-get install -y postgresql, or run scripts/ensure_test_deps.sh)",
    );
  }
  const asRoot = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-pg-" });
  if (asRoot) await must("chown", ["postgres:postgres", dir]);
  const as = (cmd: string, args: string[]) =>
    asRoot ? must("runuser", ["-u", "postgres", "--", cmd, ...args]) : must(cmd, args);
  await as(`${PG_BIN}/initdb`, ["-D", `${dir}/data`, "-A", "trust", "-U", PG_USER, "-E", "UTF8"]);
  const port = await freePort();
  const settings = {
    listen_addresses: "127.0.0.1",
    fsync: "on",
    ...options.settings,
  };
  const serverArgs = [
    `-p ${port}`,
    `-k ${dir}`,
    ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`),
  ].join(" ");
  let running = false;
  const start = async () => {
    await as(`${PG_BIN}/pg_ctl`, [
      "-D",
      `${dir}/data`,
      "-o",
      serverArgs,
      "-l",
      `${dir}/log`,
      "-w",
      "-t",
      "60",
      "start",
    ]);
    running = true;
  };
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    if (!running) return;
    running = false;
    await as(`${PG_BIN}/pg_ctl`, ["-D", `${dir}/data`, "-m", mode, "-w", "stop"]);
  };
  const url = (database: string) => `postgres://${PG_USER}@127.0.0.1:${port}/${database}`;
  const psql = async (database: string, sql: string) => {
    const out = await run("psql", ["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", url(database)], {
      stdin: sql,
    });
    if (!out.success) throw new Error(`psql failed: ${out.stderr}`);
    return out.stdout.trim();
  };
  let databases = 0;
  await start();
  let disposed = false;
  return {
    dir,
    port,
    url,
    psql,
    stop,
    start,
    async createDatabase(name?: string) {
      const db = name ?? `dm_test_${++databases}`;
      await psql("postgres", `CREATE DATABASE ${db};`);
      return url(db);
    },
    async terminateBackends(database: string) {
      const n = await psql(
        "postgres",
        `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity ` +
          `WHERE datname = '${database}' AND pid <> pg_backend_pid();`,
      );
      return Number(n);
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      await stop("immediate").catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Runs a command and throws with its output when it fails. */
async function must(cmd: string, args: string[]): Promise<void> {
  const out = await run(cmd, args);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${out.code}):\n${out.stderr}${out.stdout}`);
  }
}
