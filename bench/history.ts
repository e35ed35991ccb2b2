/**
 * Version history: the time to compute the map as it was 10 000 edits back (`features?at=SEQ`),
 * the time of a history page (first and deep, with and without `fid=`), and the disk the journal
 * takes per 100 000 edits. In process: the relay's hub and HTTP app on a real SQLite file, fed
 * edits through the same connection code as a WebSocket peer.
 *
 * deno run -A bench/history.ts [--edits 100000] [--features 2000] [--snapshot-every 500]
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createApp } from "../relay/app.ts";
import { FakeSocket } from "../relay/_fake_socket.ts";
import { Hub } from "../relay/hub.ts";
import { WorkerHistoryReader } from "../relay/history_reader.ts";
import { DEFAULT_LIMITS } from "../relay/limits.ts";
import { Store } from "../relay/store.ts";

const arg = (name: string, fallback: number) => {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
};
const EDITS = arg("--edits", 100_000);
const FEATURES = arg("--features", 2000);
const SNAPSHOT_EVERY = arg("--snapshot-every", DEFAULT_LIMITS.snapshotEvery);
const BACK = Math.min(10_000, EDITS - 1);
const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A deterministic pseudo-random source, so every run edits the same map. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(7);

/** A polygon of 5 to 40 positions around (x, y): a field, a building, a pond. */
function polygon(x: number, y: number) {
  const n = 4 + Math.floor(random() * 36);
  const ring = Array.from({ length: n }, (_, i) => {
    const a = (i / n) * 2 * Math.PI;
    const r = 0.001 + random() * 0.002;
    return [+(x + r * Math.cos(a)).toFixed(6), +(y + r * Math.sin(a)).toFixed(6)];
  });
  return { type: "Polygon", coordinates: [[...ring, ring[0]]] };
}

/**
 * One edit as people make them: the map's features drawn first, then mostly moves and property
 * changes, with some adds and deletes.
 */
function nextOps(live: string[], made: { n: number }): unknown[] {
  const r = random();
  if (made.n < FEATURES || (r < 0.03 && live.length > 0) || live.length === 0) {
    const id = `f${made.n++}`;
    live.push(id);
    return [{
      op: "put",
      feature: {
        type: "Feature",
        id,
        geometry: polygon(random() * 2, 50 + random()),
        properties: { name: `Field ${id}`, crop: "wheat", owner: "Farm A", area: random() * 10 },
      },
    }];
  }
  const fid = live[Math.floor(random() * live.length)];
  if (r < 0.05) {
    live.splice(live.indexOf(fid), 1);
    return [{ op: "del", fid }];
  }
  if (r < 0.6) return [{ op: "geom", fid, geometry: polygon(random() * 2, 50 + random()) }];
  return [{ op: "props", fid, set: { crop: r < 0.8 ? "barley" : "rye", area: random() * 10 } }];
}

const dir = await Deno.makeTempDir({ prefix: "duplexmap-bench-history-" });
const path = join(dir, "duplexmap.sqlite");
const store = new Store({ path });
const limits = { ...DEFAULT_LIMITS, rate: 1e9, rateBurst: 1e9, snapshotEvery: SNAPSHOT_EVERY };
// As the relay runs with a database file: past states rebuilt on the reader's worker thread.
const hub = new Hub({ store, limits, historyReader: new WorkerHistoryReader({ path }) });
const app = createApp({
  hub,
  origins: [],
  trustProxy: [],
  tiles: null,
  tilesAttribution: null,
  version: "bench",
});
try {
  const map = await hub.api.createMap("History bench");
  const socket = new FakeSocket("bench");
  const conn = hub.accept(socket, { mapId: map.id, addr: "192.0.2.1", transport: "bench" });
  conn.receive(JSON.stringify({ type: "hello", key: map.editKey, name: "Ann", color: "#e11d48" }));
  await hub.settled();
  const live: string[] = [];
  const made = { n: 0 };
  let frameBytes = 0;
  const started = performance.now();
  // 50 edits a turn, as a busy map commits them: one transaction each turn.
  for (let i = 0; i < EDITS; i += 50) {
    for (let j = i; j < Math.min(EDITS, i + 50); j++) {
      const text = JSON.stringify({ type: "edit", id: `e${j}`, ops: nextOps(live, made) });
      frameBytes += text.length;
      conn.receive(text);
    }
    await hub.settled();
    socket.sent.length = 0;
  }
  const writeMs = performance.now() - started;
  const rejected = socket.sent.filter((t) => t.includes('"rejected"')).length;
  if (rejected > 0) throw new Error(`${rejected} edits were rejected`);
  const head = EDITS;

  const time = async (url: string, runs = 9) => {
    const ms: number[] = [];
    let body = "";
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const res = await app.request(url);
      body = await res.text();
      ms.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${body}`);
    }
    return { ms: median(ms), max: Math.max(...ms), bytes: body.length, body };
  };
  /** The longest the event loop was blocked while `work` ran (a 1 ms timer's lateness). */
  const stall = async <T>(work: () => Promise<T>): Promise<{ value: T; maxLagMs: number }> => {
    let maxLagMs = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxLagMs = Math.max(maxLagMs, now - last - 1);
      last = now;
    }, 1);
    try {
      return { value: await work(), maxLagMs };
    } finally {
      clearInterval(timer);
    }
  };
  const base = `/api/maps/${map.id}`;
  const key = `key=${map.viewKey}`;
  const { maxLagMs: idleLag } = await stall(() => new Promise((r) => setTimeout(r, 1000)));
  const { value: atBack, maxLagMs: atLag } = await stall(() =>
    time(`${base}/features?${key}&at=${head - BACK}`)
  );
  // The worst case: just before a kept snapshot, the most edits to replay.
  const worst: number[] = [];
  for (let seq = head - BACK - 4000; seq < head - BACK + 4000; seq += 500) {
    if (seq > 0 && seq <= head) worst.push((await time(`${base}/features?${key}&at=${seq}`, 3)).ms);
  }
  // The same rebuild without HTTP: what the relay's own thread does while the worker works.
  const { maxLagMs: apiLag } = await stall(async () => {
    for (let i = 0; i < 9; i++) await hub.history.featuresAt(map.id, map.viewKey, head - BACK);
  });
  const { value: first, maxLagMs: pageLag } = await stall(() => time(`${base}/history?${key}`));
  const deep = await time(`${base}/history?${key}&before=1000`);
  const fid = "f3";
  const fidFirst = await time(`${base}/history?${key}&fid=${fid}`);
  const fidDeep = await time(`${base}/history?${key}&fid=${fid}&before=1000`);
  const page = JSON.parse(first.body) as { entries: { summary: string }[] };
  // The database as the edits made it (before the import below): its size with the write-ahead
  // log folded in, which is what a checkpoint leaves in the file.
  const raw = new DatabaseSync(path);
  const pages = raw.prepare("PRAGMA page_count").get();
  const pageSize = raw.prepare("PRAGMA page_size").get();
  const fileBytes = Number(pages?.page_count) * Number(pageSize?.page_size);
  const sizes = raw.prepare(
    "SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC",
  ).all();
  const kept = raw.prepare("SELECT count(*) AS n FROM snapshots").get();
  raw.close();
  // A page over big edits: an import of 20 000 points through the API (a few edits of thousands of
  // ops each, megabytes of frames to parse), read on the reader's thread.
  const points = Array.from({ length: 20_000 }, (_, i) => ({
    geometry: { type: "Point" as const, coordinates: [(i % 360) - 180, (i % 170) - 85] },
    properties: { name: `Point ${i}` },
  }));
  const imported = await hub.api.importFeatures(map.id, map.editKey, {
    features: points,
    skipped: [],
  });
  if (!imported.ok) throw new Error(imported.message);
  const { value: bigPage, maxLagMs: bigLag } = await stall(() => time(`${base}/history?${key}`, 5));

  await hub.close();
  store.close();
  const per100k = (n: number) => (n * 100_000) / EDITS;
  const MiB = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;

  console.log(`History bench: ${EDITS} edits on a map of up to ${FEATURES} polygons`);
  console.log(`  written in ${(writeMs / 1000).toFixed(1)} s; features at the end: ${live.length}`);
  console.log(`  frames sent: ${MiB(frameBytes)} (${(frameBytes / EDITS).toFixed(0)} B/edit)`);
  console.log(
    `  features?at=SEQ ${BACK} edits back: ${atBack.ms.toFixed(1)} ms median ` +
      `(max ${atBack.max.toFixed(1)} ms, ${MiB(atBack.bytes)}); event loop blocked ${
        atLag.toFixed(1)
      } ms at most meanwhile (idle: ${idleLag.toFixed(1)} ms; without HTTP: ${
        apiLag.toFixed(1)
      } ms)`,
  );
  console.log(
    `  features?at=SEQ around it (every 500 seqs, ${worst.length} points): median ${
      median(worst).toFixed(1)
    } ms, worst ${Math.max(...worst).toFixed(1)} ms`,
  );
  console.log(
    `  history first page (50): ${first.ms.toFixed(2)} ms; deep page: ${
      deep.ms.toFixed(2)
    } ms; event loop blocked ${pageLag.toFixed(1)} ms at most meanwhile`,
  );
  console.log(
    `  history fid=${fid} first page: ${fidFirst.ms.toFixed(2)} ms; deep page: ${
      fidDeep.ms.toFixed(2)
    } ms`,
  );
  console.log(
    `  history first page after an import of 20 000 points (${imported.value.edits} edits): ${
      bigPage.ms.toFixed(1)
    } ms; event loop blocked ${bigLag.toFixed(1)} ms at most meanwhile`,
  );
  console.log(`  e.g. "${page.entries[0].summary}", "${page.entries[1].summary}"`);
  console.log(
    `  SQLite file: ${MiB(fileBytes)} = ${MiB(per100k(fileBytes))} per 100 000 edits ` +
      `(${kept?.n} snapshots kept for history)`,
  );
  for (const s of sizes.slice(0, 8)) {
    console.log(`    ${String(s.name).padEnd(28)} ${MiB(Number(s.bytes))}`);
  }
} finally {
  if (Deno.env.get("KEEP_DB")) console.log("kept", path);
  else await Deno.remove(dir, { recursive: true });
}
