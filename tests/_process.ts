/** Spawns a helper process (relay, HAProxy, tinyproxy, a benchmark server) and reads its output line by line. */

/** Which of the child's output streams a line came from. */
export type StreamName = "stdout" | "stderr";

/** A spawned child whose output is being read. */
export interface LineProcess {
  child: Deno.ChildProcess;
  /** The exit status, once the child has exited and both streams are read to the end. */
  status: Promise<Deno.CommandStatus>;
}

/**
 * Spawns `cmd` with stdin closed and both output streams piped, and calls `onLine` for every line
 * of either (a last line without a newline too). Both streams are always read to the end: a
 * child that logs a lot would otherwise stall on a full pipe.
 */
export function spawnLines(
  cmd: string | URL,
  options: Omit<Deno.CommandOptions, "stdin" | "stdout" | "stderr">,
  onLine: (line: string, stream: StreamName) => void,
): LineProcess {
  const child = new Deno.Command(cmd, {
    ...options,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const pump = async (stream: ReadableStream<Uint8Array>, name: StreamName) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        onLine(line, name);
      }
    }
    if (buffer) onLine(buffer, name);
  };
  const pumps = Promise.all([pump(child.stdout, "stdout"), pump(child.stderr, "stderr")]);
  const status = child.status.then(async (s) => {
    await pumps.catch(() => {});
    return s;
  });
  return { child, status };
}

/** Sends a signal unless the child is already gone (then there is nothing to stop). */
export function signalQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch {
    // Already exited.
  }
}

/** Asks the child to stop (SIGTERM), kills it if it has not exited after `graceMs`, and waits. */
export async function terminate(
  process: LineProcess,
  graceMs: number,
): Promise<Deno.CommandStatus> {
  signalQuietly(process.child, "SIGTERM");
  const grace = setTimeout(() => signalQuietly(process.child, "SIGKILL"), graceMs);
  try {
    return await process.status;
  } finally {
    clearTimeout(grace);
  }
}

/** The port in a `{"event":"listening","port":N}` log line (the relay's and the baselines'). */
export function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening"')) return undefined;
  try {
    const parsed = JSON.parse(line);
    const port = Number(parsed.port);
    return parsed.event === "listening" && port > 0 ? port : undefined;
  } catch {
    return undefined; // Not JSON after all.
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every `everyMs` until it holds; throws an error naming `what` once `timeoutMs`
 * has passed (a bound on waiting, never a measurement).
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!await check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting: ${what}`);
    await sleep(everyMs);
  }
}
