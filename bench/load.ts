/** The open-loop load run: peers in rooms send stamped cursors, views and edits at fixed rates; every delivery is accounted for. */
import { prng } from "../tests/_fixtures.ts";
import { Histogram, type HistogramData } from "./histogram.ts";
import { type BenchPeer, connectPeer, StalledPeer } from "./peers.ts";
import { ProcSampler, type ProcSummary } from "./proc.ts";
import type { ServerKind, ServerProcess } from "./servers.ts";
import {
  cursorMessage,
  editId,
  latencyMs,
  readStamp,
  type Stamp,
  type StampKind,
  viewMessage,
} from "./stamp.ts";

/** What load to offer. */
export interface LoadSpec {
  rooms: number;
  peersPerRoom: number;
  /** Cursor moves per peer per second. */
  cursorHz: number;
  /** View changes per peer per second. */
  viewHz: number;
  /** Edits per peer per second. */
  editHz: number;
  /** Size range of an edit's padding property, in bytes. */
  editBytes: [number, number];
  /** Edits replace one feature per sender instead of adding a new one each time. */
  editReplace?: boolean;
  /** Fraction of each room's peers that connect, send and never read. */
  stalledFraction: number;
  warmupS: number;
  measureS: number;
  /** Longest wait for stragglers after sending stops. */
  maxDrainS: number;
  /**
   * People move in bursts: this fraction of peers sends its cursors only during `onS` seconds of
   * every `onS + offS`, faster, so that its average stays `cursorHz`. Each bursty peer has its
   * own phase.
   */
  burst?: { fraction: number; onS: number; offS: number };
}

/** A latency summary in milliseconds. */
export interface Latency {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** What one load run measured. */
export interface LoadResult {
  server: string;
  /** Messages the generator sent, all kinds. */
  sent: number;
  /** Deliveries owed to reading peers (sent x recipients). */
  expected: number;
  delivered: number;
  /** Cursors/views superseded by a newer one from the same sender before delivery (allowed). */
  coalesced: number;
  /** Messages received again with a sequence number already seen (the relay re-sending unchanged presence). */
  duplicates: number;
  /** Owed but neither delivered nor superseded by the end of the drain (edits: any gap). */
  lost: number;
  /** Deliveries in the measurement window per second. */
  deliveredPerS: number;
  /** Offered deliveries per second (sent x recipients over time). */
  offeredPerS: number;
  latency: Latency;
  /** Latency of edits alone (acknowledgement and fan-out), when any were sent. */
  editLatency?: Latency;
  /** Edits echoed to their own author (acknowledged: durable) over the whole run. */
  acked?: number;
  /** Acknowledgements that arrived in the measurement window per second. */
  ackedPerS?: number;
  /** Send to the author's own echo, edits sent in the window. */
  ackLatency?: Latency;
  /** Cursor deliveries in the measurement window per second. */
  cursorDeliveredPerS?: number;
  server_: ProcSummary;
  /** Peak server RSS over the whole run, bytes. */
  peakRssBytes: number;
  /** Server CPU microseconds per delivered message in the measurement window. */
  cpuUsPerDelivery: number;
  /** The load generator's own CPU use in the window, in cores (all its processes). */
  generatorCores: number;
  /** Load generator processes (1 unless the load was split, see `bench/load_split.ts`). */
  generators?: number;
  /**
   * CPU the rest of the machine used in the window, in cores (all busy CPU minus the server and
   * the generator): other work on a shared machine, which makes every number here worse.
   */
  otherCores: number;
  /** Connections the server closed during the run (by close code). */
  closes: Record<string, number>;
  /** The relay's messages per frame sent in the window (from its /metrics): how much it batched. */
  messagesPerFrame?: number;
  /**
   * How late the generator sent its messages after their due time (whole run): a late sender
   * shows up in every latency above, so this says how much of it is the generator's own.
   */
  sendLag?: Latency;
}

/** Rooms to put peers in: `{room, key}` per room (map id and edit key for the relay). */
export type RoomRef = { room: string; key?: string };

/** Options for {@link runLoad}. */
export interface RunLoadOptions {
  server: ServerProcess;
  /** Base URL the peers connect to (the server's, or a proxy's). */
  baseUrl?: string;
  rooms: RoomRef[];
  spec: LoadSpec;
  /** Progress lines go here. */
  log: (line: string) => void;
  /** A label for progress lines. */
  label: string;
  /** HTTP client for the peers' WebSockets (to trust a local CA through a TLS proxy). */
  client?: Deno.HttpClient;
  /** Seed for payload sizes and phases. @default 1 */
  seed?: number;
}

/** Options for one generator process's share of a load (some of the rooms). */
export interface PartOptions {
  kind: ServerKind;
  baseUrl: string;
  rooms: RoomRef[];
  spec: LoadSpec;
  log: (line: string) => void;
  label: string;
  client?: Deno.HttpClient;
  seed?: number;
  /** ProcSampler target for the RSS in progress lines. */
  server?: number;
  /** Called when an author receives the echo of its own edit (its acknowledgement). */
  onAck?: (room: number, editId: string) => void;
}

/** What one generator process counted; {@link summarize} adds parts up. */
export interface PartResult {
  sent: number;
  expected: number;
  delivered: number;
  coalesced: number;
  duplicates: number;
  editGaps: number;
  /** Deliveries that arrived in the measurement window. */
  windowDeliveries: number;
  hist: HistogramData;
  editHist: HistogramData;
  closes: Record<string, number>;
  /** Own-edit echoes: all, in the window, and their latency (edits sent in the window). */
  acks?: number;
  windowAcks?: number;
  ackHist?: HistogramData;
  /** Cursor deliveries in the window. */
  windowCursors?: number;
  /** How late each message was sent after its due time. */
  sendLagHist?: HistogramData;
}

/** Hooks called at the measurement window's edges (to start and stop CPU samplers). */
export interface WindowHooks {
  windowStart?: () => void;
  sendEnd?: () => void;
}

/** A connected share of a load, ready to send. */
export interface LoadPart {
  /** Sends open-loop from `sendStart` (this process's `performance.now()`), drains, counts. */
  run(sendStart: number, hooks?: WindowHooks): Promise<PartResult>;
  /** Closes every connection. */
  close(): Promise<void>;
}

interface Schedule {
  sender: number;
  kind: StampKind;
  periodMs: number;
  next: number;
  n: number;
  peer: BenchPeer | StalledPeer;
  room: number;
  /** Bursty cursors: sent only while `(next - phase) mod cycle < on`. */
  burst?: { on: number; cycle: number; phase: number };
}

const KIND_INDEX: Record<StampKind, number> = { cursor: 0, view: 1, edit: 2 };
// Accounting keys are (kind, receiver, sender) packed in one number: 2^17 peers per process.
const KEY_SPAN = 2 ** 17;

/** Summarises a histogram of microseconds as milliseconds. */
export function latencyOf(h: Histogram): Latency {
  return {
    p50: h.quantile(0.5) / 1000,
    p99: h.quantile(0.99) / 1000,
    p999: h.quantile(0.999) / 1000,
    max: h.max / 1000,
    count: h.count,
  };
}

/** A binary min-heap of schedules by due time: 10 000 peers must not cost 30 000 checks a tick. */
class DueHeap {
  #a: Schedule[] = [];
  get size(): number {
    return this.#a.length;
  }
  peek(): Schedule | undefined {
    return this.#a[0];
  }
  push(s: Schedule): void {
    const a = this.#a;
    a.push(s);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].next <= a[i].next) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  pop(): Schedule | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && a[l].next < a[m].next) m = l;
        if (r < a.length && a[r].next < a[m].next) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}

/** Moves a bursty schedule's due time out of a quiet phase to the start of its next burst. */
function skipQuiet(s: Schedule): void {
  const b = s.burst;
  if (!b) return;
  const into = ((s.next - b.phase) % b.cycle + b.cycle) % b.cycle;
  if (into >= b.on) s.next += b.cycle - into;
}

/** Connects one process's share of the peers (every room given) and prepares their schedules. */
export async function connectPart(o: PartOptions): Promise<LoadPart> {
  const { spec } = o;
  const random = prng(o.seed ?? 1);
  const relay = o.kind === "relay";
  const peerCount = o.rooms.length * spec.peersPerRoom;
  if (peerCount > KEY_SPAN) throw new RangeError(`at most ${KEY_SPAN} peers per process`);
  const stalledPerRoom = Math.round(spec.peersPerRoom * spec.stalledFraction);
  // Who reads: per room, the sender indices of healthy peers.
  const readers: number[][] = [];
  const roomOf: number[] = [];
  const hist = new Histogram();
  const editHist = new Histogram();
  const ackHist = new Histogram();
  /** Latencies since the last progress line (the log's: getting better or worse?). */
  let lastSecond = new Histogram();
  let acks = 0;
  let windowAcks = 0;
  let windowCursors = 0;
  // Last seq seen, per (kind, receiver, sender).
  const last = new Map<number, number>();
  let delivered = 0;
  let duplicates = 0;
  let coalesced = 0;
  let editGaps = 0;
  let windowDeliveries = 0;
  let windowStart = Infinity;
  let windowEnd = Infinity;

  const onMessageFor = (receiver: number) => (msg: unknown, now: number) => {
    const got = readStamp(msg);
    if (!got) return;
    const { kind, stamp } = got;
    if (stamp.sender === receiver && kind !== "edit") return;
    const key = (KIND_INDEX[kind] * KEY_SPAN + receiver) * KEY_SPAN + stamp.sender;
    const prev = last.get(key) ?? -1;
    if (stamp.seq <= prev) {
      duplicates++;
      return;
    }
    const gap = stamp.seq - prev - 1;
    if (kind === "edit") editGaps += gap;
    else coalesced += gap;
    last.set(key, stamp.seq);
    delivered++;
    const inWindow = now >= windowStart && now <= windowEnd;
    if (inWindow) windowDeliveries++;
    if (inWindow && kind === "cursor") windowCursors++;
    const own = kind === "edit" && stamp.sender === receiver;
    if (own) {
      acks++;
      if (inWindow) windowAcks++;
      o.onAck?.(roomOf[receiver], (msg as { id: string }).id);
    }
    const lat = latencyMs(stamp, now);
    const sentAt = now - lat;
    lastSecond.record(lat * 1000);
    if (sentAt >= windowStart && sentAt <= windowEnd) {
      hist.record(lat * 1000);
      if (kind === "edit") editHist.record(lat * 1000);
      if (own) ackHist.record(lat * 1000);
    }
  };

  const peers: (BenchPeer | StalledPeer)[] = [];
  const close = async () => {
    await Promise.all(peers.map((p) => p?.close()));
  };
  try {
    // Connect in small parallel batches so the server is not hit by a thundering herd.
    for (let r = 0; r < o.rooms.length; r++) readers.push([]);
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < peerCount; i++) {
      const r = Math.floor(i / spec.peersPerRoom);
      const stalled = i % spec.peersPerRoom >= spec.peersPerRoom - stalledPerRoom;
      roomOf.push(r);
      if (!stalled) readers[r].push(i);
      const ref = o.rooms[r];
      jobs.push(async () => {
        peers[i] = stalled
          ? await StalledPeer.connect({ baseUrl: o.baseUrl, room: ref.room, key: ref.key, relay })
          : await connectPeer({
            kind: o.kind,
            baseUrl: o.baseUrl,
            room: ref.room,
            key: ref.key,
            name: `bench-${i}`,
            client: o.client,
            onMessage: onMessageFor(i),
          });
      });
    }
    for (let i = 0; i < jobs.length; i += 50) {
      await Promise.all(jobs.slice(i, i + 50).map((j) => j()));
    }
  } catch (e) {
    await close();
    throw e;
  }

  const schedules: Schedule[] = [];
  const add = (sender: number, kind: StampKind, hz: number) => {
    if (hz <= 0) return;
    const periodMs = 1000 / hz;
    const s: Schedule = {
      sender,
      kind,
      periodMs,
      next: random() * periodMs,
      n: 0,
      peer: peers[sender],
      room: roomOf[sender],
    };
    const b = spec.burst;
    if (kind === "cursor" && b && random() < b.fraction) {
      const on = b.onS * 1000, cycle = (b.onS + b.offS) * 1000;
      s.periodMs = periodMs * on / cycle;
      s.burst = { on, cycle, phase: random() * cycle };
      s.next = random() * s.periodMs;
      skipQuiet(s);
    }
    schedules.push(s);
  };
  for (let i = 0; i < peerCount; i++) {
    add(i, "cursor", spec.cursorHz);
    add(i, "view", spec.viewHz);
    add(i, "edit", spec.editHz);
  }
  const paddings = new Map<number, string>();
  const edit = (s: Stamp) => {
    const [lo, hi] = spec.editBytes;
    const size = Math.round(lo + random() * (hi - lo));
    // Padding strings are reused by size bucket; building 50 KB strings per edit would make
    // the generator the thing being measured.
    const bucket = Math.round(size / 1024);
    let pad = paddings.get(bucket);
    if (!pad) paddings.set(bucket, pad = "x".repeat(Math.max(1, bucket * 1024 - 200)));
    const at = cursorMessage(s).at;
    return {
      type: "edit",
      id: editId(s),
      ops: [{
        op: "put",
        feature: {
          type: "Feature",
          id: spec.editReplace ? `f${s.sender}` : `f${s.sender}-${s.seq}`,
          geometry: { type: "Point", coordinates: [at[0], Math.max(-89, Math.min(89, at[1]))] },
          properties: { note: pad, n: s.seq },
        },
      }],
    };
  };

  const run = async (sendStart: number, hooks: WindowHooks = {}): Promise<PartResult> => {
    windowStart = sendStart + spec.warmupS * 1000;
    const sendEnd = windowStart + spec.measureS * 1000;
    windowEnd = sendEnd;
    const due = new DueHeap();
    for (const s of schedules) due.push(s);
    let sent = 0;
    const sendLag = new Histogram();
    const tick = () => {
      const now = performance.now();
      const until = Math.min(now, sendEnd);
      for (let s = due.peek(); s && sendStart + s.next <= until; s = due.peek()) {
        due.pop();
        const t = sendStart + s.next;
        sendLag.record((now - t) * 1000);
        const stamp = { sender: s.sender, seq: s.n, t };
        const msg = s.kind === "cursor"
          ? cursorMessage(stamp)
          : s.kind === "view"
          ? viewMessage(stamp)
          : edit(stamp);
        s.peer.send(msg);
        s.n++;
        s.next += s.periodMs;
        skipQuiet(s);
        sent++;
        due.push(s);
      }
    };
    let lastReport = performance.now();
    let lastDelivered = 0;
    let windowStarted = false;
    const sampler = o.server === undefined ? undefined : new ProcSampler(o.server);
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        tick();
        const now = performance.now();
        if (!windowStarted && now >= windowStart) {
          windowStarted = true;
          hooks.windowStart?.();
        }
        if (now - lastReport >= 1000) {
          const rate = (delivered - lastDelivered) / ((now - lastReport) / 1000);
          const rss = sampler ? ` rss ${(sampler.now().rssBytes / 2 ** 20).toFixed(0)} MiB` : "";
          o.log(
            `  [${o.label}] ${
              ((now - sendStart) / 1000).toFixed(1)
            }s sent ${sent} delivered ${delivered} (${fmtRate(rate)}/s) p99 ${
              (hist.quantile(0.99) / 1000).toFixed(2)
            } ms (last second ${(lastSecond.quantile(0.99) / 1000).toFixed(0)} ms), send lag p99 ${
              (sendLag.quantile(0.99) / 1000).toFixed(1)
            } ms${rss}`,
          );
          lastSecond = new Histogram();
          lastReport = now;
          lastDelivered = delivered;
        }
        if (now >= sendEnd) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    sampler?.stop();
    hooks.sendEnd?.();

    // Expected deliveries per (kind, sender): readers in the room, minus the sender itself for
    // presence; edits go to everyone on the relay (the echo is the author's acknowledgement).
    let expected = 0;
    for (const s of schedules) {
      const echo = relay && s.kind === "edit";
      const rs = readers[s.room];
      const recipients = rs.length - (!echo && rs.includes(s.sender) ? 1 : 0);
      expected += s.n * recipients;
    }
    const accounted = () => delivered + coalesced + editGaps;
    // Drain: until all is accounted for, nothing moves for a second, or the cap.
    const drainStart = performance.now();
    let progressAt = drainStart;
    let seen = accounted();
    while (accounted() < expected && performance.now() - drainStart < spec.maxDrainS * 1000) {
      await new Promise((r) => setTimeout(r, 50));
      if (accounted() !== seen) {
        seen = accounted();
        progressAt = performance.now();
      } else if (performance.now() - progressAt > 1000) break;
    }
    const closes: Record<string, number> = {};
    for (const p of peers) {
      if (p && "closeCode" in p && p.closed) {
        const c = String(p.closeCode ?? "?");
        closes[c] = (closes[c] ?? 0) + 1;
      } else if (p instanceof StalledPeer && p.closed) {
        closes["stalled"] = (closes["stalled"] ?? 0) + 1;
      }
    }
    return {
      sent,
      expected,
      delivered,
      coalesced,
      duplicates,
      editGaps,
      windowDeliveries,
      hist: hist.toJSON(),
      editHist: editHist.toJSON(),
      closes,
      acks,
      windowAcks,
      ackHist: ackHist.toJSON(),
      windowCursors,
      sendLagHist: sendLag.toJSON(),
    };
  };
  return { run, close };
}

/** CPU and memory samples of one run's measurement window. */
export interface WindowSamples {
  /** The server over the whole run (peak RSS). */
  whole: ProcSummary;
  /** The server in the window. */
  server?: ProcSummary;
  /** Every generator process in the window, summed, in cores. */
  generatorCores: number;
  /** All busy CPU of the machine in the window, in cores. */
  systemCores: number;
  generators: number;
  /** The relay's frames and messages sent in the window. */
  sentInWindow?: { frames: number; messages: number };
}

/** The relay's frames and messages sent so far (its /metrics); undefined for the baselines. */
export async function relayCounters(
  server: ServerProcess,
): Promise<{ frames: number; messages: number } | undefined> {
  if (server.kind !== "relay") return undefined;
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const read = (name: string) =>
      Number(new RegExp(`^duplexmap_${name} (\\d+)`, "m").exec(text)?.[1] ?? NaN);
    return { frames: read("frames_out_total"), messages: read("messages_out_total") };
  } catch {
    return undefined;
  }
}

/** Counters at the window's end minus its start. */
export function countersBetween(
  a: { frames: number; messages: number } | undefined,
  b: { frames: number; messages: number } | undefined,
): { frames: number; messages: number } | undefined {
  return a && b ? { frames: b.frames - a.frames, messages: b.messages - a.messages } : undefined;
}

/** Adds up the parts of a load run and the window's CPU samples into one result. */
export function summarize(
  name: ServerProcess["name"],
  spec: LoadSpec,
  sendMs: number,
  parts: PartResult[],
  w: WindowSamples,
): LoadResult {
  const hist = new Histogram();
  const editHist = new Histogram();
  const ackHist = new Histogram();
  const sendLag = new Histogram();
  const closes: Record<string, number> = {};
  let sent = 0, expected = 0, delivered = 0, coalesced = 0, duplicates = 0, windowDeliveries = 0;
  let acks = 0, windowAcks = 0, windowCursors = 0;
  for (const p of parts) {
    acks += p.acks ?? 0;
    windowAcks += p.windowAcks ?? 0;
    windowCursors += p.windowCursors ?? 0;
    if (p.ackHist) ackHist.merge(Histogram.fromJSON(p.ackHist));
    if (p.sendLagHist) sendLag.merge(Histogram.fromJSON(p.sendLagHist));
    sent += p.sent;
    expected += p.expected;
    delivered += p.delivered;
    coalesced += p.coalesced;
    duplicates += p.duplicates;
    windowDeliveries += p.windowDeliveries;
    hist.merge(Histogram.fromJSON(p.hist));
    editHist.merge(Histogram.fromJSON(p.editHist));
    for (const [k, v] of Object.entries(p.closes)) closes[k] = (closes[k] ?? 0) + v;
  }
  const ws = w.server ?? w.whole;
  return {
    server: name,
    sent,
    expected,
    delivered,
    coalesced,
    duplicates,
    lost: Math.max(0, expected - delivered - coalesced),
    deliveredPerS: windowDeliveries / spec.measureS,
    offeredPerS: expected / (sendMs / 1000),
    latency: latencyOf(hist),
    editLatency: editHist.count > 0 ? latencyOf(editHist) : undefined,
    acked: acks,
    ackedPerS: windowAcks / spec.measureS,
    ackLatency: ackHist.count > 0 ? latencyOf(ackHist) : undefined,
    cursorDeliveredPerS: windowCursors / spec.measureS,
    sendLag: sendLag.count > 0 ? latencyOf(sendLag) : undefined,
    server_: ws,
    peakRssBytes: w.whole.peakRssBytes,
    cpuUsPerDelivery: windowDeliveries > 0 ? (ws.cpuSeconds * 1e6) / windowDeliveries : NaN,
    generatorCores: w.generatorCores,
    generators: w.generators,
    otherCores: w.server && Number.isFinite(w.generatorCores)
      ? Math.max(0, w.systemCores - w.generatorCores - w.server.cpuCores)
      : NaN,
    closes,
    messagesPerFrame: w.sentInWindow && w.sentInWindow.frames > 0
      ? w.sentInWindow.messages / w.sentInWindow.frames
      : undefined,
  };
}

/** Connects everyone, offers the load open-loop, drains, and accounts for every delivery. */
export async function runLoad(o: RunLoadOptions): Promise<LoadResult> {
  const { spec, server } = o;
  const serverSampler = new ProcSampler(server.pid);
  let part: LoadPart | undefined;
  try {
    part = await connectPart({
      kind: server.kind,
      baseUrl: o.baseUrl ?? server.url,
      rooms: o.rooms.slice(0, spec.rooms),
      spec,
      log: o.log,
      label: o.label,
      client: o.client,
      seed: o.seed,
      server: server.pid,
    });
    // Let join/presence traffic settle before the clock starts.
    await new Promise((r) => setTimeout(r, 200));
    let windowServer: ProcSampler | undefined;
    let windowGen: ProcSampler | undefined;
    let windowSystem: ProcSampler | undefined;
    let stopped: { s: ProcSummary; g: ProcSummary; y: ProcSummary } | undefined;
    let countersAt: Promise<{ frames: number; messages: number } | undefined>[] = [];
    const sendStart = performance.now();
    const result = await part.run(sendStart, {
      windowStart: () => {
        countersAt = [relayCounters(server)];
        windowServer = new ProcSampler(server.pid);
        windowGen = new ProcSampler("self");
        windowSystem = new ProcSampler("system");
      },
      sendEnd: () => {
        if (windowServer && windowGen && windowSystem) {
          stopped = { s: windowServer.stop(), g: windowGen.stop(), y: windowSystem.stop() };
          countersAt.push(relayCounters(server));
        }
      },
    });
    const sendMs = (spec.warmupS + spec.measureS) * 1000;
    return summarize(server.name, spec, sendMs, [result], {
      whole: serverSampler.stop(),
      server: stopped?.s,
      generatorCores: stopped?.g.cpuCores ?? NaN,
      systemCores: stopped?.y.cpuCores ?? NaN,
      generators: 1,
      sentInWindow: countersBetween(
        ...(await Promise.all(countersAt)) as [
          { frames: number; messages: number } | undefined,
          { frames: number; messages: number } | undefined,
        ],
      ),
    });
  } finally {
    try {
      serverSampler.stop();
    } catch {
      // Already stopped.
    }
    await part?.close();
  }
}

/** 1234567 -> "1.23M". */
export function fmtRate(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}
