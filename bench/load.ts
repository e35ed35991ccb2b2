/** The open-loop load run: peers in rooms send stamped cursors, views and edits at fixed rates; every delivery is accounted for. */
import { prng } from "../tests/_fixtures.ts";
import { Histogram } from "./histogram.ts";
import { type BenchPeer, connectPeer, StalledPeer } from "./peers.ts";
import { ProcSampler, type ProcSummary } from "./proc.ts";
import type { ServerProcess } from "./servers.ts";
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
  server_: ProcSummary;
  /** Peak server RSS over the whole run, bytes. */
  peakRssBytes: number;
  /** Server CPU microseconds per delivered message in the measurement window. */
  cpuUsPerDelivery: number;
  /** The load generator's own CPU use in the window, in cores. */
  generatorCores: number;
  /**
   * CPU the rest of the machine used in the window, in cores (all busy CPU minus the server and
   * the generator): other work on a shared machine, which makes every number here worse.
   */
  otherCores: number;
  /** Connections the server closed during the run (by close code). */
  closes: Record<string, number>;
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

interface Schedule {
  sender: number;
  kind: StampKind;
  periodMs: number;
  next: number;
  n: number;
  peer: BenchPeer | StalledPeer;
  room: number;
}

const KIND_INDEX: Record<StampKind, number> = { cursor: 0, view: 1, edit: 2 };

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

/** Connects everyone, offers the load open-loop, drains, and accounts for every delivery. */
export async function runLoad(o: RunLoadOptions): Promise<LoadResult> {
  const { spec, server } = o;
  const baseUrl = o.baseUrl ?? server.url;
  const random = prng(o.seed ?? 1);
  const relay = server.kind === "relay";
  const peerCount = spec.rooms * spec.peersPerRoom;
  const stalledPerRoom = Math.round(spec.peersPerRoom * spec.stalledFraction);
  // Who reads: per room, the sender indices of healthy peers.
  const readers: number[][] = [];
  const roomOf: number[] = [];
  const hist = new Histogram();
  const editHist = new Histogram();
  // Last seq seen, per (kind, receiver, sender).
  const last = new Map<number, number>();
  let delivered = 0;
  let duplicates = 0;
  let coalesced = 0;
  let editGaps = 0;
  let windowDeliveries = 0;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let sendStart = 0;

  const onMessageFor = (receiver: number) => (msg: unknown, now: number) => {
    const got = readStamp(msg);
    if (!got) return;
    const { kind, stamp } = got;
    if (stamp.sender === receiver && kind !== "edit") return;
    const key = (KIND_INDEX[kind] * 4096 + receiver) * 4096 + stamp.sender;
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
    if (now >= windowStart && now <= windowEnd) windowDeliveries++;
    const lat = latencyMs(stamp, now);
    const sentAt = now - lat;
    if (sentAt >= windowStart && sentAt <= windowEnd) {
      hist.record(lat * 1000);
      if (kind === "edit") editHist.record(lat * 1000);
    }
  };

  const peers: (BenchPeer | StalledPeer)[] = [];
  const closes: Record<string, number> = {};
  const serverSampler = new ProcSampler(server.pid);
  try {
    // Connect in small parallel batches so the server is not hit by a thundering herd.
    for (let r = 0; r < spec.rooms; r++) readers.push([]);
    const jobs: (() => Promise<void>)[] = [];
    for (let i = 0; i < peerCount; i++) {
      const r = Math.floor(i / spec.peersPerRoom);
      const stalled = i % spec.peersPerRoom >= spec.peersPerRoom - stalledPerRoom;
      roomOf.push(r);
      if (!stalled) readers[r].push(i);
      const ref = o.rooms[r];
      jobs.push(async () => {
        peers[i] = stalled
          ? await StalledPeer.connect({ baseUrl, room: ref.room, key: ref.key, relay })
          : await connectPeer({
            kind: server.kind,
            baseUrl,
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
    // Let join/presence traffic settle before the clock starts.
    await new Promise((r) => setTimeout(r, 200));

    const schedules: Schedule[] = [];
    const add = (sender: number, kind: StampKind, hz: number) => {
      if (hz <= 0) return;
      const periodMs = 1000 / hz;
      schedules.push({
        sender,
        kind,
        periodMs,
        next: random() * periodMs,
        n: 0,
        peer: peers[sender],
        room: roomOf[sender],
      });
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

    sendStart = performance.now();
    windowStart = sendStart + spec.warmupS * 1000;
    const sendEnd = windowStart + spec.measureS * 1000;
    windowEnd = sendEnd;
    let windowServer: ProcSampler | undefined;
    let windowGen: ProcSampler | undefined;
    let windowSystem: ProcSampler | undefined;
    let sent = 0;
    const tick = () => {
      const now = performance.now();
      const until = Math.min(now, sendEnd);
      for (const s of schedules) {
        while (sendStart + s.next <= until) {
          const t = sendStart + s.next;
          const stamp = { sender: s.sender, seq: s.n, t };
          const msg = s.kind === "cursor"
            ? cursorMessage(stamp)
            : s.kind === "view"
            ? viewMessage(stamp)
            : edit(stamp);
          s.peer.send(msg);
          s.n++;
          s.next += s.periodMs;
          sent++;
        }
      }
    };
    let lastReport = sendStart;
    let lastDelivered = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        tick();
        const now = performance.now();
        if (!windowServer && now >= windowStart) {
          windowServer = new ProcSampler(server.pid);
          windowGen = new ProcSampler("self");
          windowSystem = new ProcSampler("system");
        }
        if (now - lastReport >= 1000) {
          const rate = (delivered - lastDelivered) / ((now - lastReport) / 1000);
          const r = serverSampler.now();
          o.log(
            `  [${o.label}] ${
              ((now - sendStart) / 1000).toFixed(1)
            }s sent ${sent} delivered ${delivered} (${fmtRate(rate)}/s) p99 ${
              (hist.quantile(0.99) / 1000).toFixed(2)
            } ms rss ${(r.rssBytes / 2 ** 20).toFixed(0)} MiB`,
          );
          lastReport = now;
          lastDelivered = delivered;
        }
        if (now >= sendEnd) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const windowServerSummary = windowServer?.stop();
    const windowGenSummary = windowGen?.stop();
    const windowSystemSummary = windowSystem?.stop();

    // Expected deliveries per (kind, sender): readers in the room, minus the sender itself for
    // presence; edits go to everyone on the relay (the echo is the author's acknowledgement).
    const counts = schedules.map((s) => ({ s, count: s.n }));
    let expected = 0;
    for (const { s, count } of counts) {
      const echo = relay && s.kind === "edit";
      const rs = readers[s.room];
      const recipients = rs.length - (!echo && rs.includes(s.sender) ? 1 : 0);
      expected += count * recipients;
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
    const offeredPerS = expected / ((sendEnd - sendStart) / 1000);
    for (const p of peers) {
      if (p && "closeCode" in p && p.closed) {
        const c = String(p.closeCode ?? "?");
        closes[c] = (closes[c] ?? 0) + 1;
      } else if (p instanceof StalledPeer && p.closed) {
        closes["stalled"] = (closes["stalled"] ?? 0) + 1;
      }
    }
    const whole = serverSampler.stop();
    const ws = windowServerSummary ?? whole;
    const lost = Math.max(0, expected - delivered - coalesced);
    return {
      server: server.name,
      sent,
      expected,
      delivered,
      coalesced,
      duplicates,
      lost,
      deliveredPerS: windowDeliveries / spec.measureS,
      offeredPerS,
      latency: latencyOf(hist),
      editLatency: editHist.count > 0 ? latencyOf(editHist) : undefined,
      server_: ws,
      peakRssBytes: whole.peakRssBytes,
      cpuUsPerDelivery: windowDeliveries > 0 ? (ws.cpuSeconds * 1e6) / windowDeliveries : NaN,
      generatorCores: windowGenSummary?.cpuCores ?? NaN,
      otherCores: windowSystemSummary && windowGenSummary && windowServerSummary
        ? Math.max(
          0,
          windowSystemSummary.cpuCores - windowGenSummary.cpuCores - windowServerSummary.cpuCores,
        )
        : NaN,
      closes,
    };
  } finally {
    try {
      serverSampler.stop();
    } catch {
      // Already stopped.
    }
    await Promise.all(peers.map((p) => p?.close()));
  }
}

/** 1234567 -> "1.23M". */
export function fmtRate(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}
