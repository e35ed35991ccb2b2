/** Puts a sender, a sequence number and a send time into v1 messages so that latency and losses survive the relay. */

// The relay forwards `cursor` as {type, peer, at} and `view` as {type, peer, bbox, zoom}: only the
// coordinates survive, so the stamp lives in them. JSON carries doubles exactly, so a time of
// day in milliseconds (modulo 6 minutes, microsecond precision) fits in a longitude and
// `sender * 1e6 + seq` fits in a latitude at a step of 1e-9 degrees (a double near 90 resolves
// ~1.4e-14, so the step reads back exactly): 180 000 senders. Edits carry it in their id, which
// the relay echoes unchanged to everyone.

/** Where a stamped message came from and when it was meant to be sent. */
export interface Stamp {
  /** The sending peer's index in this run (0..MAX_SENDERS - 1). */
  sender: number;
  /** Per sender and kind, 0, 1, 2, ... (modulo 1e6). */
  seq: number;
  /** `performance.now()` at the intended send time, modulo {@link TIME_WRAP_MS}. */
  t: number;
}

/** The kinds of stamped message. */
export type StampKind = "cursor" | "view" | "edit";

/** Stamped times wrap every 6 minutes; latencies are taken modulo this. */
export const TIME_WRAP_MS = 360_000;
/** Most senders a stamp can name. */
export const MAX_SENDERS = 180_000;
const SEQ_WRAP = 1_000_000;
const LAT_STEP = 1e-9;

function lngOf(t: number): number {
  return -180 + (((t % TIME_WRAP_MS) + TIME_WRAP_MS) % TIME_WRAP_MS) / 1000;
}

function latOf(sender: number, seq: number): number {
  if (!(sender >= 0 && sender < MAX_SENDERS)) {
    throw new RangeError(`Cannot stamp sender ${sender}: must be 0..${MAX_SENDERS - 1}`);
  }
  return -90 + (sender * SEQ_WRAP + (seq % SEQ_WRAP)) * LAT_STEP;
}

function fromCoords(lng: number, lat: number): Stamp {
  const n = Math.round((lat + 90) / LAT_STEP);
  return { sender: Math.floor(n / SEQ_WRAP), seq: n % SEQ_WRAP, t: (lng + 180) * 1000 };
}

/** A stamped `cursor` message. */
export function cursorMessage(s: Stamp): { type: "cursor"; at: [number, number] } {
  return { type: "cursor", at: [lngOf(s.t), latOf(s.sender, s.seq)] };
}

/** A stamped `view` message (a small box around the stamp, zoom 12). */
export function viewMessage(
  s: Stamp,
): { type: "view"; bbox: [number, number, number, number]; zoom: number } {
  return { type: "view", bbox: [lngOf(s.t), latOf(s.sender, s.seq), 180, 90], zoom: 12 };
}

/** The id of a stamped edit. */
export function editId(s: Stamp): string {
  return `b${s.sender}:${s.seq % SEQ_WRAP}:${(s.t % TIME_WRAP_MS).toFixed(3)}`;
}

/** Reads the stamp of a received message, or null if it carries none. */
export function readStamp(msg: unknown): { kind: StampKind; stamp: Stamp } | null {
  if (typeof msg !== "object" || msg === null) return null;
  const m = msg as Record<string, unknown>;
  if (m.type === "cursor" && Array.isArray(m.at) && m.at.length === 2) {
    return { kind: "cursor", stamp: fromCoords(Number(m.at[0]), Number(m.at[1])) };
  }
  if (m.type === "view" && Array.isArray(m.bbox) && m.bbox.length === 4) {
    return { kind: "view", stamp: fromCoords(Number(m.bbox[0]), Number(m.bbox[1])) };
  }
  if (m.type === "edit" && typeof m.id === "string" && m.id.startsWith("b")) {
    const [sender, seq, t] = m.id.slice(1).split(":").map(Number);
    if (!Number.isFinite(sender) || !Number.isFinite(seq) || !Number.isFinite(t)) return null;
    return { kind: "edit", stamp: { sender, seq, t } };
  }
  return null;
}

/** Milliseconds from a stamp's send time to `now` (both `performance.now()`), wrap-aware. */
export function latencyMs(stamp: Stamp, now: number): number {
  const d = ((now % TIME_WRAP_MS) - stamp.t + TIME_WRAP_MS) % TIME_WRAP_MS;
  // A stamp a hair in the future (rounding) would read as almost 6 minutes.
  return d > TIME_WRAP_MS - 1000 ? 0 : d;
}
