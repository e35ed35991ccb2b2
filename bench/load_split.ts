/** A load run split over several generator processes (whole rooms each), when one process cannot offer it on time. */
import {
  countersBetween,
  type LoadResult,
  type PartResult,
  relayCounters,
  type RunLoadOptions,
  summarize,
} from "./load.ts";
import { ProcSampler, type ProcSummary } from "./proc.ts";

const CHILD = new URL("./load_child.ts", import.meta.url).pathname;

interface Child {
  proc: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Resolves with the next JSON line the child prints. */
  next(): Promise<Record<string, unknown>>;
}

function spawnChild(log: (line: string) => void, quiet: boolean): Child {
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const waiting: ((v: Record<string, unknown>) => void)[] = [];
  const ready: Record<string, unknown>[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, each: (line: string) => void) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        each(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
    if (buffer) each(buffer);
  };
  const exited = proc.status.then((s) => ({ exited: s.code }));
  pump(proc.stdout, (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>;
    const w = waiting.shift();
    if (w) w(msg);
    else ready.push(msg);
  });
  pump(proc.stderr, (line) => {
    if (!quiet || !line.startsWith("  [")) log(line);
  });
  return {
    proc,
    writer: proc.stdin.getWriter(),
    next: () => {
      const m = ready.shift();
      if (m) return Promise.resolve(m);
      return Promise.race([
        new Promise<Record<string, unknown>>((r) => waiting.push(r)),
        exited,
      ]);
    },
  };
}

/**
 * Runs `o.spec` with its rooms dealt round-robin over `generators` processes
 * (`bench/load_child.ts`). Every sender and its readers live in one process, so latency is still
 * measured on one clock; the processes start sending at one shared wall-clock instant. The
 * generator CPU reported is the sum of the children's (and this process's) in the window.
 */
export async function runLoadSplit(o: RunLoadOptions, generators: number): Promise<LoadResult> {
  const { spec, server } = o;
  const enc = new TextEncoder();
  const shares: RunLoadOptions["rooms"][] = Array.from({ length: generators }, () => []);
  o.rooms.slice(0, spec.rooms).forEach((r, i) => shares[i % generators].push(r));
  const serverSampler = new ProcSampler(server.pid);
  const children: Child[] = [];
  try {
    for (const [i, rooms] of shares.entries()) {
      const child = spawnChild(o.log, i > 0);
      children.push(child);
      await child.writer.write(enc.encode(
        JSON.stringify({
          kind: server.kind,
          baseUrl: o.baseUrl ?? server.url,
          rooms,
          spec: { ...spec, rooms: rooms.length },
          label: `${o.label} g${i}`,
          seed: (o.seed ?? 1) + i,
          server: i === 0 ? server.pid : undefined,
        }) + "\n",
      ));
    }
    for (const [i, c] of children.entries()) {
      const m = await c.next();
      if (!m.ready) throw new Error(`generator ${i} did not connect: ${JSON.stringify(m)}`);
    }
    // Let join/presence traffic settle, then start everyone at one instant.
    const start = performance.timeOrigin + performance.now() + 300;
    for (const c of children) await c.writer.write(enc.encode(JSON.stringify({ start }) + "\n"));
    const sendStart = start - performance.timeOrigin;
    const windowStart = sendStart + spec.warmupS * 1000;
    const sendEnd = windowStart + spec.measureS * 1000;
    let window: { server: ProcSampler; gens: ProcSampler[]; system: ProcSampler } | undefined;
    let stopped: { server: ProcSummary; gen: number; system: number } | undefined;
    const countersAt: ReturnType<typeof relayCounters>[] = [];
    const t1 = setTimeout(() => {
      countersAt.push(relayCounters(server));
      window = {
        server: new ProcSampler(server.pid),
        gens: [new ProcSampler("self"), ...children.map((c) => new ProcSampler(c.proc.pid))],
        system: new ProcSampler("system"),
      };
    }, windowStart - performance.now());
    const t2 = setTimeout(() => {
      if (!window) return;
      stopped = {
        server: window.server.stop(),
        gen: window.gens.reduce((sum, g) => sum + g.stop().cpuCores, 0),
        system: window.system.stop().cpuCores,
      };
      countersAt.push(relayCounters(server));
    }, sendEnd - performance.now());
    const parts: PartResult[] = [];
    try {
      for (const [i, c] of children.entries()) {
        const m = await c.next();
        if (!m.result) throw new Error(`generator ${i} failed: ${JSON.stringify(m)}`);
        parts.push(m.result as PartResult);
      }
    } finally {
      clearTimeout(t1);
      clearTimeout(t2);
    }
    return summarize(server.name, spec, sendEnd - sendStart, parts, {
      whole: serverSampler.stop(),
      server: stopped?.server,
      generatorCores: stopped?.gen ?? NaN,
      systemCores: stopped?.system ?? NaN,
      generators,
      sentInWindow: countersAt.length === 2
        ? countersBetween(await countersAt[0], await countersAt[1])
        : undefined,
    });
  } finally {
    try {
      serverSampler.stop();
    } catch {
      // Already stopped.
    }
    for (const c of children) {
      await c.writer.close().catch(() => {});
      const timer = setTimeout(() => {
        try {
          c.proc.kill("SIGKILL");
        } catch {
          // Gone.
        }
      }, 10_000);
      await c.proc.status;
      clearTimeout(timer);
    }
  }
}
