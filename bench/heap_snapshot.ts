/**
 * What the relay's JavaScript heap holds at one moment of a load: connects to the inspector of a
 * relay started with `bench/main.ts --relay-inspect`, waits, takes a heap snapshot (V8 collects
 * everything unreachable first, so it counts live objects only) and prints where the bytes are:
 * by kind of object, and the strings over 1 KiB by how they begin (edit frames, features'
 * properties, the bundled client). A running total of the heap (`/metrics` `heap_bytes`) or the
 * RSS says how much the heap grew; this says how much of it is still alive.
 *
 * ```sh
 * deno run -A bench/heap_snapshot.ts [--after 14] [--port 9229] [--out FILE.heapsnapshot] &
 * deno run -A bench/main.ts --full --only s2 --servers relay --no-write --relay-inspect
 * ```
 */
import { parseArgs } from "node:util";

/** A V8 heap snapshot, the parts read here. */
interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Bytes and count of one group of heap objects. */
export interface HeapGroup {
  key: string;
  bytes: number;
  count: number;
}

/** A snapshot's live bytes, by kind of object and, for strings over `bigBytes`, by how they begin. */
export function summarizeSnapshot(
  snap: HeapSnapshot,
  bigBytes = 1024,
  prefixChars = 14,
): { total: number; strings: number; kinds: HeapGroup[]; bigStrings: HeapGroup[] } {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const kinds = new Map<string, HeapGroup>();
  const big = new Map<string, HeapGroup>();
  const add = (groups: Map<string, HeapGroup>, key: string, bytes: number) => {
    const group = groups.get(key) ?? { key, bytes: 0, count: 0 };
    group.bytes += bytes;
    group.count++;
    groups.set(key, group);
  };
  let total = 0;
  let strings = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const name = snap.strings[snap.nodes[i + nameAt]];
    const bytes = snap.nodes[i + sizeAt];
    total += bytes;
    const isString = type === "string" || type.endsWith(" string");
    if (isString) strings += bytes;
    add(
      kinds,
      isString ? `(${type})` : type === "code" ? "(code)" : `${type}: ${name.slice(0, 50)}`,
      bytes,
    );
    if (type === "string" && bytes > bigBytes) add(big, name.slice(0, prefixChars), bytes);
  }
  const top = (groups: Map<string, HeapGroup>) =>
    [...groups.values()].sort((a, b) => b.bytes - a.bytes);
  return { total, strings, kinds: top(kinds), bigStrings: top(big) };
}

/**
 * Takes a heap snapshot through the inspector at `url` (a `/json` listing's debugger URL); fails
 * when the inspector answers with an error, closes first, or takes longer than `timeoutMs`.
 */
export async function takeSnapshot(url: string, timeoutMs = 120_000): Promise<string> {
  const ws = new WebSocket(url);
  const chunks: string[] = [];
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(message.params.chunk);
    const call = message.id === undefined ? undefined : pending.get(message.id);
    if (!call) return;
    pending.delete(message.id);
    if (message.error) call.reject(new Error(`inspector: ${JSON.stringify(message.error)}`));
    else call.resolve();
  };
  // Whatever ends the exchange early (the socket closing, the time running out) rejects `until`.
  const stopped = Promise.withResolvers<never>();
  stopped.promise.catch(() => {});
  const until = <T>(step: Promise<T>) => Promise.race([step, stopped.promise]);
  ws.onclose = () => stopped.reject(new Error(`the inspector at ${url} closed`));
  ws.onerror = () => {};
  const timer = setTimeout(
    () => stopped.reject(new Error(`no heap snapshot within ${timeoutMs} ms`)),
    timeoutMs,
  );
  let nextId = 0;
  const call = (method: string, params = {}) =>
    new Promise<void>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  try {
    await until(new Promise<void>((resolve) => ws.onopen = () => resolve()));
    await until(call("HeapProfiler.enable"));
    await until(call("HeapProfiler.takeHeapSnapshot", { reportProgress: false }));
    return chunks.join("");
  } finally {
    clearTimeout(timer);
    ws.onclose = null;
    ws.close();
  }
}

/**
 * Waits up to `ms` for an inspector at `port` to list the main module (`target`, the end of its
 * URL): the relay's workers are listed there too, each with its own heap.
 */
export async function inspectorUrl(port: number, ms: number, target = "/main.ts"): Promise<string> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json`);
      const list = await res.json() as { url: string; webSocketDebuggerUrl: string }[];
      const main = list.find((t) => t.url.endsWith(target));
      if (main) return main.webSocketDebuggerUrl;
    } catch {
      // Not listening yet: the bench starts the relay after its own set-up.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no inspector for ${target} on 127.0.0.1:${port} within ${ms} ms`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "9229" },
      after: { type: "string", default: "14" },
      out: { type: "string" },
    },
  });
  const url = await inspectorUrl(Number(values.port), 120_000);
  const seen = performance.now();
  await new Promise((resolve) => setTimeout(resolve, Number(values.after) * 1000));
  const text = await takeSnapshot(url);
  if (values.out) await Deno.writeTextFile(values.out, text);
  const summary = summarizeSnapshot(JSON.parse(text));
  const mb = (bytes: number) => (bytes / 1e6).toFixed(2).padStart(8);
  console.log(
    `heap snapshot ${((performance.now() - seen) / 1000).toFixed(1)} s after the relay's ` +
      `inspector answered: ${mb(summary.total)} MB live, ${mb(summary.strings)} MB of it strings`,
  );
  console.log("by kind:");
  for (const g of summary.kinds.slice(0, 15)) {
    console.log(`${mb(g.bytes)} MB ${String(g.count).padStart(8)}  ${g.key}`);
  }
  console.log("strings over 1 KiB, by how they begin:");
  for (const g of summary.bigStrings.slice(0, 10)) {
    console.log(`${mb(g.bytes)} MB ${String(g.count).padStart(8)}  ${JSON.stringify(g.key)}`);
  }
}
