/** Scenarios of people spread over many small maps: s8 (1 000-1 700 peers in maps of 20 and 10) and s7 (10 000 live peers). */
import { type LoadResult, type LoadSpec, runLoad, type RunLoadOptions } from "./load.ts";
import { runLoadSplit } from "./load_split.ts";
import {
  errorRow,
  keptUp,
  type Mode,
  openFileLimit,
  roomsFor,
  type Row,
  type ScenarioContext,
  type ScenarioResult,
  withServer,
} from "./scenarios.ts";

function run(o: RunLoadOptions, generators: number): Promise<LoadResult> {
  return generators > 1 ? runLoadSplit(o, generators) : runLoad(o);
}

// The drain is long: on a shared 2-core machine a starved server or generator delivers seconds
// late, and what arrives late is late, not lost.
function times(mode: Mode, full: number, short: number) {
  return mode === "smoke"
    ? { warmupS: 0.5, measureS: 1.5, maxDrainS: 2 }
    : mode === "short"
    ? { warmupS: 2, measureS: short, maxDrainS: 15 }
    : { warmupS: 3, measureS: full, maxDrainS: 15 };
}

/**
 * The human-rate presence load of issue 14: cursors 5 Hz, a view every 2 s, a small edit every
 * 30 s per peer, in `rooms` maps of `size`.
 */
export function smallMapsSpec(mode: Mode, rooms: number, size: number): LoadSpec {
  return {
    rooms: mode === "smoke" ? Math.min(rooms, 20) : rooms,
    peersPerRoom: size,
    cursorHz: 5,
    viewHz: 0.5,
    editHz: 1 / 30,
    editBytes: [100, 1000],
    stalledFraction: 0,
    ...times(mode, 20, 10),
  };
}

/** (8) Many small maps: 1 000 peers in 50 maps of 20, then 1 700 peers in 170 maps of 10. */
export async function scenario8(ctx: ScenarioContext): Promise<ScenarioResult> {
  const rows: Row[] = [];
  const generators = ctx.generators ?? 1;
  for (const name of ctx.servers) {
    for (const [rooms, size] of [[50, 20], [170, 10]]) {
      const spec = smallMapsSpec(ctx.mode, rooms, size);
      const step = `${spec.rooms} maps of ${size}`;
      try {
        await withServer(ctx, name, async (server) => {
          const load = await run({
            server,
            rooms: await roomsFor(server, spec.rooms),
            spec,
            log: ctx.log,
            label: `s8 ${name} ${step}`,
          }, generators);
          rows.push({ scenario: "s8", server: name, step, load });
        });
      } catch (e) {
        rows.push(errorRow("s8", name, step, e));
      }
    }
  }
  return {
    id: "s8",
    title:
      "many small maps: cursors 5 Hz, a view every 2 s, an edit of 0.1-1 KB every 30 s per peer",
    rows,
  };
}

/**
 * The s7 load: 1 000 maps of 10, cursors 1 Hz per peer on average (30% of peers move in bursts:
 * 5 Hz for 2 s of every 10), a view every 5 s, an edit every 60 s.
 */
export function s7Spec(mode: Mode, rateScale = 1): LoadSpec {
  return {
    rooms: mode === "smoke" ? 30 : 1000,
    peersPerRoom: 10,
    cursorHz: 1 * rateScale,
    viewHz: 0.2 * rateScale,
    editHz: rateScale / 60,
    editBytes: [100, 1000],
    stalledFraction: 0,
    burst: { fraction: 0.3, onS: 2, offS: 8 },
    ...times(mode, 60, 20),
  };
}

/** (7) 10 000 live peers on one box, over several generator processes. */
export async function scenario7(ctx: ScenarioContext): Promise<ScenarioResult> {
  const scale = ctx.rateScale ?? 1;
  const spec = s7Spec(ctx.mode, scale);
  const title = `${spec.rooms * spec.peersPerRoom} live peers: ${spec.rooms} maps of 10, ${
    scale === 1 ? "" : `at ${scale}x the rates: `
  }cursors 1 Hz (bursty), a view every 5 s, an edit every 60 s`;
  const peers = spec.rooms * spec.peersPerRoom;
  const fdLimit = openFileLimit();
  if (fdLimit < peers + 500) {
    return {
      id: "s7",
      title,
      rows: [],
      pending: `open-file limit ${fdLimit} < ${peers + 500}: raise it (\`ulimit -n 65536\`)`,
    };
  }
  const generators = ctx.generators ?? (ctx.mode === "smoke" ? 1 : 2);
  const rows: Row[] = [];
  for (const name of ctx.servers) {
    if (name === "socketio") continue;
    try {
      await withServer(ctx, name, async (server) => {
        const load = await run({
          server,
          rooms: await roomsFor(server, spec.rooms),
          spec,
          log: ctx.log,
          label: `s7 ${name}`,
        }, generators);
        const ok = keptUp(load);
        rows.push({
          scenario: "s7",
          server: name,
          step: `${peers} peers${scale === 1 ? "" : ` at ${scale}x`}`,
          load,
          note: ok ? "kept up" : "overloaded",
        });
      });
    } catch (e) {
      rows.push(errorRow("s7", name, `${peers} peers`, e));
    }
  }
  return { id: "s7", title, rows };
}
