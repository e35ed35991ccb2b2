/** The `tiles` scenario: basemap tiles served by the relay from MBTiles and PMTiles files (tiles/s, p99). */
import { readMbtilesTiles, type TileFixtures, writeTileFixtures } from "../tests/_tiles_fixture.ts";
import { Histogram } from "./histogram.ts";
import { latencyOf } from "./load.ts";
import { readProc } from "./proc.ts";
import type { Row, ScenarioContext, ScenarioResult } from "./scenarios.ts";
import { startServer } from "./servers.ts";

/** Requests in flight at once, as a few browsers panning a street map would keep. */
export const TILE_CONCURRENCY = 32;

interface Target {
  step: string;
  /** Basemap name given to `--basemap`, and the fixture file. */
  name: string;
  file: (fx: TileFixtures) => string;
  ext: string;
  /** Which fixture's tiles to ask for (the PMTiles archive holds the vector MBTiles' tiles). */
  tilesOf: (fx: TileFixtures) => string;
}

const TARGETS: Target[] = [
  {
    step: "MBTiles vector",
    name: "mbv",
    file: (fx) => fx.vectorMbtiles,
    ext: "pbf",
    tilesOf: (fx) => fx.vectorMbtiles,
  },
  {
    step: "PMTiles vector",
    name: "pmv",
    file: (fx) => fx.pmtiles,
    ext: "pbf",
    tilesOf: (fx) => fx.vectorMbtiles,
  },
  {
    step: "MBTiles raster",
    name: "mbr",
    file: (fx) => fx.rasterMbtiles,
    ext: "png",
    tilesOf: (fx) => fx.rasterMbtiles,
  },
];

/**
 * For each file, TILE_CONCURRENCY loops fetch every tile of the fixture in turn (closed loop)
 * for the measuring window, after a warm-up that also fills the PMTiles directory cache.
 */
export async function tileScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const title = `basemap tiles from one file, ${TILE_CONCURRENCY} requests in flight`;
  if (!ctx.servers.includes("relay")) {
    return { id: "tiles", title, rows: [], pending: "relay not run" };
  }
  const seconds = ctx.mode === "smoke" ? 0.5 : ctx.mode === "short" ? 3 : 10;
  await using fx = await writeTileFixtures();
  const args = TARGETS.flatMap((t) => ["--basemap", `${t.name}=${t.file(fx)}`]);
  await using server = await startServer("relay", {
    relayArgs: [...ctx.relayArgs, ...args],
    relayDenoFlags: ctx.relayDenoFlags,
    onLine: ctx.relayLog,
  });
  const urls = TARGETS.map((target) =>
    readMbtilesTiles(target.tilesOf(fx)).map((t) =>
      `${server.url}/basemaps/${target.name}/${t.z}/${t.x}/${t.y}.${target.ext}`
    )
  );
  // Rounds in turn (A B C, B C A, ...), so that the machine's other load and the order of the
  // files weigh on each file alike; each file's numbers are over all of its rounds.
  const rounds = ctx.mode === "smoke" ? 1 : 3;
  const totals = TARGETS.map(() => ({
    histogram: new Histogram(),
    count: 0,
    bytes: 0,
    s: 0,
    cpu: 0,
  }));
  const errors = new Map<number, string>();
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < TARGETS.length; k++) {
      const i = (k + round) % TARGETS.length;
      if (errors.has(i)) continue;
      try {
        if (round === 0) await hammer(urls[i], ctx.mode === "smoke" ? 0.2 : 1, new Histogram());
        const cpu0 = readProc(server.pid).cpuSeconds;
        const r = await hammer(urls[i], seconds, totals[i].histogram);
        totals[i].cpu += readProc(server.pid).cpuSeconds - cpu0;
        totals[i].count += r.count;
        totals[i].bytes += r.bytes;
        totals[i].s += r.seconds;
        ctx.log(`  [tiles] ${TARGETS[i].step}: ${(r.count / r.seconds).toFixed(0)} tiles/s`);
      } catch (e) {
        errors.set(i, e instanceof Error ? e.message.split("\n")[0] : String(e));
      }
    }
  }
  const rows: Row[] = TARGETS.map((target, i): Row => {
    const error = errors.get(i);
    if (error) return { scenario: "tiles", server: "relay", step: target.step, error };
    const t = totals[i];
    const l = latencyOf(t.histogram);
    return {
      scenario: "tiles",
      server: "relay",
      step: target.step,
      values: {
        tiles_per_s: t.count / t.s,
        p50_ms: l.p50,
        p99_ms: l.p99,
        max_ms: l.max,
        kib_per_tile: t.bytes / t.count / 1024,
        cpu_us_per_tile: (t.cpu * 1e6) / t.count,
        distinct_tiles: urls[i].length,
      },
    };
  });
  return { id: "tiles", title, rows };
}

/** Closed-loop load: each worker asks for the next tile as soon as the last one arrived. */
async function hammer(urls: string[], seconds: number, histogram: Histogram) {
  let next = 0;
  let count = 0;
  let bytes = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < until) {
      const url = urls[next++ % urls.length];
      const t0 = performance.now();
      const res = await fetch(url);
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
      histogram.record((performance.now() - t0) * 1000);
      bytes += Number(res.headers.get("content-length") ?? body.byteLength);
      count++;
    }
  };
  await Promise.all(Array.from({ length: TILE_CONCURRENCY }, worker));
  return { count, bytes, seconds: (performance.now() - start) / 1000 };
}
