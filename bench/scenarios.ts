/** The six benchmark scenarios, each a function from a mode (smoke, short, full) to measured rows. */
import { Histogram } from "./histogram.ts";
import { latencyOf, type LoadResult, type LoadSpec, type RoomRef, runLoad } from "./load.ts";
import { connectPeer } from "./peers.ts";
import { readProc } from "./proc.ts";
import { type ServerName, type ServerProcess, startServer } from "./servers.ts";
import { startHaproxy } from "../tests/_haproxy.ts";

/** How long and how hard to run. */
export type Mode = "smoke" | "short" | "full";

/** What every scenario gets. */
export interface ScenarioContext {
  mode: Mode;
  /** Which servers to run, in order (the relay may be left out while it does not start). */
  servers: ServerName[];
  log: (line: string) => void;
  /** Flags for the relay that lift its abuse limits to what the load needs. */
  relayArgs: string[];
  /** Deno flags for the relay process (e.g. `--cpu-prof`). */
  relayDenoFlags?: string[];
  /** Gets each line the relay prints (its JSON log, and V8's traces when asked for). */
  relayLog?: (line: string) => void;
  /** Load generator processes for the big scenarios (s7, s8); their own default when absent. */
  generators?: number;
  /** s7's per-peer rates times this (to find where it breaks). @default 1 */
  rateScale?: number;
}

/** One measured row of a scenario. */
export interface Row {
  scenario: string;
  server: ServerName;
  /** A short description of the step (rate, peer count). */
  step: string;
  load?: LoadResult;
  /** Scenario-specific numbers (ms, bytes, ...), by name. */
  values?: Record<string, number>;
  /** Why this row has no numbers, when it has none. */
  error?: string;
  note?: string;
  /** For the relay in scenario 1: which message carried the load. */
  variant?: "cursor" | "edit";
}

/** A scenario's outcome: rows, or a reason it did not run. */
export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  pending?: string;
  /** When this scenario was measured (it may come from an earlier run merged in). */
  ranAt?: string;
}

type Fetcher = (url: string, init?: RequestInit) => Promise<Response>;

/** Rooms for a load: maps created on the relay (with their edit keys), names for the baselines. */
export async function roomsFor(
  server: ServerProcess,
  count: number,
  fetcher: Fetcher = fetch,
  baseUrl?: string,
) {
  const rooms: RoomRef[] = [];
  for (let i = 0; i < count; i++) {
    if (server.kind !== "relay") {
      rooms.push({ room: `room${i}` });
      continue;
    }
    const res = await fetcher(`${baseUrl ?? server.url}/api/maps`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: `bench ${i}` }),
    });
    if (res.status !== 201) throw new Error(`POST /api/maps answered ${res.status}`);
    const map = await res.json() as { id: string; editKey: string };
    rooms.push({ room: map.id, key: map.editKey });
  }
  return rooms;
}

/** Starts a server, runs `fn` with it, and stops it whatever happens. */
export async function withServer<T>(
  ctx: ScenarioContext,
  name: ServerName,
  fn: (s: ServerProcess) => Promise<T>,
): Promise<T> {
  await using server = await startServer(name, {
    relayArgs: ctx.relayArgs,
    relayDenoFlags: ctx.relayDenoFlags,
    onLine: name === "relay" ? ctx.relayLog : undefined,
  });
  return await fn(server);
}

/** A row saying why a step has no numbers. */
export function errorRow(scenario: string, server: ServerName, step: string, e: unknown): Row {
  return {
    scenario,
    server,
    step,
    error: e instanceof Error ? e.message.split("\n")[0] : String(e),
  };
}

function durations(mode: Mode) {
  return mode === "smoke"
    ? { warmupS: 0.3, measureS: 1, maxDrainS: 1.5 }
    : mode === "short"
    ? { warmupS: 0.5, measureS: 2.5, maxDrainS: 2 }
    : { warmupS: 2, measureS: 15, maxDrainS: 5 };
}

/**
 * Whether a load step kept up: under 1% lost, p99 at most 100 ms (past that the server is
 * queueing, not keeping up), and 97% of what was owed delivered or superseded.
 */
export function keptUp(l: LoadResult): boolean {
  return l.lost <= 0.01 * l.expected && l.latency.p99 <= 100 &&
    l.delivered + l.coalesced >= 0.97 * l.expected;
}

/**
 * (1) 32 peers in one room, all broadcasting stamped cursors. Open-loop at rising per-peer
 * rates, each step on fresh connections to the same server process, until a step does not keep
 * up: the last step that kept up is the server's sustained throughput, the first that did not
 * shows how it fails.
 */
export async function scenario1(ctx: ScenarioContext): Promise<ScenarioResult> {
  const rates = ctx.mode === "smoke"
    ? [50]
    : ctx.mode === "short"
    ? [100, 300, 1000, 3000]
    : [50, 100, 200, 300, 400, 600, 800, 1200, 1600, 2400, 3200, 4800, 6400];
  const rows: Row[] = [];
  const times = ctx.mode === "full"
    ? { warmupS: 1, measureS: 5, maxDrainS: 3 }
    : ctx.mode === "short"
    ? { warmupS: 0.3, measureS: 1.5, maxDrainS: 1 }
    : durations(ctx.mode);
  // The relay runs twice: with cursors (what it coalesces, newest wins, so it may deliver less
  // than was sent) and with small edits (every one validated, made durable and delivered to
  // all 32, the author included). The baselines forward the cursor frames unchanged.
  type Run = { name: ServerName; variant?: "cursor" | "edit" };
  const runs = ctx.servers.flatMap((name): Run[] =>
    name === "relay"
      ? [{ name, variant: "cursor" as const }, { name, variant: "edit" as const }]
      : [{ name }]
  );
  for (const { name, variant } of runs) {
    try {
      await withServer(ctx, name, async (server) => {
        for (const hz of rates) {
          const step = `${hz}/s per peer`;
          const edits = variant === "edit";
          const spec: LoadSpec = {
            rooms: 1,
            peersPerRoom: 32,
            cursorHz: edits ? 0 : hz,
            viewHz: 0,
            editHz: edits ? hz : 0,
            editBytes: [0, 0],
            editReplace: true,
            stalledFraction: 0,
            ...times,
          };
          const label = `s1 ${name}${variant ? ` ${variant}s` : ""} ${hz}/s`;
          const load = await runLoad({
            server,
            rooms: await roomsFor(server, 1),
            spec,
            log: ctx.log,
            label,
          });
          const ok = keptUp(load);
          rows.push({
            scenario: "s1",
            server: name,
            step,
            load,
            variant,
            note: ok ? "kept up" : "overloaded",
          });
          if (!ok) break;
        }
      });
    } catch (e) {
      rows.push({ ...errorRow("s1", name, "", e), variant });
    }
  }
  return {
    id: "s1",
    title:
      "32 peers, one room, everyone broadcasting cursors (open-loop, rising rate until overloaded)",
    rows,
  };
}

/** The map workload of scenarios 2-4: 20 maps x 10 peers, cursors 20 Hz, views, edits 1-50 KB. */
export function mapSpec(mode: Mode, extra: Partial<LoadSpec> = {}): LoadSpec {
  return {
    rooms: mode === "smoke" ? 4 : 20,
    peersPerRoom: 10,
    cursorHz: 20,
    viewHz: 1,
    editHz: 0.2,
    editBytes: [1024, 50 * 1024],
    stalledFraction: 0,
    ...durations(mode),
    ...extra,
  };
}

/** (2) 20 maps x 10 peers: cursors at 20 Hz, a view change a second, an edit of 1-50 KB every 5 s. */
export async function scenario2(ctx: ScenarioContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const spec = mapSpec(ctx.mode);
  for (const name of ctx.servers) {
    try {
      await withServer(ctx, name, async (server) => {
        const load = await runLoad({
          server,
          rooms: await roomsFor(server, spec.rooms),
          spec,
          log: ctx.log,
          label: `s2 ${name}`,
        });
        rows.push({
          scenario: "s2",
          server: name,
          step: `${spec.rooms}x${spec.peersPerRoom}`,
          load,
        });
      });
    } catch (e) {
      rows.push(errorRow("s2", name, "", e));
    }
  }
  return {
    id: "s2",
    title:
      `${spec.rooms} maps x ${spec.peersPerRoom} peers: cursors 20 Hz, views 1 Hz, edits 1-50 KB`,
    rows,
  };
}

/** (3) Scenario 2's load on the relay through HAProxy terminating TLS. */
export async function scenario3(ctx: ScenarioContext): Promise<ScenarioResult> {
  const title = "scenario 2 through HAProxy (TLS termination)";
  if (!ctx.servers.includes("relay")) {
    return { id: "s3", title, rows: [], pending: "relay not run" };
  }
  const spec = mapSpec(ctx.mode);
  const rows: Row[] = [];
  try {
    await withServer(ctx, "relay", async (server) => {
      await using proxy = await startHaproxy({
        relayPort: server.port,
        env: {
          DM_MAX_CONN_PER_ADDR: "100000",
          DM_MAX_CONN_RATE_PER_ADDR: "100000",
          // Each HAProxy connection takes two descriptors; its maxconn must fit the open-file limit.
          DM_MAXCONN: "4000",
        },
      });
      const rooms = await roomsFor(server, spec.rooms, (path, init) => proxy.fetch(path, init), "");
      const load = await runLoad({
        server,
        baseUrl: proxy.httpsUrl,
        client: proxy.client,
        rooms,
        spec,
        log: ctx.log,
        label: "s3 relay+haproxy",
      });
      rows.push({ scenario: "s3", server: "relay", step: "via HAProxy TLS", load });
    });
  } catch (e) {
    rows.push(errorRow("s3", "relay", "via HAProxy TLS", e));
  }
  return { id: "s3", title, rows };
}

/** (4) Scenario 2's load, without and then with 10% of peers not reading. */
export async function scenario4(ctx: ScenarioContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const names = ctx.servers.filter((s) => s === "relay" || (ctx.mode === "full" && s === "deno"));
  for (const name of names) {
    for (const stalledFraction of [0, 0.1]) {
      const step = stalledFraction === 0 ? "all reading" : "10% stalled";
      // Loopback sockets here buffer up to ~36 MB per connection in the kernel (tcp_rmem max
      // 32 MiB + tcp_wmem 4 MiB) before a server sees any backlog; at this load a stalled peer
      // is owed well under 0.1 MB/s, so the relay's own outbox limit (--max-buffered-bytes) is
      // not reached in these runs: they show the effect on healthy peers and on server memory.
      const spec = mapSpec(ctx.mode, { stalledFraction });
      try {
        await withServer(ctx, name, async (server) => {
          const load = await runLoad({
            server,
            rooms: await roomsFor(server, spec.rooms),
            spec,
            log: ctx.log,
            label: `s4 ${name} ${step}`,
          });
          rows.push({ scenario: "s4", server: name, step, load });
        });
      } catch (e) {
        rows.push(errorRow("s4", name, step, e));
      }
    }
  }
  return {
    id: "s4",
    title: "slow consumers: scenario 2's load, all reading, then 10% of peers never reading",
    rows,
  };
}

/** A FeatureCollection of `n` features: 70% points, 20% 5-vertex lines, 10% hexagons. */
export function seedFeatures(n: number) {
  const features = [];
  for (let i = 0; i < n; i++) {
    const lng = -170 + (i % 340);
    const lat = -80 + Math.floor(i / 340) % 160;
    const kind = i % 10;
    const geometry = kind < 7
      ? { type: "Point", coordinates: [lng + 0.5, lat + 0.5] }
      : kind < 9
      ? {
        type: "LineString",
        coordinates: [0, 1, 2, 3, 4].map((k) => [lng + k * 0.1, lat + (k % 2) * 0.1]),
      }
      : {
        type: "Polygon",
        coordinates: [[0, 1, 2, 3, 4, 5, 0].map((k) => [
          lng + 0.5 + 0.3 * Math.cos((k * Math.PI) / 3),
          lat + 0.5 + 0.3 * Math.sin((k * Math.PI) / 3),
        ])],
      };
    features.push({
      type: "Feature",
      id: `seed-${i}`,
      geometry,
      properties: { name: `Feature ${i}`, kind: geometry.type, rank: i % 17 },
    });
  }
  return { type: "FeatureCollection", features };
}

/** (5) Joining a map of 10 000 features: from opening the socket to the full snapshot parsed. */
export async function scenario5(ctx: ScenarioContext): Promise<ScenarioResult> {
  const title = "joining a map of 10 000 features: time to the full snapshot";
  if (!ctx.servers.includes("relay")) {
    return { id: "s5", title, rows: [], pending: "relay not run" };
  }
  const count = ctx.mode === "smoke" ? 1000 : 10_000;
  const joins = ctx.mode === "full" ? 20 : 5;
  const rows: Row[] = [];
  try {
    await withServer(ctx, "relay", async (server) => {
      const [ref] = await roomsFor(server, 1);
      const body = JSON.stringify(seedFeatures(count));
      const t0 = performance.now();
      const res = await fetch(`${server.url}/api/maps/${ref.room}/features?key=${ref.key}`, {
        method: "PUT",
        headers: { "content-type": "application/geo+json" },
        body,
      });
      const putMs = performance.now() - t0;
      if (!res.ok) throw new Error(`PUT features answered ${res.status}: ${await res.text()}`);
      await res.body?.cancel();
      const h = new Histogram();
      let bytes = 0;
      for (let i = 0; i < joins; i++) {
        const start = performance.now();
        const peer = await connectPeer({
          kind: "relay",
          baseUrl: server.url,
          room: ref.room,
          key: ref.key,
          name: `joiner-${i}`,
          onMessage: () => {},
        });
        const took = performance.now() - start;
        const fc = peer.welcome?.features as { features?: unknown[] } | undefined;
        const got = fc?.features?.length ?? 0;
        if (got !== count) throw new Error(`welcome held ${got} features, expected ${count}`);
        bytes = JSON.stringify(peer.welcome).length;
        h.record(took * 1000);
        await peer.close();
        ctx.log(`  [s5] join ${i + 1}/${joins}: ${took.toFixed(1)} ms`);
      }
      // Ten joining at once, as when a shared link is opened in a meeting.
      const start = performance.now();
      const burst = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          connectPeer({
            kind: "relay",
            baseUrl: server.url,
            room: ref.room,
            key: ref.key,
            name: `burst-${i}`,
            onMessage: () => {},
          }).then((p) => ({ p, ms: performance.now() - start }))),
      );
      const burstMs = Math.max(...burst.map((b) => b.ms));
      await Promise.all(burst.map((b) => b.p.close()));
      const l = latencyOf(h);
      rows.push({
        scenario: "s5",
        server: "relay",
        step: `${count} features`,
        values: {
          median_ms: l.p50,
          max_ms: l.max,
          ten_at_once_ms: burstMs,
          snapshot_bytes: bytes,
          put_ms: putMs,
          rss_bytes: readProc(server.pid).rssBytes,
        },
      });
    });
  } catch (e) {
    rows.push(errorRow("s5", "relay", `${count} features`, e));
  }
  return { id: "s5", title, rows };
}

/** The open-file limit of this process (inherited by the servers it starts). */
export function openFileLimit(): number {
  const limits = Deno.readTextFileSync("/proc/self/limits");
  const m = /Max open files\s+(\d+|unlimited)/.exec(limits);
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/** How long s6 leaves its idle connections before the settled reading. */
const IDLE_SETTLE_MS = 35_000;

/** (6) Idle connections (in rooms of 10): server RSS growth per connection at 1 000 and 5 000. */
export async function scenario6(ctx: ScenarioContext): Promise<ScenarioResult> {
  const title = "idle connections: server memory per connection";
  const fdLimit = openFileLimit();
  // Issue 14 asks for 20 000 connections (full run): both this process and the server hold one
  // descriptor per connection, so a lower open-file limit caps the level just below it.
  const levels =
    (ctx.mode === "smoke" ? [100, 300] : ctx.mode === "full" ? [1000, 5000, 20_000] : [1000, 5000])
      .map((n) => Math.min(n, fdLimit - 300));
  // This process holds one socket per peer; the server (same limit, inherited) one per peer too.
  const need = Math.max(...levels) + 200;
  if (fdLimit < need) {
    return {
      id: "s6",
      title,
      rows: [],
      pending: `open-file limit ${fdLimit} < ${need}: run with a higher \`ulimit -n\``,
    };
  }
  const rows: Row[] = [];
  for (const name of ctx.servers) {
    // The short run measures the Node servers at the first level only: connecting 5 000
    // Socket.IO clients alone takes over 10 s here.
    const mine = ctx.mode === "short" && (name === "node-ws" || name === "socketio")
      ? levels.slice(0, 1)
      : levels;
    try {
      await withServer(ctx, name, async (server) => {
        const perRoom = 10;
        const rooms = await roomsFor(server, Math.ceil(Math.max(...mine) / perRoom));
        // A few connections first, so lazily made structures are not billed to the first level.
        const peers: { close(): Promise<void> }[] = [];
        const connectUpTo = async (n: number) => {
          while (peers.length < n) {
            const batch = Math.min(100, n - peers.length);
            const made = await Promise.all(Array.from({ length: batch }, (_, k) => {
              const i = peers.length + k;
              const ref = rooms[Math.floor(i / perRoom)];
              return connectPeer({
                kind: server.kind,
                baseUrl: server.url,
                room: ref.room,
                key: ref.key,
                name: `idle-${i}`,
                onMessage: () => {},
                timeoutMs: 60_000,
              });
            }));
            peers.push(...made);
          }
        };
        try {
          await connectUpTo(10);
          // The baseline settles as the readings after 35 s idle do (start-up grows the young
          // generation too), or those readings would be measured against an inflated base.
          await new Promise((r) => setTimeout(r, ctx.mode === "smoke" ? 1000 : IDLE_SETTLE_MS));
          const base = readProc(server.pid).rssBytes;
          for (const level of mine) {
            const t0 = performance.now();
            await connectUpTo(level);
            const connectMs = performance.now() - t0;
            // Let the server settle (and collect garbage) before reading its memory.
            await new Promise((r) => setTimeout(r, ctx.mode === "full" ? 3000 : 1500));
            const rss = readProc(server.pid).rssBytes;
            ctx.log(`  [s6 ${name}] ${level} idle: rss ${(rss / 2 ** 20).toFixed(1)} MiB`);
            const values: Record<string, number> = {
              rss_bytes: rss,
              base_rss_bytes: base,
              bytes_per_conn: (rss - base) / (level - 10),
              connect_ms: connectMs,
            };
            // What an operator sees once the connections have been idle a while: V8 gives back
            // the young generation grown during the burst of connections only when its memory
            // reducer runs, about 30 s later, in the Deno and Node servers alike.
            if (ctx.mode === "full" || (ctx.mode === "short" && level === mine.at(-1))) {
              await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
              const settled = readProc(server.pid).rssBytes;
              ctx.log(
                `  [s6 ${name}] ${level} idle, settled: rss ${(settled / 2 ** 20).toFixed(1)} MiB`,
              );
              values.settled_rss_bytes = settled;
              values.settled_bytes_per_conn = (settled - base) / (level - 10);
            }
            rows.push({ scenario: "s6", server: name, step: `${level} idle`, values });
          }
        } finally {
          for (let i = 0; i < peers.length; i += 500) {
            await Promise.all(peers.slice(i, i + 500).map((p) => p.close()));
          }
        }
      });
    } catch (e) {
      rows.push(errorRow("s6", name, "", e));
    }
  }
  return {
    id: "s6",
    title: `${title} (open-file limit ${fdLimit}, inherited by the servers)`,
    rows,
  };
}
