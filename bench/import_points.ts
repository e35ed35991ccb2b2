/**
 * Import of 100 000 points: the time until a second peer (a WebSocket viewer) has all of them, with
 * the relay's CPU and RSS, through the import API (`PUT .../features`) and through the page's
 * Import button in Chromium.
 *
 * deno task build && deno run -A bench/import_points.ts [--points 100000] [--no-page] [--profile]
 *
 * `--profile` also prints where the page spends its time (Chromium's CPU profiler) and writes the
 * relay's V8 CPU profile under test-output/import-profile/.
 */
import type { Browser } from "playwright-core";
import { Buffer } from "node:buffer";
import { ALICE, launchChromium, newPerson, waitLive } from "../tests/_browser.ts";
import { ProcSampler } from "./proc.ts";
import { startServer } from "./servers.ts";

const arg = (name: string) => Deno.args.indexOf(name);
const POINTS = arg("--points") >= 0 ? Number(Deno.args[arg("--points") + 1]) : 100_000;
const MB = (n: number) => `${(n / (1 << 20)).toFixed(1)} MiB`;

/** A FeatureCollection of `count` points with a few properties each, as a GIS export holds. */
function pointsText(count: number): string {
  const features = Array.from({ length: count }, (_, i) => ({
    type: "Feature",
    id: `pt-${i}`,
    geometry: { type: "Point", coordinates: [(i % 3600) / 10 - 180, ((i * 7) % 1700) / 10 - 85] },
    properties: { n: i, name: `point ${i}`, kind: i % 3 ? "tree" : "bench" },
  }));
  return JSON.stringify({ type: "FeatureCollection", features });
}

/** A viewer on a WebSocket that counts the features `put` by the edits it receives. */
async function watcher(wsUrl: string, mapId: string, key: string) {
  const socket = new WebSocket(`${wsUrl}/ws/${mapId}`, "duplexmap.v1");
  const seen = new Set<string>();
  let edits = 0;
  let bytes = 0;
  let done: () => void = () => {};
  let target = Infinity;
  const welcomed = Promise.withResolvers<void>();
  socket.onmessage = (e) => {
    bytes += (e.data as string).length;
    const parsed = JSON.parse(e.data);
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) {
      if (m.type === "welcome") welcomed.resolve();
      if (m.type !== "edit") continue;
      edits++;
      for (const op of m.ops) if (op.op === "put") seen.add(op.feature.id);
    }
    if (seen.size >= target) done();
  };
  await new Promise((resolve) => socket.onopen = resolve);
  socket.send(JSON.stringify({ type: "hello", key, name: "watcher", color: "#123456" }));
  await welcomed.promise;
  return {
    /** Resolves when `count` features have arrived. */
    has(count: number): Promise<void> {
      target = count;
      return seen.size >= count ? Promise.resolve() : new Promise((r) => done = r);
    },
    stats: () => ({ edits, bytes }),
    close: () => socket.close(),
  };
}

const text = pointsText(POINTS);
const profile = arg("--profile") >= 0;
await using relay = await startServer("relay", {
  relayDenoFlags: profile ? ["--cpu-prof", "--cpu-prof-dir=test-output/import-profile"] : [],
  // The page path waits on the page's test hooks (window.duplex); they change nothing else.
  relayArgs: ["--test-hooks"],
});
const wsUrl = relay.url.replace("http", "ws");
const newMap = async () =>
  await (await fetch(`${relay.url}/api/maps`, {
    method: "POST",
    body: JSON.stringify({ title: "Points" }),
  })).json();

console.log(`## ${POINTS} points, ${MB(text.length)} of GeoJSON, relay with SQLite on disk`);
{
  const map = await newMap();
  const peer = await watcher(wsUrl, map.id, map.viewKey);
  const sampler = new ProcSampler(relay.pid, 50);
  const t0 = performance.now();
  const arrived = peer.has(POINTS).then(() => performance.now() - t0);
  const res = await fetch(`${relay.url}/api/maps/${map.id}/features`, {
    method: "PUT",
    headers: { authorization: `Bearer ${map.editKey}` },
    body: text,
  });
  const answer = await res.json();
  const answeredMs = performance.now() - t0;
  const peerMs = await arrived;
  const proc = sampler.stop();
  console.log(
    `import API: answer ${res.status} (${answer.features} features, ${answer.edits} edits)`,
  );
  console.log(
    `  answered after ${answeredMs.toFixed(0)} ms; the second peer had all ${POINTS} after ${
      peerMs.toFixed(0)
    } ms (${peer.stats().edits} edits, ${MB(peer.stats().bytes)} received)`,
  );
  console.log(
    `  relay CPU ${proc.cpuSeconds.toFixed(2)} s; RSS peak ${MB(proc.peakRssBytes)}, after ${
      MB(proc.endRssBytes)
    }`,
  );
  peer.close();
}

if (arg("--no-page") < 0) {
  const browser: Browser = await launchChromium();
  try {
    const map = await newMap();
    const peer = await watcher(wsUrl, map.id, map.viewKey);
    const { page } = await newPerson(browser, ALICE);
    await page.goto(`${relay.url}/m/${map.id}#key=${map.editKey}`);
    await waitLive(page);
    await page.locator("#import").waitFor({ state: "visible" });
    const cdp = profile ? await page.context().newCDPSession(page) : null;
    await cdp?.send("Profiler.enable");
    await cdp?.send("Profiler.start");
    const sampler = new ProcSampler(relay.pid, 50);
    const t0 = performance.now();
    const arrived = peer.has(POINTS).then(() => performance.now() - t0);
    await page.locator("#import-file").setInputFiles({
      name: "points.geojson",
      mimeType: "application/geo+json",
      buffer: Buffer.from(text),
    });
    const peerMs = await arrived;
    await page.locator(".toast", { hasText: "Imported" }).waitFor({ timeout: 600_000 });
    const toastMs = performance.now() - t0;
    const proc = sampler.stop();
    console.log(`page (Chromium, Import button, the page's own splitting into edits):`);
    console.log(
      `  the second peer had all ${POINTS} after ${
        peerMs.toFixed(0)
      } ms (${peer.stats().edits} edits); ` +
        `the page's "Imported" notice after ${toastMs.toFixed(0)} ms`,
    );
    console.log(
      `  relay CPU ${proc.cpuSeconds.toFixed(2)} s; RSS peak ${MB(proc.peakRssBytes)}, after ${
        MB(proc.endRssBytes)
      }`,
    );
    if (cdp) printProfile((await cdp.send("Profiler.stop")).profile);
    peer.close();
  } finally {
    await browser.close();
  }
}

type CpuProfile = {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
};

/** The page's functions by self time (Chromium's sampling profiler), the top 15. */
function printProfile(p: CpuProfile): void {
  const byNode = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  (p.samples ?? []).forEach((id, i) => {
    const f = byNode.get(id)!.callFrame;
    const key = `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}`;
    const dt = (p.timeDeltas?.[i] ?? 0) / 1000;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  console.log(`  page profile (self time, of ${total.toFixed(0)} ms sampled):`);
  for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`    ${ms.toFixed(0).padStart(7)} ms  ${k}`);
  }
}
