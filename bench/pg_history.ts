/**
 * History on PostgreSQL: time to rebuild a map at a seq (`features?at=SEQ`) and to read a history
 * page, on a map of 10 000 edits over 2 000 point features with the relay's snapshot rule.
 *
 * deno run -A bench/pg_history.ts [--edits 10000] [--features 2000]
 */
import { applyFrame } from "../relay/edit_ops.ts";
import type { FeatureMap } from "../relay/edit_ops.ts";
import type { EditFrame } from "../relay/protocol.ts";
import { PgStore } from "../relay/pg_store.ts";
import { record } from "../relay/_store_contract.ts";
import { startPostgres } from "../tests/_postgres.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

const EDITS = flag("edits", 10_000);
const FEATURES = flag("features", 2_000);
const SNAPSHOT_EVERY = 500;

/** Median of `runs` timings of `work`, in ms. */
async function median(runs: number, work: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await work();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

await using pg = await startPostgres();
const store = await PgStore.open({ url: await pg.createDatabase("dm_bench_history") });
try {
  const mapId = "benchhist1";
  await store.createMap(record(mapId));
  const features: FeatureMap = new Map();
  let seq = 0;
  const frameOf = (i: number): EditFrame => {
    const fid = `f${i % FEATURES}`;
    const geometry = { type: "Point" as const, coordinates: [(i * 7) % 180, (i * 3) % 80] };
    const op = i < FEATURES
      ? {
        op: "put" as const,
        feature: { type: "Feature" as const, id: fid, geometry, properties: { name: `F ${i}` } },
      }
      : i % 3 === 0
      ? { op: "props" as const, fid, set: { n: i } }
      : { op: "geom" as const, fid, geometry };
    return {
      type: "edit",
      seq: i + 1,
      by: "p1",
      id: `e${i}`,
      at: Date.now(),
      name: "Ann",
      ops: [op],
    } as EditFrame;
  };
  const t0 = performance.now();
  while (seq < EDITS) {
    const entries = [];
    for (let j = 0; j < 100 && seq < EDITS; j++) {
      const frame = frameOf(seq);
      applyFrame(features, frame);
      seq++;
      entries.push({ seq, frame: JSON.stringify(frame) });
    }
    await store.appendBatches([{ mapId, entries }]);
    if (seq % SNAPSHOT_EVERY === 0) {
      await store.saveSnapshot(mapId, seq, JSON.stringify([...features.values()]), 0);
    }
  }
  const loadMs = performance.now() - t0;
  const h = store.history;
  const at = async (s: number) => await h.featuresAt(mapId, s);
  console.log(
    `${EDITS} edits over ${FEATURES} features written in ${(loadMs / 1000).toFixed(1)} s`,
  );
  console.log("| read | median ms (5 runs) |");
  console.log("| ---- | ------------------ |");
  for (const s of [EDITS - 1, EDITS - 250, EDITS / 2, 1]) {
    console.log(`| features at seq ${s} | ${(await median(5, () => at(s))).toFixed(1)} |`);
  }
  // The worst seq: one every 125 (kept snapshots are about 1 000 apart), one run each.
  let worst = { seq: 0, ms: 0 };
  for (let s = 125; s < EDITS; s += 125) {
    const ms = await median(1, () => at(s));
    if (ms > worst.ms) worst = { seq: s, ms };
  }
  console.log(
    `| features at the slowest of every 125th seq (${worst.seq}) | ${worst.ms.toFixed(1)} |`,
  );
  const page = () => h.page(mapId, { before: EDITS + 1, limit: 50 });
  console.log(`| history page (50, newest) | ${(await median(5, page)).toFixed(1)} |`);
  const deep = () => h.page(mapId, { before: 100, limit: 50 });
  console.log(`| history page (50, before seq 100) | ${(await median(5, deep)).toFixed(1)} |`);
  const fid = () => h.page(mapId, { before: EDITS + 1, limit: 50, fid: "f7" });
  console.log(`| history page (50, fid=f7) | ${(await median(5, fid)).toFixed(1)} |`);
  const size = await pg.psql(
    "dm_bench_history",
    "SELECT pg_total_relation_size('edits') || ' ' || pg_total_relation_size('edit_fids') || ' ' || " +
      "pg_total_relation_size('kept_snapshots') || ' ' || pg_total_relation_size('snapshots');",
  );
  const [edits, fids, kept, snaps] = size.split(" ").map((n) => Number(n) / 2 ** 20);
  console.log(
    `disk: edits ${edits.toFixed(1)} MiB, edit_fids ${fids.toFixed(1)} MiB, kept_snapshots ` +
      `${kept.toFixed(1)} MiB, snapshots ${snaps.toFixed(1)} MiB`,
  );
} finally {
  await store.close();
}
