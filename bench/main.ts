/** `deno task bench`: runs the scenarios against the relay and the baselines, prints and writes the results. */
import { parseArgs } from "node:util";
import denoJson from "../deno.json" with { type: "json" };
import { RELAY_V8_FLAGS } from "../scripts/compile.ts";
import { type Environment, resultsMarkdown, scenarioMarkdown } from "./report.ts";
import {
  type Mode,
  scenario1,
  scenario2,
  scenario3,
  scenario4,
  scenario5,
  scenario6,
  type ScenarioContext,
  type ScenarioResult,
} from "./scenarios.ts";
import { scenario7, scenario8 } from "./scenarios_scale.ts";
import { clusterScenario } from "./cluster.ts";
import type { ServerName } from "./servers.ts";
import { tileScenario } from "./tiles.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const START = "<!-- bench:results:start -->";
const END = "<!-- bench:results:end -->";

/**
 * Flags the relay gets so that the load is measured rather than refused: the per-connection
 * rate limit, the peer/map caps, the per-address caps (every benchmark peer comes from one
 * loopback address) and the caps on connections before hello are abuse limits, far below what a
 * benchmark offers.
 */
export const RELAY_BENCH_ARGS = [
  "--rate",
  "1000000",
  "--rate-burst",
  "1000000",
  "--max-peers-per-map",
  "100000",
  "--max-maps",
  "100000",
  "--max-maps-per-addr",
  "100000",
  "--create-rate",
  "1000000",
  "--create-burst",
  "1000000",
  // Peers join in batches of up to 100 from one address.
  "--max-pending",
  "100000",
  "--max-pending-per-addr",
  "100000",
  // 20 000 peers connecting from one process on a busy 2-core machine can take longer than 10 s
  // between opening a socket and its hello.
  "--hello-timeout-ms",
  "120000",
  // The bare Deno broadcast runs with Deno.upgradeWebSocket's default of 120 s without a pong; a
  // generator that falls tens of seconds behind on a busy machine (s7) answers pings that late,
  // and the relay's 30 s would close its peers and count their deliveries as lost.
  "--idle-timeout",
  "120",
];

const ALL_SERVERS: ServerName[] = ["relay", "deno", "node-ws", "socketio"];
const SCENARIOS = {
  s1: scenario1,
  s2: scenario2,
  s3: scenario3,
  s4: scenario4,
  s5: scenario5,
  s6: scenario6,
  s7: scenario7,
  s8: scenario8,
  tiles: tileScenario,
  cluster: clusterScenario,
};
type ScenarioId = keyof typeof SCENARIOS;

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", cwd: ROOT })
      .output();
    return new TextDecoder().decode(out.success ? out.stdout : out.stderr).trim();
  } catch {
    return "not installed";
  }
}

async function environment(mode: Mode): Promise<Environment> {
  const cpuinfo = Deno.readTextFileSync("/proc/cpuinfo");
  const meminfo = Deno.readTextFileSync("/proc/meminfo");
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  const imports = denoJson.imports as Record<string, string>;
  const pkg = (name: string) => imports[name]?.replace(/^npm:/, "").split("@").pop() ?? "?";
  const limits = Deno.readTextFileSync("/proc/self/limits");
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    mode,
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown CPU",
    cores: navigator.hardwareConcurrency,
    memory: `${(memKb / 2 ** 20).toFixed(0)} GiB`,
    kernel: Deno.osRelease(),
    versions: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      node: await output("node", ["--version"]),
      haproxy: (await output("haproxy", ["-v"])).split("\n")[0].replace(/^HAProxy version /, "")
        .split(" ")[0],
      ws: pkg("ws"),
      "socket.io": pkg("socket.io"),
      relay: denoJson.version,
    },
    commit: await output("git", ["rev-parse", "--short", "HEAD"]),
    loadavg: Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" "),
    openFiles: /Max open files\s+(\S+)/.exec(limits)?.[1] ?? "?",
  };
}

const TEMPLATE = `# Benchmarks

How to run, what is measured and how to read the numbers: see "Method" below.

${START}
${END}
`;

/** Replaces the generated section of BENCHMARKS.md, keeping everything written by hand. */
export function spliceResults(existing: string | null, generated: string): string {
  const text = existing && existing.includes(START) && existing.includes(END) ? existing : TEMPLATE;
  const before = text.slice(0, text.indexOf(START) + START.length);
  const after = text.slice(text.indexOf(END));
  return `${before}\n${generated}\n${after}`;
}

/** Replaces scenarios of the newest saved run of `mode` with `fresh` ones (kept in SCENARIOS order). */
async function mergeWithPrevious(mode: Mode, fresh: ScenarioResult[]): Promise<ScenarioResult[]> {
  const dir = `${ROOT}bench/results`;
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && e.name.endsWith(`-${mode}.json`)) names.push(e.name);
    }
  } catch {
    return fresh;
  }
  const newest = names.sort().at(-1);
  if (!newest) return fresh;
  const previous = JSON.parse(await Deno.readTextFile(`${dir}/${newest}`)) as {
    env: Environment;
    results: ScenarioResult[];
  };
  const byId = new Map<string, ScenarioResult>(
    previous.results.map((r) => [r.id, { ...r, ranAt: r.ranAt ?? previous.env.date }]),
  );
  for (const r of fresh) byId.set(r.id, r);
  return Object.keys(SCENARIOS).flatMap((id) => byId.get(id) ?? []);
}

/**
 * Appends each line to `file`. A write that fails (a full disk) is reported once and ends the
 * logging, not the run: the caller reads the relay's output line by line and must not throw.
 */
function lineWriter(file: Deno.FsFile): (line: string) => void {
  const encoder = new TextEncoder();
  let failed = false;
  return (line) => {
    if (failed) return;
    try {
      const bytes = encoder.encode(line + "\n");
      for (let at = 0; at < bytes.length;) at += file.writeSync(bytes.subarray(at));
    } catch (e) {
      failed = true;
      console.error(`bench: --relay-log stopped: ${e instanceof Error ? e.message : e}`);
    }
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      full: { type: "boolean" },
      smoke: { type: "boolean" },
      only: { type: "string" },
      servers: { type: "string" },
      "no-write": { type: "boolean" },
      out: { type: "string" },
      json: { type: "string" },
      "relay-arg": { type: "string", multiple: true },
      "cpu-prof": { type: "boolean" },
      "relay-v8-flags": { type: "string" },
      "relay-log": { type: "string" },
      "relay-inspect": { type: "boolean" },
      generators: { type: "string" },
      "rate-scale": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(
      `deno task bench [--full | --smoke] [--only s1,s2,...] [--servers relay,deno,node-ws,socketio]
  [--no-write] [--out FILE.md] [--json FILE] [--relay-arg FLAG]... [--cpu-prof]
  [--relay-v8-flags FLAGS] [--relay-log FILE] [--relay-inspect] [--generators N] [--rate-scale X]
--relay-log appends every line the relay prints to FILE (with --relay-v8-flags=...,--trace-gc, V8's
collections too); --relay-inspect opens the relay's inspector on 127.0.0.1:9229 for
bench/heap_snapshot.ts. Run one scenario and one relay at a time with it.
s7 (10 000 peers) runs only when asked for (--only s7) and needs \`ulimit -n\` above 10 500.
cluster (PostgreSQL 15, four relays, HAProxy: bench/cluster.ts) runs only when asked for (--only cluster).
Short mode (default) takes under 2 minutes; --full runs longer steps and more rates.
Results go to stdout and, unless --no-write or --smoke, to BENCHMARKS.md (generated section only).`,
    );
    Deno.exit(0);
  }
  const mode: Mode = values.full ? "full" : values.smoke ? "smoke" : "short";
  // s7 holds 10 000 connections for minutes and needs a raised open-file limit, and cluster
  // needs PostgreSQL and four relays: only on request.
  const only = (values.only?.split(",") ?? Object.keys(SCENARIOS).filter((id) =>
    id !== "s7" && id !== "cluster"
  )) as ScenarioId[];
  for (const id of only) {
    if (!(id in SCENARIOS)) {
      console.error(`unknown scenario "${id}": use ${Object.keys(SCENARIOS).join(", ")}`);
      Deno.exit(2);
    }
  }
  const servers = (values.servers?.split(",") ?? ALL_SERVERS) as ServerName[];
  for (const s of servers) {
    if (!ALL_SERVERS.includes(s)) {
      console.error(`unknown server "${s}": use ${ALL_SERVERS.join(", ")}`);
      Deno.exit(2);
    }
  }
  const profDir = `${ROOT}bench/results/prof`;
  const relayLog = values["relay-log"] === undefined
    ? undefined
    : lineWriter(Deno.openSync(values["relay-log"], { create: true, append: true }));
  const ctx: ScenarioContext = {
    mode,
    servers,
    log: (line) => console.error(line),
    relayArgs: [...RELAY_BENCH_ARGS, ...(values["relay-arg"] ?? [])],
    relayDenoFlags: [
      ...(values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : []),
      ...(values["relay-inspect"] ? ["--inspect=127.0.0.1:9229"] : []),
      // The relay runs with its shipped V8 flags unless others are asked for.
      `--v8-flags=${values["relay-v8-flags"] ?? RELAY_V8_FLAGS.join(",")}`,
    ],
    relayLog,
    generators: values.generators ? Math.max(1, Number(values.generators)) : undefined,
    rateScale: values["rate-scale"] ? Number(values["rate-scale"]) : undefined,
  };
  const env = await environment(mode);
  console.error(`bench: mode ${mode}, scenarios ${only.join(",")}, servers ${servers.join(",")}`);
  const started = performance.now();
  const results: ScenarioResult[] = [];
  for (const id of only) {
    console.error(`== ${id}`);
    const result = await SCENARIOS[id](ctx);
    results.push(result);
    console.log(scenarioMarkdown(result));
  }
  for (const r of results) r.ranAt = env.date;
  const writing = !values["no-write"] && mode !== "smoke";
  // A partial run (--only) is merged into the newest earlier run of the same mode, so that
  // re-measuring one scenario does not drop the others from BENCHMARKS.md.
  const merged = writing && values.only ? await mergeWithPrevious(mode, results) : results;
  const generated = resultsMarkdown(env, merged);
  console.log(
    generated.split("#### Targets")[1]
      ? `#### Targets${generated.split("#### Targets")[1].split("\n### ")[0]}`
      : "",
  );
  console.error(`bench: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (values.json) {
    await Deno.writeTextFile(values.json, JSON.stringify({ env, results }, null, 2));
  }
  if (writing) {
    await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
    await Deno.writeTextFile(
      `${ROOT}bench/results/${env.date.replaceAll(":", "")}-${mode}.json`,
      JSON.stringify({ env, results: merged }, null, 2),
    );
    const out = values.out ?? `${ROOT}BENCHMARKS.md`;
    const existing = await Deno.readTextFile(out).catch(() => null);
    await Deno.writeTextFile(out, spliceResults(existing, generated));
    console.error(`bench: wrote ${out}`);
  }
}
