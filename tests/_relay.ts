/** Starts a real relay process on a free loopback port for end-to-end tests, and stops it. */
import { signalQuietly, spawnLines, type StreamName } from "./_process.ts";
import { BINARY_PERMISSIONS } from "../scripts/compile.ts";

const ROOT = new URL("../", import.meta.url);

/** One structured log line written by the relay. */
export type LogLine = Record<string, unknown> & { event: string };

/** A running relay process. */
export interface RelayProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** `ws://127.0.0.1:<port>` */
  wsUrl: string;
  port: number;
  /** The relay's process id (for SIGSTOP/SIGCONT). */
  pid: number;
  /** The data directory (a fresh temp dir unless given). */
  dataDir: string;
  /** Every log line seen so far. */
  logs: LogLine[];
  /** Resolves with the first log line (already seen or future) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends a signal and waits for exit; resolves with the exit code (or signal number + 128). */
  signal(sig: Deno.Signal): Promise<number>;
  /** SIGKILL, without any cleanup by the relay. */
  kill(): Promise<void>;
  /** SIGTERM and wait; safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link startRelay}. */
export interface StartRelayOptions {
  /** Extra command-line flags. */
  args?: string[];
  /** Reuse a data directory (for restart tests). */
  dataDir?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Fixed port (default: 0, a free one). */
  port?: number;
}

/** Starts `main.ts` with `--port 0` and waits for its `listening` log line. */
export async function startRelay(options: StartRelayOptions = {}): Promise<RelayProcess> {
  const dataDir = options.dataDir ?? await Deno.makeTempDir({ prefix: "duplexmap-test-" });
  const args = [
    "run",
    ...BINARY_PERMISSIONS,
    new URL("main.ts", ROOT).pathname,
    "--host",
    "127.0.0.1",
    "--port",
    String(options.port ?? 0),
    ...(options.args?.includes("--memory") ? [] : ["--data", dataDir]),
    ...(options.args ?? []),
  ];
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }>();
  const stderrText: string[] = [];
  const onLine = (text: string, stream: StreamName) => {
    if (stream === "stderr") stderrText.push(text);
    if (!text.startsWith("{")) return;
    try {
      const line = JSON.parse(text) as LogLine;
      logs.push(line);
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    } catch {
      // Not a log line.
    }
  };
  const { child, status: exit } = spawnLines(
    Deno.execPath(),
    // The browser tests read the page through its test hook, `window.duplex`.
    { args, env: { NO_COLOR: "1", DUPLEXMAP_TEST_HOOKS: "1", ...options.env } },
    onLine,
  );
  let exited: number | undefined;
  const status = exit.then((s) => {
    exited = s.signal ? 128 + signalNumber(s.signal) : s.code;
    return exited;
  });
  const waitForLog = (match: (l: LogLine) => boolean, timeoutMs = 10_000) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<LogLine>((resolve, reject) => {
      const w = {
        match,
        resolve: (l: LogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(
          new Error(
            `relay did not log the expected line within ${timeoutMs} ms; stderr:\n${
              stderrText.slice(-20).join("\n")
            }`,
          ),
        );
      }, timeoutMs);
      waiters.add(w);
    });
  };
  const listening = await Promise.race([
    waitForLog((l) => l.event === "listening", 20_000),
    status.then((code) => {
      throw new Error(`relay exited with ${code}:\n${stderrText.join("\n")}`);
    }),
  ]);
  const port = Number(listening.port);
  const signal = async (sig: Deno.Signal) => {
    if (exited === undefined) signalQuietly(child, sig);
    return await status;
  };
  const relay: RelayProcess = {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    pid: child.pid,
    dataDir,
    logs,
    waitForLog,
    signal,
    kill: async () => {
      await signal("SIGKILL");
    },
    stop: async () => {
      await signal("SIGTERM");
    },
    [Symbol.asyncDispose]: async () => {
      await signal("SIGTERM");
      if (!options.dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
  return relay;
}

function signalNumber(sig: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[sig] ?? 0;
}

/** Creates a map through the HTTP API (`client`: e.g. one trusting HAProxy's test CA). */
export async function createMap(
  baseUrl: string,
  title?: string,
  client?: Deno.HttpClient,
): Promise<{ id: string; editKey: string; viewKey: string; editUrl: string; viewUrl: string }> {
  const res = await fetch(`${baseUrl}/api/maps`, {
    client,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(title === undefined ? {} : { title }),
  });
  if (res.status !== 201) {
    throw new Error(`POST /api/maps answered ${res.status}: ${await res.text()}`);
  }
  return await res.json();
}

/** How a relay run that was expected to exit (a refused start, a subcommand) ended. */
export interface RefusedStart {
  /** Exit code (or signal number + 128). */
  code: number;
  /** Lines written to stderr. */
  stderr: string[];
  /** Lines written to stdout that are not log lines. */
  stdout: string[];
  /** Log lines written to stdout. */
  logs: LogLine[];
  /** True when it started listening after all (it was then stopped). */
  listened: boolean;
}

/**
 * Runs `main.ts` with `args` (nothing added) until it exits; a relay that starts listening instead
 * is stopped, and reported with `listened`. Waits `timeoutMs` at most for either.
 */
export async function runRelayToExit(args: string[], timeoutMs = 20_000): Promise<RefusedStart> {
  const stderr: string[] = [];
  const stdout: string[] = [];
  const logs: LogLine[] = [];
  let listened = false;
  const { child, status } = spawnLines(
    Deno.execPath(),
    {
      // The permissions of startRelay and of the compiled binary: no more than the relay has.
      args: [
        "run",
        ...BINARY_PERMISSIONS,
        new URL("main.ts", ROOT).pathname,
        ...args,
      ],
      env: { NO_COLOR: "1" },
    },
    (text, stream) => {
      if (stream === "stderr") stderr.push(text);
      else if (!text.startsWith("{")) stdout.push(text);
      else {
        const line = JSON.parse(text) as LogLine;
        logs.push(line);
        if (line.event === "listening") {
          listened = true;
          signalQuietly(child, "SIGTERM");
        }
      }
    },
  );
  const timer = setTimeout(() => signalQuietly(child, "SIGKILL"), timeoutMs);
  try {
    const s = await status;
    return {
      code: s.signal ? 128 + signalNumber(s.signal) : s.code,
      stderr,
      stdout,
      logs,
      listened,
    };
  } finally {
    clearTimeout(timer);
  }
}
