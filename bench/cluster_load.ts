/** One open-loop load through HAProxy onto several relays, with the CPU of every process involved (relays, HAProxy, PostgreSQL, generator, the whole box). */
import { type LoadResult, type LoadSpec, type RoomRef, summarize } from "./load.ts";
import { connectPart } from "./load.ts";
import { childPids, ProcSampler, type ProcSummary } from "./proc.ts";
import { startServer } from "./servers.ts";
import { startHaproxy } from "../tests/_haproxy.ts";
import { createMap } from "../tests/_relay.ts";

/** Options for {@link runClusterLoad}. */
export interface ClusterLoadOptions {
  /** `https://…` of HAProxy. */
  baseUrl: string;
  client: Deno.HttpClient;
  rooms: RoomRef[];
  spec: LoadSpec;
  log: (line: string) => void;
  label: string;
  /** Process groups to measure by name (`r1`, `haproxy`, ...): their pids. */
  processes: Record<string, number[]>;
  /** The PostgreSQL server's postmaster pid: it and its children (backends) are measured. */
  postmaster?: number;
  onAck?: (room: number, editId: string) => void;
}

/** What {@link runClusterLoad} measured. */
export interface ClusterLoad {
  load: LoadResult;
  /** Mean CPU in the window, in cores (1 = one full core), per process group. */
  cores: Record<string, number>;
  /** The whole machine's busy CPU in the window, in cores. */
  boxCores: number;
  generatorCores: number;
}

function sumSummaries(list: ProcSummary[]): ProcSummary {
  return {
    cpuSeconds: list.reduce((a, s) => a + s.cpuSeconds, 0),
    cpuCores: list.reduce((a, s) => a + s.cpuCores, 0),
    peakRssBytes: list.reduce((a, s) => a + s.peakRssBytes, 0),
    endRssBytes: list.reduce((a, s) => a + s.endRssBytes, 0),
  };
}

/** Reads the postmaster's pid from its data directory (`postmaster.pid`, first line). */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(Deno.readTextFileSync(`${dataDir}/postmaster.pid`).split("\n")[0]);
  } catch {
    return undefined;
  }
}

/**
 * Connects the peers through HAProxy, offers `spec` open-loop and accounts for every delivery as
 * bench/load.ts does; the relays' CPU is summed into the result's server figures.
 */
export async function runClusterLoad(o: ClusterLoadOptions): Promise<ClusterLoad> {
  const part = await connectPart({
    kind: "relay",
    baseUrl: o.baseUrl,
    rooms: o.rooms,
    spec: o.spec,
    log: o.log,
    label: o.label,
    client: o.client,
    onAck: o.onAck,
  });
  try {
    // Let join and presence traffic settle before the clock starts.
    await new Promise((r) => setTimeout(r, 300));
    let samplers: Map<string, ProcSampler[]> | undefined;
    let window: Map<string, ProcSummary> | undefined;
    const sendStart = performance.now();
    const result = await part.run(sendStart, {
      windowStart: () => {
        const groups: Record<string, number[]> = { ...o.processes };
        if (o.postmaster) groups.postgres = [o.postmaster, ...childPids(o.postmaster)];
        samplers = new Map(
          Object.entries(groups).map(([k, pids]) => [k, pids.map((p) => new ProcSampler(p))]),
        );
        samplers.set("generator", [new ProcSampler("self")]);
        samplers.set("box", [new ProcSampler("system")]);
      },
      sendEnd: () => {
        if (!samplers) return;
        window = new Map(
          [...samplers].map(([k, list]) => [k, sumSummaries(list.map((s) => s.stop()))]),
        );
      },
    });
    const cores: Record<string, number> = {};
    for (const [k, s] of window ?? []) cores[k] = s.cpuCores;
    const relayNames = Object.keys(o.processes).filter((k) => /^r\d+$/.test(k));
    const relays = sumSummaries(
      relayNames.map((k) => window?.get(k)).filter((s) => s !== undefined),
    );
    const load = summarize("relay", o.spec, (o.spec.warmupS + o.spec.measureS) * 1000, [result], {
      whole: relays,
      server: relays,
      generatorCores: cores.generator ?? NaN,
      systemCores: cores.box ?? NaN,
      generators: 1,
    });
    // summarize's "other" is the box minus relays and generator; HAProxy and PostgreSQL are
    // part of this system, so they are taken out too.
    load.otherCores = Math.max(0, load.otherCores - (cores.haproxy ?? 0) - (cores.postgres ?? 0));
    return { load, cores, boxCores: cores.box ?? NaN, generatorCores: cores.generator ?? NaN };
  } finally {
    await part.close();
  }
}

/**
 * The same load on one relay with SQLite behind haproxy/haproxy.cfg (TLS), the setup before
 * issue 13: what the cluster's figures compare with.
 */
export async function runSqliteLoad(
  o: { relayArgs: string[]; spec: LoadSpec; log: (line: string) => void; label: string },
): Promise<ClusterLoad> {
  await using relay = await startServer("relay", {
    relayArgs: [...o.relayArgs, "--trust-proxy", "127.0.0.1"],
  });
  const before = new Set(childPids(Deno.pid, "haproxy"));
  await using proxy = await startHaproxy({
    relayPort: relay.port,
    env: {
      DM_MAX_CONN_PER_ADDR: "100000",
      DM_MAX_CONN_RATE_PER_ADDR: "100000",
      DM_MAXCONN: "4000",
    },
  });
  const haproxy = childPids(Deno.pid, "haproxy").filter((p) => !before.has(p));
  const rooms: RoomRef[] = [];
  for (let i = 0; i < o.spec.rooms; i++) {
    const map = await createMap(proxy.httpsUrl, `${o.label} ${i}`, proxy.client);
    rooms.push({ room: map.id, key: map.editKey });
  }
  return await runClusterLoad({
    baseUrl: proxy.httpsUrl,
    client: proxy.client,
    rooms,
    spec: o.spec,
    log: o.log,
    label: o.label,
    processes: { r1: [relay.pid], haproxy },
  });
}
