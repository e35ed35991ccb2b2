/**
 * Edit-to-ack latency on SQLite vs PostgreSQL: a real relay per store, peers on loopback sending
 * edits at a fixed rate each, the time from send to the author's echo (sent only after COMMIT).
 *
 * deno run -A bench/store_ack.ts [--peers 4] [--hz 50] [--seconds 20]
 */
import { createMap, startRelay } from "../tests/_relay.ts";
import { join } from "../tests/_ws.ts";
import type { TestPeer } from "../tests/_ws.ts";
import { startPostgres } from "../tests/_postgres.ts";
import { Histogram } from "./histogram.ts";
import { entries, record } from "../relay/_store_contract.ts";
import type { MapStore } from "../relay/map_store.ts";
import { PgStore } from "../relay/pg_store.ts";
import { Store } from "../relay/store.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

/** The load {@link measureAck} offers: peers on one map, each sending edits at `hz` for `seconds`. */
export interface AckLoad {
  peers: number;
  hz: number;
  seconds: number;
}

/** What {@link measureAck} measured: ack latencies in microseconds, edits sent and acknowledged. */
export interface AckResult {
  h: Histogram;
  sent: number;
  acked: number;
}

/** Runs the load against one relay started with `args`; returns the ack latencies. */
export async function measureAck(
  args: string[],
  { peers: PEERS, hz: HZ, seconds: SECONDS }: AckLoad,
): Promise<AckResult> {
  await using relay = await startRelay({ args });
  const map = await createMap(relay.url, "bench");
  const peers: TestPeer[] = [];
  for (let p = 0; p < PEERS; p++) {
    peers.push(
      (await join(relay.wsUrl, map.id, map.editKey, { name: `p${p}`, client: `c${p}` })).peer,
    );
  }
  const h = new Histogram();
  const sentAt = new Map<string, number>();
  let acked = 0;
  for (const [p, peer] of peers.entries()) {
    peer.ws.addEventListener("message", (e) => {
      const list = JSON.parse(String(e.data));
      for (const m of Array.isArray(list) ? list : [list]) {
        if (m.type !== "edit" || !String(m.id).startsWith(`p${p}-`)) continue;
        const at = sentAt.get(String(m.id));
        if (at === undefined) continue;
        sentAt.delete(String(m.id));
        h.record((performance.now() - at) * 1000);
        acked++;
      }
    });
  }
  const total = HZ * SECONDS;
  let sent = 0;
  const start = performance.now();
  // Open loop: each peer sends on its own schedule, whether or not acks came back.
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / HZ;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (const [p, peer] of peers.entries()) {
      const id = `p${p}-${i}`;
      sentAt.set(id, performance.now());
      peer.send({
        type: "edit",
        id,
        ops: [{
          op: "put",
          feature: {
            type: "Feature",
            id: `f${p}-${i % 50}`,
            geometry: { type: "Point", coordinates: [i % 180, p] },
            properties: { i },
          },
        }],
      });
      sent++;
    }
  }
  const deadline = performance.now() + 10_000;
  while (acked < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const peer of peers) await peer.close();
  return { h, sent, acked };
}

/**
 * One edit on each of `maps` maps per commit, one commit at a time, straight on the store: the
 * commit's own cost, and how it grows with the maps a relay's turn touches.
 */
async function direct(store: MapStore, commits: number, maps = 1): Promise<Histogram> {
  const h = new Histogram();
  const ids = Array.from({ length: maps }, (_, m) => `benchmap${String(m).padStart(2, "0")}`);
  for (const id of ids) await store.createMap(record(id));
  for (let seq = 1; seq <= commits; seq++) {
    const start = performance.now();
    await store.appendBatches(ids.map((mapId) => ({ mapId, entries: entries(seq, seq) })));
    h.record((performance.now() - start) * 1000);
  }
  await store.close();
  return h;
}

async function main(): Promise<void> {
  const PEERS = flag("peers", 4);
  const HZ = flag("hz", 50);
  const SECONDS = flag("seconds", 20);
  const load = { peers: PEERS, hz: HZ, seconds: SECONDS };
  const ms = (us: number) => (us / 1000).toFixed(2);
  console.log(`${PEERS} peers x ${HZ} edits/s for ${SECONDS} s, one map, loopback`);
  console.log("| store | edits | acked | p50 ms | p99 ms | max ms |");
  console.log("| ----- | ----- | ----- | ------ | ------ | ------ |");
  const sqlite = await measureAck([], load);
  const row = (name: string, r: typeof sqlite) =>
    console.log(
      `| ${name} | ${r.sent} | ${r.acked} | ${ms(r.h.quantile(0.5))} | ${
        ms(r.h.quantile(0.99))
      } | ${ms(r.h.max)} |`,
    );
  row("SQLite (WAL, synchronous=FULL, worker thread)", sqlite);
  {
    await using pg = await startPostgres();
    const url = await pg.createDatabase("dm_bench");
    row(
      "PostgreSQL 15 (synchronous_commit=on, same disk)",
      await measureAck(["--store", url], load),
    );
    const commits = flag("commits", 500);
    const dir = await Deno.makeTempDir({ prefix: "duplexmap-bench-" });
    const directRow = (name: string, h: Histogram) =>
      console.log(`| ${name} | ${h.count} | ${ms(h.quantile(0.5))} | ${ms(h.quantile(0.99))} |`);
    console.log(
      `\nOne edit per map per commit, sequential, straight on the store (${commits} commits)`,
    );
    console.log("| store | commits | p50 ms | p99 ms |");
    console.log("| ----- | ------- | ------ | ------ |");
    for (const maps of [1, 10, 40]) {
      const what = maps === 1 ? "1 map" : `${maps} maps`;
      directRow(
        `SQLite, ${what}`,
        await direct(new Store({ path: `${dir}/b${maps}.sqlite` }), commits, maps),
      );
      directRow(
        `PostgreSQL, ${what}`,
        await direct(
          await PgStore.open({ url: await pg.createDatabase(`dm_direct_${maps}`) }),
          commits,
          maps,
        ),
      );
    }
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
