/**
 * Scenario `cluster` (issue 13): 1, 2 and 3 relays on one PostgreSQL behind HAProxy
 * (haproxy/haproxy-cluster.cfg, TLS); throughput and CPU, edit-to-ack on PostgreSQL vs SQLite,
 * failover after kill -9 / SIGSTOP of a map's owner, the maps that move when a relay is added,
 * and every acknowledged edit looked up in the journal.
 *
 * deno task bench --only cluster [--smoke | --full]
 */
import { startBenchCluster } from "./cluster_launch.ts";
import { type ClusterLoad, postmasterPid, runClusterLoad, runSqliteLoad } from "./cluster_load.ts";
import { AckBook, checkJournal, type JournalCheck } from "./cluster_journal.ts";
import { createMaps, failover, moves } from "./cluster_faults.ts";
import type { LoadSpec } from "./load.ts";
import type { Mode, Row, ScenarioContext, ScenarioResult } from "./scenarios.ts";
import { measureAck } from "./store_ack.ts";

/** How big each step is, by mode. */
function plan(mode: Mode) {
  const smoke = mode === "smoke";
  const full = mode === "full";
  return {
    // Many maps with several peers each: small point edits and cursors, as people editing do.
    spec: (rooms: number): LoadSpec => ({
      rooms,
      peersPerRoom: 5,
      cursorHz: smoke ? 5 : 10,
      viewHz: 0,
      editHz: smoke ? 1 : 2,
      editBytes: [200, 400],
      editReplace: true,
      stalledFraction: 0,
      warmupS: smoke ? 0.3 : 1,
      measureS: smoke ? 1 : full ? 10 : 4,
      maxDrainS: smoke ? 2 : 4,
    }),
    rooms: smoke ? 6 : full ? 60 : 40,
    // A heavier second offer in short and full mode: where one relay saturates.
    heavy: smoke ? 0 : 3,
    ack: { peers: smoke ? 2 : 4, hz: smoke ? 10 : 50, seconds: smoke ? 2 : full ? 20 : 8 },
    // The relay's default lease (4 s) except in smoke mode, where the point is that it runs.
    leaseMs: smoke ? 1500 : undefined,
    failover: { maps: 6, perMap: 3, hz: 10, afterS: smoke ? 2 : 4, timeoutS: 30 },
    moves: { maps: smoke ? 40 : full ? 400 : 200, settleS: 2 },
  };
}

function journalValues(j: JournalCheck): Record<string, number> {
  return {
    acked: j.acked,
    lost: j.lost,
    journal_rows: j.rows,
    gapped_maps: j.gappedMaps,
    stored_twice: j.storedTwice,
  };
}

/** A throughput row's numbers: rates, latencies, CPU per process group. */
function loadValues(relays: number, run: ClusterLoad): Record<string, number> {
  const l = run.load;
  return {
    relays,
    acked_per_s: l.ackedPerS ?? NaN,
    cursor_per_s: l.cursorDeliveredPerS ?? NaN,
    delivered_per_s: l.deliveredPerS,
    ack_p50_ms: l.ackLatency?.p50 ?? NaN,
    ack_p99_ms: l.ackLatency?.p99 ?? NaN,
    cursor_p99_ms: l.latency.p99,
    ...Object.fromEntries(Object.entries(run.cores).map(([k, v]) => [`cores_${k}`, v])),
    // The box's busy CPU not used by anything this benchmark runs: other work on the machine.
    cores_other: l.otherCores,
    lost_deliveries: l.lost,
  };
}

const quantile = (xs: number[], q: number) =>
  xs.length === 0
    ? NaN
    : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Runs every step of the scenario on one cluster of 4 relays (the 4th in maint until added). */
export async function clusterScenario(ctx: ScenarioContext): Promise<ScenarioResult> {
  const title = "cluster: relays on one PostgreSQL behind HAProxy (TLS), one owner per map";
  const rows: Row[] = [];
  const p = plan(ctx.mode);
  const row = (step: string, values: Record<string, number>, extra: Partial<Row> = {}) =>
    rows.push({ scenario: "cluster", server: "relay", step, values, ...extra });
  const fail = (step: string, e: unknown) => {
    ctx.log(`  ${step}: ${e instanceof Error ? e.stack : e}`);
    rows.push({
      scenario: "cluster",
      server: "relay",
      step,
      error: e instanceof Error ? e.message.split("\n")[0] : String(e),
    });
  };
  await using cluster = await startBenchCluster({
    relays: 4,
    active: 3,
    leaseMs: p.leaseMs,
    relayArgs: ctx.relayArgs,
  });
  const servers = cluster.relays.map((r) => r.server);

  // 1. Throughput: one relay on SQLite behind haproxy.cfg, then 1, 2, 3 relays on PostgreSQL
  // behind haproxy-cluster.cfg (the others in maint), fresh maps each step.
  for (const level of [1, ...(p.heavy ? [p.heavy] : [])]) {
    const spec = p.spec(p.rooms);
    spec.editHz *= level;
    spec.cursorHz *= level;
    const load = level > 1 ? `, ${level}x load` : "";
    const sqliteStep = `1 relay, SQLite${load}`;
    try {
      ctx.log(`== cluster: ${sqliteStep}`);
      const run = await runSqliteLoad({
        relayArgs: ctx.relayArgs,
        spec,
        log: ctx.log,
        label: `cluster ${sqliteStep}`,
      });
      row(sqliteStep, loadValues(1, run), { load: run.load });
    } catch (e) {
      fail(sqliteStep, e);
    }
    for (const n of [1, 2, 3]) {
      const step = `${n} relay${n > 1 ? "s" : ""}${load}`;
      try {
        await cluster.setServers(servers.slice(0, n), servers.slice(n));
        const rooms = await createMaps(cluster, spec.rooms, step);
        const book = new AckBook();
        const processes: Record<string, number[]> = { haproxy: [cluster.haproxyPid] };
        for (const r of cluster.relays) processes[r.id] = [r.pid];
        ctx.log(`== cluster: ${step}`);
        const run = await runClusterLoad({
          baseUrl: cluster.url,
          client: cluster.haproxy.client,
          rooms,
          spec,
          log: ctx.log,
          label: `cluster ${step}`,
          processes,
          postmaster: postmasterPid(`${cluster.pg.dir}/data`),
          onAck: (room, id) => book.add(rooms[room].room, id),
        });
        const owners = await cluster.owners(rooms.map((r) => r.room));
        row(step, {
          ...loadValues(n, run),
          ...Object.fromEntries(
            cluster.relays.map((r) => [
              `maps_${r.id}`,
              [...owners.values()].filter((o) => o === r.id).length,
            ]),
          ),
          ...journalValues(await checkJournal(cluster.sql, book)),
        }, { load: run.load });
      } catch (e) {
        fail(step, e);
      }
    }
  }
  await cluster.setServers(servers.slice(0, 3), servers.slice(3));

  // 2. Edit-to-ack, one relay each, no HAProxy: SQLite vs PostgreSQL (the cluster's database).
  const stores: [string, string[]][] = [
    ["edit-to-ack SQLite", []],
    ["edit-to-ack PostgreSQL", ["--store", cluster.dbUrl]],
  ];
  for (const [step, args] of stores) {
    try {
      ctx.log(`== cluster: ${step}`);
      const r = await measureAck([...ctx.relayArgs, ...args], p.ack);
      row(step, {
        ack_p50_ms: r.h.quantile(0.5) / 1000,
        ack_p99_ms: r.h.quantile(0.99) / 1000,
        ack_max_ms: r.h.max / 1000,
        sent: r.sent,
        acked: r.acked,
      });
    } catch (e) {
      fail(step, e);
    }
  }

  // 3. Failover of a map's owner.
  for (
    const [step, signal] of [["kill -9 owner", "SIGKILL"], ["SIGSTOP owner", "SIGSTOP"]] as const
  ) {
    try {
      ctx.log(`== cluster: ${step}`);
      const f = await failover(cluster, signal, p.failover, ctx.log);
      row(step, {
        maps_hit: f.seconds.length + f.timedOut,
        failover_p50_s: quantile(f.seconds, 0.5),
        failover_max_s: f.seconds.length ? Math.max(...f.seconds) : NaN,
        timed_out: f.timedOut,
        lease_ms: p.leaseMs ?? 4000,
        closes_moved: f.closes["1012"] ?? 0,
        ...journalValues(f.journal),
      }, { note: `victim ${f.victim}; closes ${JSON.stringify(f.closes)}` });
      await cluster.setServers(servers.slice(0, 3), servers.slice(3));
    } catch (e) {
      fail(step, e);
    }
  }

  // 4. A fourth relay added: which maps move.
  try {
    ctx.log("== cluster: 3 -> 4 relays");
    const m = await moves(cluster, { ...p.moves, newServer: servers[3] }, ctx.log);
    row("3 -> 4 relays", {
      maps: m.maps,
      moved: m.moved,
      moved_share: m.moved / m.maps,
      to_new: m.toNew,
      elsewhere: m.moved - m.toNew,
      unowned: m.unowned,
      ...Object.fromEntries(Object.entries(m.from).map(([k, n]) => [`from_${k}`, n])),
      closes_moved: m.closes["1012"] ?? 0,
      ...journalValues(m.journal),
    });
  } catch (e) {
    fail("3 -> 4 relays", e);
  }
  return { id: "cluster", title, rows };
}
