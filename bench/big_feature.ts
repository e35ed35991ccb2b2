/**
 * What one big feature (Natural Earth 10m Canada, 68 099 positions) and one big import (the 255
 * countries) cost every peer: validation, memory, frame, snapshot and catch-up bytes, delivery.
 *
 * deno run -A --v8-flags=--expose-gc bench/big_feature.ts [--peers 8]
 */
import { feature } from "topojson-client";
import { applyOps } from "../relay/edit_ops.ts";
import { DEFAULT_LIMITS } from "../relay/limits.ts";
import { createClientMessageSchema, parseFrame } from "../relay/protocol.ts";
import type { EditOp } from "../relay/protocol.ts";
import { readProc } from "./proc.ts";
import { startServer } from "./servers.ts";

type Topology = Parameters<typeof feature>[0];
type Fc = { features: { id?: string; geometry: unknown; properties: { name: string } }[] };

const peersArg = Deno.args.indexOf("--peers");
const PEERS = peersArg >= 0 ? Number(Deno.args[peersArg + 1]) : 8;
const MB = (n: number) => `${(n / (1 << 20)).toFixed(2)} MiB`;
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const topo = JSON.parse(
  await Deno.readTextFile(
    new URL("../node_modules/world-atlas/countries-10m.json", import.meta.url),
  ),
) as Topology;
const countries = feature(topo, topo.objects.countries) as unknown as Fc;
const canada = countries.features.find((f) => f.properties.name === "Canada")!;
const put: EditOp = {
  op: "put",
  feature: {
    type: "Feature",
    id: "canada",
    geometry: canada.geometry as never,
    properties: canada.properties,
  },
};
const frame = JSON.stringify({ type: "edit", id: "e-1", ops: [put] });
const frameBytes = new TextEncoder().encode(frame).length;

// Validation and applying, in process, as the relay does for every inbound edit.
const schema = createClientMessageSchema();
const parseMs: number[] = [];
const applyMs: number[] = [];
for (let i = 0; i < 15; i++) {
  let t = performance.now();
  const parsed = parseFrame(frame, schema);
  parseMs.push(performance.now() - t);
  if (!parsed.ok || !parsed.items[0].ok) throw new Error("Canada did not validate");
  t = performance.now();
  const applied = applyOps(new Map(), [put], DEFAULT_LIMITS);
  applyMs.push(performance.now() - t);
  if (!applied.ok) throw new Error(applied.message);
}

// Heap held by one parsed copy: every map's state and every page's document hold one.
gc();
const before = Deno.memoryUsage().heapUsed;
const copies = Array.from({ length: 10 }, () => JSON.parse(frame));
gc();
const heapPerCopy = (Deno.memoryUsage().heapUsed - before) / copies.length;

console.log("## Natural Earth 10m Canada as one edit");
console.log(`positions: 68 099; edit frame: ${MB(frameBytes)} (${frameBytes} bytes)`);
console.log(
  `validate (parseFrame, JSON.parse + schema + geometry): median ${median(parseMs).toFixed(1)} ms`,
);
console.log(`apply (vertex count, props size): median ${median(applyMs).toFixed(2)} ms`);
console.log(`heap per parsed copy: ${MB(heapPerCopy)}`);
console.log(
  `catch-up window (--recent-bytes ${MB(DEFAULT_LIMITS.recentBytes)}): ${
    Math.floor(DEFAULT_LIMITS.recentBytes / frameBytes)
  } such edits`,
);

// A real relay: one author, PEERS watchers; then the whole file through the import API and a late
// joiner's welcome.
await using relay = await startServer("relay");
const map = await (await fetch(`${relay.url}/api/maps`, { method: "POST", body: "{}" })).json();
const ws = relay.url.replace("http", "ws");
async function joinPeer(name: string): Promise<{ socket: WebSocket; frames: string[] }> {
  const socket = new WebSocket(`${ws}/ws/${map.id}`, "duplexmap.v1");
  const frames: string[] = [];
  await new Promise((resolve) => socket.onopen = resolve);
  const welcomed = new Promise((resolve) => {
    socket.onmessage = (e) => {
      frames.push(e.data);
      if (frames.length === 1) resolve(null);
    };
  });
  socket.send(JSON.stringify({ type: "hello", key: map.editKey, name, color: "#123456" }));
  await welcomed;
  return { socket, frames };
}
const author = await joinPeer("author");
const watchers = await Promise.all(Array.from({ length: PEERS }, (_, i) => joinPeer(`w${i}`)));
const rss0 = readProc(relay.pid).rssBytes;
const cpu0 = readProc(relay.pid).cpuSeconds;
const sent = performance.now();
const arrivals = watchers.map(({ frames }) =>
  new Promise<number>((resolve) => {
    const check = () =>
      frames.some((f) => f.includes('"id":"e-1"'))
        ? resolve(performance.now() - sent)
        : setTimeout(check, 1);
    check();
  })
);
author.socket.send(frame);
const times = await Promise.all(arrivals);
const cpu1 = readProc(relay.pid).cpuSeconds;
console.log(`\n## Delivery through a real relay (${PEERS} watchers, loopback)`);
console.log(
  `time until every watcher has it: median ${median(times).toFixed(0)} ms, last ${
    Math.max(...times).toFixed(0)
  } ms; relay CPU ${((cpu1 - cpu0) * 1000).toFixed(0)} ms; bytes sent: ${
    MB(frameBytes * (PEERS + 1))
  } (${PEERS + 1} peers with the author's echo)`,
);
console.log(`relay RSS: ${MB(rss0)} before, ${MB(readProc(relay.pid).rssBytes)} after`);

const text = JSON.stringify(countries);
const imported = performance.now();
const res = await fetch(`${relay.url}/api/maps/${map.id}/features`, {
  method: "PUT",
  headers: { authorization: `Bearer ${map.editKey}` },
  body: text,
});
const answer = await res.json();
const importMs = performance.now() - imported;
console.log(`\n## Natural Earth 10m through the import API (${MB(text.length)})`);
console.log(
  `answer ${res.status}: ${answer.features} features in ${answer.edits} edits, ${
    importMs.toFixed(0)
  } ms until durable and sent; relay RSS after: ${MB(readProc(relay.pid).rssBytes)}`,
);
const joinedAt = performance.now();
const late = await joinPeer("late");
console.log(
  `late joiner's welcome (the snapshot): ${MB(late.frames[0].length)} in ${
    (performance.now() - joinedAt).toFixed(0)
  } ms`,
);
for (const peer of [author, ...watchers, late]) peer.socket.close();
