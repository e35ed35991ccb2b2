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

/** Takes a heap snapshot through the inspector at `url` (a `/json` listing's debugger URL). */
export async function takeSnapshot(url: string): Promise<string> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  const chunks: string[] = [];
  const pending = new Map<number, (result: unknown) => void>();
  let nextId = 0;
  ws.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") chunks.push(message.params.chunk);
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  };
  const call = (method: string, params = {}) =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("HeapProfiler.enable");
  await call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  ws.close();
  return chunks.join("");
}

/** Waits up to `ms` for an inspector to list a target at `port`; its debugger URL. */
export async function inspectorUrl(port: number, ms: number): Promise<string> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json`);
      const list = await res.json() as { webSocketDebuggerUrl: string }[];
      if (list.length > 0) return list[0].webSocketDebuggerUrl;
    } catch {
      // Not listening yet: the bench starts the relay after its own set-up.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no inspector on 127.0.0.1:${port} within ${ms} ms`);
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
