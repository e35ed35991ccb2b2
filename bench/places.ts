/** Gazetteer benchmark: queries/s and p50/p99 of `GET /api/places?q=` and `?bbox=` over a real relay. */

// Usage: deno run -A bench/places.ts [--requests N] [--concurrency C]
// Prefixes are what people type, a letter at a time, for names drawn evenly from the gazetteer
// itself (big and small places, any country); boxes are map views from world to street scale,
// some across the antimeridian. Latency is per HTTP request on loopback, so it includes Hono and
// fetch, not just the index.
import { parseArgs } from "node:util";
import { parsePlaces } from "../relay/places.ts";
import { parseBBox } from "../relay/routes/places.ts";
import { Histogram } from "./histogram.ts";
import { readProc } from "./proc.ts";
import { startServer } from "./servers.ts";

const ROOT = new URL("../", import.meta.url);

/** A deterministic pseudo-random source (mulberry32), so runs ask the same questions. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every prefix (1..8 letters) of every 500th place name: the queries a typing person sends. */
async function prefixQueries(): Promise<string[]> {
  const text = await Deno.readTextFile(new URL("public/dist/places.txt", ROOT));
  const names = text.split("\n").filter((l, i) => l && !l.startsWith("#") && i % 500 === 1)
    .map((l) => l.split("\t")[0]);
  return names.flatMap((n) =>
    Array.from({ length: Math.min(8, n.length) }, (_, i) => n.slice(0, i + 1))
  );
}

/** Map views: a random centre, a span from world (~zoom 2) to a street (~zoom 16). */
function boxQueries(count: number): string[] {
  const next = random(10);
  return Array.from({ length: count }, () => {
    const span = 360 / 2 ** (2 + Math.floor(next() * 15));
    const lon = next() * 360 - 180;
    const lat = next() * 140 - 70;
    const wrap = (x: number) => (x > 180 ? x - 360 : x < -180 ? x + 360 : x);
    const round = (x: number) => Math.round(x * 1e4) / 1e4;
    const south = round(Math.max(-90, lat - span / 4));
    const north = round(Math.min(90, lat + span / 4));
    return `${round(wrap(lon - span / 2))},${south},${round(wrap(lon + span / 2))},${north}`;
  });
}

/** Sends `urls` with `concurrency` requests in flight; returns latencies (us) and queries/s. */
async function drive(urls: string[], concurrency: number) {
  const latency = new Histogram();
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < urls.length) {
      const url = urls[next++];
      const t = performance.now();
      const res = await fetch(url);
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
      latency.record((performance.now() - t) * 1000);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  return { latency, perSecond: urls.length / seconds };
}

/** A `W,S,E,N` string as the index takes it. */
function box(text: string) {
  const parsed = parseBBox(text);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
}

async function main(): Promise<void> {
  const args = parseArgs({
    args: Deno.args,
    options: {
      requests: { type: "string", default: "5000" },
      concurrency: { type: "string", default: "4" },
    },
  });
  const requests = Number(args.values.requests);
  const concurrency = Number(args.values.concurrency);
  await using relay = await startServer("relay", { relayArgs: ["--memory"] });
  const idleRss = readProc(relay.pid).rssBytes;
  const t = performance.now();
  await (await fetch(`${relay.url}/api/places?q=a`)).arrayBuffer();
  const firstMs = performance.now() - t;
  const loadedRss = readProc(relay.pid).rssBytes;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
  console.log(
    `first query (builds the index): ${firstMs.toFixed(0)} ms; relay RSS ${mb(idleRss)} idle -> ${
      mb(loadedRss)
    } after`,
  );

  const prefixes = await prefixQueries();
  const pick = random(7);
  const q = Array.from({ length: requests }, () => prefixes[Math.floor(pick() * prefixes.length)]);
  const boxes = boxQueries(requests);
  const runs = [
    ["q (prefix, limit 10)", q.map((s) => `${relay.url}/api/places?q=${encodeURIComponent(s)}`)],
    ["bbox (labels, limit 50)", boxes.map((b) => `${relay.url}/api/places?bbox=${b}`)],
    ["bbox (labels, limit 200)", boxes.map((b) => `${relay.url}/api/places?bbox=${b}&limit=200`)],
  ] as const;
  const cpu0 = readProc(relay.pid).cpuSeconds;
  console.log(
    `\n| query | requests | queries/s | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- | --- |`,
  );
  for (const [label, urls] of runs) {
    await drive(urls.slice(0, 200), concurrency); // warm the JIT
    const { latency, perSecond } = await drive(urls, concurrency);
    const ms = (us: number) => (us / 1000).toFixed(2);
    console.log(
      `| ${label} | ${urls.length} | ${perSecond.toFixed(0)} | ${ms(latency.quantile(0.5))} | ${
        ms(latency.quantile(0.99))
      } | ${ms(latency.quantile(1))} |`,
    );
  }
  console.log(
    `\n${prefixes.length} distinct prefixes, ${concurrency} in flight; relay CPU ${
      (readProc(relay.pid).cpuSeconds - cpu0).toFixed(1)
    } s`,
  );

  // The same questions to the index alone, in this process: what the relay's own work costs.
  const index = parsePlaces(await Deno.readTextFile(new URL("public/dist/places.txt", ROOT)));
  let n = 0;
  const inProcess: [string, () => void][] = [
    ["q (prefix, limit 10)", () => index.search(q[n++ % q.length], 10)],
    ["bbox (labels, limit 50)", () => index.within(box(boxes[n++ % boxes.length]), 50)],
    ["bbox (labels, limit 200)", () => index.within(box(boxes[n++ % boxes.length]), 200)],
  ];
  console.log("\nIn process (the index alone):\n");
  console.log("| query | queries | p50 ms | p99 ms | max ms |\n| --- | --- | --- | --- | --- |");
  for (const [label, ask] of inProcess) {
    for (let i = 0; i < 500; i++) ask();
    const latency = new Histogram();
    for (let i = 0; i < requests; i++) {
      const t = performance.now();
      ask();
      latency.record((performance.now() - t) * 1000);
    }
    const ms = (us: number) => (us / 1000).toFixed(3);
    const [p50, p99, max] = [0.5, 0.99, 1].map((x) => ms(latency.quantile(x)));
    console.log(`| ${label} | ${requests} | ${p50} | ${p99} | ${max} |`);
  }
}

if (import.meta.main) await main();
