/** Starts the servers under test (the relay and the baselines) as child processes on free loopback ports. */
import {
  type LineProcess,
  listeningPort,
  signalQuietly,
  spawnLines,
  terminate,
} from "../tests/_process.ts";

/** Which wire a server speaks: the v1 protocol, raw room broadcast, or Socket.IO. */
export type ServerKind = "relay" | "raw" | "socketio";

/** The servers the benchmark knows. */
export type ServerName = "relay" | "deno" | "node-ws" | "socketio";

/** A running server. */
export interface ServerProcess {
  name: ServerName;
  kind: ServerKind;
  /** Process id, for /proc sampling. */
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Stops it (SIGTERM, then SIGKILL after a grace period) and removes its data. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options for {@link startServer}. */
export interface StartServerOptions {
  /** Extra flags for the relay (limits raised for load). */
  relayArgs?: string[];
  /** Deno flags put before the relay's main.ts (for example `--cpu-prof`). */
  relayDenoFlags?: string[];
  /** Called with each stdout/stderr line, for debugging. */
  onLine?: (line: string) => void;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** Starts one server and waits for its `{"event":"listening","port":N}` line. */
export async function startServer(
  name: ServerName,
  options: StartServerOptions = {},
): Promise<ServerProcess> {
  let dataDir: string | undefined;
  let cmd: string;
  let args: string[];
  let kind: ServerKind;
  switch (name) {
    case "relay":
      dataDir = await Deno.makeTempDir({ prefix: "duplexmap-bench-" });
      cmd = Deno.execPath();
      args = [
        "run",
        "-A",
        ...(options.relayDenoFlags ?? []),
        `${ROOT}main.ts`,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data",
        dataDir,
        ...(options.relayArgs ?? []),
      ];
      kind = "relay";
      break;
    case "deno":
      cmd = Deno.execPath();
      args = ["run", "-A", `${ROOT}bench/baselines/deno_broadcast.ts`, "0"];
      kind = "raw";
      break;
    case "node-ws":
      cmd = "node";
      args = [`${ROOT}bench/baselines/node_ws.mjs`, "0"];
      kind = "raw";
      break;
    case "socketio":
      cmd = "node";
      args = [`${ROOT}bench/baselines/socketio.mjs`, "0"];
      kind = "socketio";
      break;
  }
  const tail: string[] = [];
  let resolvePort: (port: number) => void = () => {};
  const portSeen = new Promise<number>((r) => resolvePort = r);
  const onLine = (line: string) => {
    options.onLine?.(line);
    tail.push(line);
    if (tail.length > 30) tail.shift();
    const port = listeningPort(line);
    if (port !== undefined) resolvePort(port);
  };
  let proc: LineProcess;
  try {
    proc = spawnLines(cmd, { args, cwd: ROOT, env: { NO_COLOR: "1" } }, onLine);
  } catch (e) {
    throw new Error(`cannot start ${name} (${cmd}): ${e instanceof Error ? e.message : e}`);
  }
  const { child, status } = proc;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const port = await Promise.race([
    portSeen,
    status.then((s) => {
      throw new Error(`${name} exited with ${s.code} before listening:\n${tail.join("\n")}`);
    }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name} did not log "listening" in 30 s:\n${tail.join("\n")}`)),
        30_000,
      );
    }),
  ]).finally(() => clearTimeout(timer)).catch(async (e) => {
    signalQuietly(child, "SIGKILL");
    await status;
    throw e;
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await terminate(proc, 3000);
      if (dataDir) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    })();
  return {
    name,
    kind,
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
