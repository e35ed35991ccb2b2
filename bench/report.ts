/** Turns scenario results into markdown tables, target checks and the BENCHMARKS.md results section. */
import { clusterMarkdown } from "./cluster_report.ts";
import { fmtRate } from "./load.ts";
import type { Row, ScenarioResult } from "./scenarios.ts";
import type { ServerName } from "./servers.ts";

/** Where the run happened. */
export interface Environment {
  date: string;
  mode: string;
  cpu: string;
  cores: number;
  memory: string;
  kernel: string;
  versions: Record<string, string>;
  commit: string;
  openFiles: string;
  /** /proc/loadavg when the run started: a busy shared machine makes every number worse. */
  loadavg: string;
}

const BASELINES: ServerName[] = ["deno", "node-ws", "socketio"];

/** Formats a number of milliseconds. */
function ms(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return "–";
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function mib(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? "–" : (bytes / 2 ** 20).toFixed(1);
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (!a || !b || !Number.isFinite(a) || !Number.isFinite(b)) return "–";
  return `${(a / b).toFixed(2)}x`;
}

function loadTable(rows: Row[], withRatios: boolean): string {
  const head = [
    "server",
    "step",
    "offered/s",
    "delivered/s",
    ...(withRatios ? ["vs Deno", "vs Node ws", "vs Socket.IO"] : []),
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "lost",
    "coalesced",
    "dup",
    "server CPU",
    "CPU us/delivery",
    "peak RSS MiB",
    "generator CPU",
    "other CPU",
    "state",
  ];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    if (!r.load) {
      lines.push(`| ${r.server} | ${r.step} | error: ${r.error ?? "?"} |`);
      continue;
    }
    const l = r.load;
    const peer = (name: ServerName) =>
      rows.find((x) => x.server === name && x.step === r.step && !x.variant)?.load;
    const ratios = withRatios
      ? BASELINES.map((b) => r.server === b ? "1x" : ratio(l.deliveredPerS, peer(b)?.deliveredPerS))
      : [];
    const pct = (cores: number) => `${(cores * 100).toFixed(0)}%`;
    const cells = [
      r.variant ? `${r.server} (${r.variant}s)` : r.server,
      r.step,
      fmtRate(l.offeredPerS),
      fmtRate(l.deliveredPerS),
      ...ratios,
      ms(l.latency.p50),
      ms(l.latency.p99),
      ms(l.latency.p999),
      String(l.lost),
      String(l.coalesced),
      String(l.duplicates),
      pct(l.server_.cpuCores),
      l.cpuUsPerDelivery.toFixed(2),
      mib(l.peakRssBytes),
      (l.generators ?? 1) > 1
        ? `${pct(l.generatorCores)} (${l.generators} procs)`
        : pct(l.generatorCores),
      pct(l.otherCores),
      r.note ?? "",
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function valuesTable(rows: Row[], columns: [string, string, (v: number) => string][]): string {
  const head = ["server", "step", ...columns.map((c) => c[1])];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`];
  for (const r of rows) {
    if (!r.values) {
      lines.push(`| ${r.server} | ${r.step} | error: ${r.error ?? "?"} |`);
      continue;
    }
    const v = r.values;
    lines.push(
      `| ${r.server} | ${r.step} | ${
        columns.map(([k, , f]) => v[k] === undefined ? "–" : f(v[k])).join(" | ")
      } |`,
    );
  }
  return lines.join("\n");
}

/** Per server: the best delivered/s of any step and its CPU cost, and ratios to the baselines. */
function s1Summary(rows: Row[]): string {
  const label = (r: Row) => r.variant ? `${r.server} (${r.variant}s)` : r.server;
  const servers = [...new Set(rows.map(label))];
  const best = new Map(servers.map((name) => [
    name,
    rows.filter((r) => label(r) === name && r.load)
      .sort((a, b) => b.load!.deliveredPerS - a.load!.deliveredPerS)[0],
  ]));
  const sustained = (name: string) =>
    rows.filter((r) => label(r) === name && r.note === "kept up").at(-1);
  const lines = [
    "| server | best delivered/s | at step | CPU us/delivery there | vs Deno | vs Node ws | vs Socket.IO | CPU/delivery vs Deno | highest step kept up | p99 there ms |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const name of servers) {
    const b = best.get(name)?.load;
    const kept = sustained(name);
    if (!b) {
      lines.push(`| ${name} | error: ${rows.find((r) => label(r) === name)?.error ?? "?"} |`);
      continue;
    }
    const vs = (other: string) => ratio(b.deliveredPerS, best.get(other)?.load?.deliveredPerS);
    lines.push(
      `| ${name} | ${fmtRate(b.deliveredPerS)} | ${best.get(name)!.step} | ${
        b.cpuUsPerDelivery.toFixed(2)
      } | ${vs("deno")} | ${vs("node-ws")} | ${vs("socketio")} | ${
        ratio(b.cpuUsPerDelivery, best.get("deno")?.load?.cpuUsPerDelivery)
      } | ${kept?.step ?? "none"} | ${ms(kept?.load?.latency.p99)} |`,
    );
  }
  return lines.join("\n");
}

/** Markdown for one scenario. */
export function scenarioMarkdown(s: ScenarioResult): string {
  const out = [`### ${s.id}: ${s.title}`, ""];
  if (s.ranAt) out.push(`Measured ${s.ranAt}.`, "");
  if (s.pending) {
    out.push(`_${s.pending}_`, "");
    return out.join("\n");
  }
  switch (s.id) {
    case "s1":
      out.push(s1Summary(s.rows), "", "Every step:", "", loadTable(s.rows, true));
      break;
    case "s2":
    case "s7":
    case "s8":
      out.push(loadTable(s.rows, true));
      break;
    case "s3":
    case "s4":
      out.push(loadTable(s.rows, false));
      break;
    case "s5":
      out.push(valuesTable(s.rows, [
        ["median_ms", "median ms", ms],
        ["max_ms", "max ms", ms],
        ["ten_at_once_ms", "10 at once ms", ms],
        ["snapshot_bytes", "snapshot MiB", mib],
        ["put_ms", "PUT ms", ms],
      ]));
      break;
    case "s6":
      out.push(valuesTable(s.rows, [
        ["rss_bytes", "server RSS MiB", mib],
        ["base_rss_bytes", "RSS before MiB", mib],
        ["bytes_per_conn", "KiB / connection", (v) => (v / 1024).toFixed(1)],
        ["settled_rss_bytes", "RSS 35 s idle MiB", mib],
        ["settled_bytes_per_conn", "KiB / connection 35 s idle", (v) => (v / 1024).toFixed(1)],
        ["connect_ms", "connect ms", ms],
      ]));
      break;
    case "tiles":
      out.push(valuesTable(s.rows, [
        ["tiles_per_s", "tiles/s", (v) => v.toFixed(0)],
        ["p50_ms", "p50 ms", ms],
        ["p99_ms", "p99 ms", ms],
        ["cpu_us_per_tile", "relay CPU µs / tile", (v) => v.toFixed(0)],
        ["kib_per_tile", "KiB / tile", (v) => v.toFixed(1)],
        ["distinct_tiles", "tiles in file", (v) => v.toFixed(0)],
      ]));
      break;
    case "cluster":
      out.push(clusterMarkdown(s.rows));
      break;
  }
  const batched = s.rows.filter((r) => r.load?.messagesPerFrame !== undefined);
  if (batched.length > 0) {
    out.push(
      "",
      `Relay messages per frame sent in the window (its /metrics): ${
        batched.map((r) => `${r.step} ${r.load!.messagesPerFrame!.toFixed(2)}`).join(", ")
      }.`,
    );
  }
  const lagging = s.rows.filter((r) => r.load?.sendLag);
  if (lagging.length > 0) {
    out.push(
      "",
      `Generator send lag (how late it sent after the due time; part of every latency above), p50 / p99 ms: ${
        lagging.map((r) =>
          `${r.server} ${r.step} ${ms(r.load!.sendLag!.p50)} / ${ms(r.load!.sendLag!.p99)}`
        ).join(", ")
      }.`,
    );
  }
  const closes = s.rows.filter((r) => r.load && Object.keys(r.load.closes).length > 0);
  for (const r of closes) {
    out.push(
      "",
      `${r.server} ${r.step}: connections closed by the server: ${JSON.stringify(r.load!.closes)}`,
    );
  }
  const edits = s.rows.filter((r) => r.load?.editLatency);
  if (edits.length > 0) {
    out.push("", "Edit latency (accepted, durable, fanned out), ms:", "");
    for (const r of edits) {
      const e = r.load!.editLatency!;
      out.push(
        `- ${r.server} ${r.step}: p50 ${ms(e.p50)}, p99 ${ms(e.p99)}, max ${
          ms(e.max)
        } (${e.count})`,
      );
    }
  }
  out.push("");
  return out.join("\n");
}

function find(
  results: ScenarioResult[],
  id: string,
  server: ServerName,
  step?: string,
): Row | undefined {
  return results.find((s) => s.id === id)?.rows.find((r) =>
    r.server === server && (step === undefined || r.step === step)
  );
}

/** The issue's targets, each checked against this run: met, missed (by how much), or not measured. */
export function targetsMarkdown(results: ScenarioResult[]): string {
  const lines: string[] = ["| target | measured | verdict |", "|---|---|---|"];
  const add = (target: string, measured: string, ok: boolean | undefined) =>
    lines.push(
      `| ${target} | ${measured} | ${ok === undefined ? "not measured" : ok ? "met" : "MISSED"} |`,
    );
  const s1 = results.find((s) => s.id === "s1");
  const best = (name: ServerName, variant?: string) =>
    (s1?.rows.filter((r) => r.server === name && r.variant === variant && r.load) ?? [])
      .sort((a, b) => b.load!.deliveredPerS - a.load!.deliveredPerS)[0]?.load;
  for (const variant of ["cursor", "edit"]) {
    const r = best("relay", variant);
    // Issue 14 asks durable edits for 5x every baseline; cursors keep the first release's 10x
    // against Socket.IO.
    const socketio = variant === "edit" ? 5 : 10;
    for (const [name, factor] of [["deno", 5], ["node-ws", 5], ["socketio", socketio]] as const) {
      const b = best(name);
      add(
        `s1 (relay ${variant}s): delivered/s >= ${factor}x ${name} (best step each)`,
        r && b
          ? `${fmtRate(r.deliveredPerS)} vs ${fmtRate(b.deliveredPerS)} = ${
            (r.deliveredPerS / b.deliveredPerS).toFixed(2)
          }x`
          : "–",
        r && b ? r.deliveredPerS >= factor * b.deliveredPerS : undefined,
      );
    }
    for (const name of ["deno", "node-ws"] as const) {
      const b = best(name);
      add(
        `s1 (relay ${variant}s): server CPU per delivery <= 1/5 of ${name}`,
        r && b ? `${r.cpuUsPerDelivery.toFixed(2)} vs ${b.cpuUsPerDelivery.toFixed(2)} us` : "–",
        r && b ? r.cpuUsPerDelivery * 5 <= b.cpuUsPerDelivery : undefined,
      );
    }
  }
  const s2 = find(results, "s2", "relay")?.load;
  add(
    "s2: p99 < 15 ms",
    s2 ? `${ms(s2.latency.p99)} ms` : "–",
    s2 ? s2.latency.p99 < 15 : undefined,
  );
  // Issue 14: against the bare Deno broadcast, same run.
  const s2deno = find(results, "s2", "deno")?.load;
  const vsDeno = (what: string, r: number | undefined, d: number | undefined, max: number) =>
    add(
      `s2: relay ${what} <= ${max}x deno's`,
      r !== undefined && d !== undefined ? `${r.toFixed(2)} vs ${d.toFixed(2)}` : "–",
      r !== undefined && d !== undefined ? r <= max * d : undefined,
    );
  vsDeno("CPU us/delivery", s2?.cpuUsPerDelivery, s2deno?.cpuUsPerDelivery, 1);
  vsDeno("p99 ms", s2?.latency.p99, s2deno?.latency.p99, 1.2);
  vsDeno(
    "peak RSS MiB",
    s2 && s2.peakRssBytes / 2 ** 20,
    s2deno && s2deno.peakRssBytes / 2 ** 20,
    1.5,
  );
  add(
    "s2: no losses",
    s2 ? `${s2.lost} lost of ${s2.expected}` : "–",
    s2 ? s2.lost === 0 : undefined,
  );
  const s3 = find(results, "s3", "relay")?.load;
  add(
    "s3: >= 60% of s2 throughput",
    s3 && s2 ? `${((s3.deliveredPerS / s2.deliveredPerS) * 100).toFixed(0)}%` : "–",
    s3 && s2 ? s3.deliveredPerS >= 0.6 * s2.deliveredPerS : undefined,
  );
  const a = find(results, "s4", "relay", "all reading")?.load;
  const b = find(results, "s4", "relay", "10% stalled")?.load;
  add(
    // The target is that stalled peers do not hurt healthy ones: a lower p99 (less work once the
    // stalled peers stop being served) is not a miss.
    "s4: healthy p99 rises < 20% (issue 14: within 1.2x)",
    a && b
      ? `${ms(a.latency.p99)} -> ${ms(b.latency.p99)} ms (${
        (((b.latency.p99 / a.latency.p99) - 1) * 100).toFixed(0)
      }%)`
      : "–",
    a && b ? b.latency.p99 / a.latency.p99 - 1 < 0.2 : undefined,
  );
  add(
    "s4: server memory bounded",
    a && b ? `peak RSS ${mib(a.peakRssBytes)} -> ${mib(b.peakRssBytes)} MiB` : "–",
    a && b ? b.peakRssBytes < a.peakRssBytes + 64 * 2 ** 20 : undefined,
  );
  for (const step of ["50 maps of 20", "170 maps of 10"]) {
    const r = find(results, "s8", "relay", step)?.load;
    const others = (["deno", "node-ws", "socketio"] as const)
      .map((name) => ({ name, l: find(results, "s8", name, step)?.load }))
      .filter((o) => o.l);
    for (const { name, l } of others.filter((o) => o.name !== "socketio")) {
      add(
        `s8 ${step}: relay CPU per delivery <= 1/2 of ${name}`,
        r ? `${r.cpuUsPerDelivery.toFixed(2)} vs ${l!.cpuUsPerDelivery.toFixed(2)} us` : "–",
        r ? r.cpuUsPerDelivery * 2 <= l!.cpuUsPerDelivery : undefined,
      );
    }
    add(
      `s8 ${step}: relay p99 lowest of all servers`,
      r
        ? `${ms(r.latency.p99)} vs ${
          others.map((o) => `${o.name} ${ms(o.l!.latency.p99)}`).join(", ") || "–"
        } ms`
        : "–",
      r && others.length > 0 ? others.every((o) => r.latency.p99 <= o.l!.latency.p99) : undefined,
    );
    add(
      `s8 ${step}: relay loses nothing`,
      r ? `${r.lost} lost of ${r.expected}` : "–",
      r ? r.lost === 0 : undefined,
    );
  }
  const s7 = find(results, "s7", "relay")?.load;
  add(
    "s7 (10 000 peers): p99 < 50 ms, nothing lost",
    s7 ? `${ms(s7.latency.p99)} ms, ${s7.lost} lost of ${s7.expected}` : "–",
    s7 ? s7.latency.p99 < 50 && s7.lost === 0 : undefined,
  );
  const s5 = find(results, "s5", "relay")?.values;
  add(
    "s5: snapshot < 300 ms",
    s5 ? `median ${ms(s5.median_ms)}, max ${ms(s5.max_ms)} ms` : "–",
    s5 ? s5.max_ms < 300 : undefined,
  );
  const s6 =
    results.find((s) => s.id === "s6")?.rows.filter((r) => r.server === "relay" && r.values) ?? [];
  // The settled reading where there is one: memory per connection held idle, not just opened.
  // The target is set at 5 000 and 20 000 connections; smaller levels count only when alone.
  const atScale = s6.filter((r) => parseInt(r.step) >= 5000);
  const worst = (atScale.length > 0 ? atScale : s6)
    .map((r) => r.values!.settled_bytes_per_conn ?? r.values!.bytes_per_conn)
    .sort((x, y) => y - x)[0];
  add(
    "s6: <= 16 KiB per idle connection (issue 14; was 20)",
    worst !== undefined ? `${(worst / 1024).toFixed(1)} KiB (worst level, 35 s idle)` : "–",
    worst !== undefined ? worst <= 16 * 1024 : undefined,
  );
  return lines.join("\n");
}

/** The whole generated results section. */
export function resultsMarkdown(env: Environment, results: ScenarioResult[]): string {
  return [
    `Run ${env.date}, mode \`${env.mode}\`, commit \`${env.commit}\`.`,
    "",
    `Machine: ${env.cpu}, ${env.cores} cores, ${env.memory} RAM, Linux ${env.kernel}; open-file limit ${env.openFiles}.`,
    ...(Number(env.loadavg.split(" ")[0]) > env.cores / 2
      ? [
        `**The machine was busy when this run started (load average ${env.loadavg} on ${env.cores} cores): absolute numbers and latencies are inflated; compare ratios, CPU per delivery and the "other CPU" column.**`,
        "",
      ]
      : []),
    `Load average at start: ${env.loadavg} (2 cores; other work on the machine shows in the "other CPU" column).`,
    `Versions: ${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    "",
    "#### Targets",
    "",
    targetsMarkdown(results),
    "",
    ...results.map(scenarioMarkdown),
  ].join("\n");
}
