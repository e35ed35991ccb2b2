/** What an edit frame did to each feature it touched, for the journal's per-feature index. */
import { titleOf } from "./history_words.ts";
import type { EditOp } from "./protocol.ts";

/** What one edit did to one feature, for the per-feature index. */
export interface Touch {
  /** Did the feature exist right before the edit? */
  was: boolean;
  /** Does it exist right after? */
  now: boolean;
  /** Its name as of the edit (from the edit's ops, else as of the feature's previous edit). */
  title: string | null;
}

/** An edit frame's ops; none when it does not parse (loading the map will say it is damaged). */
export function opsOf(frame: string): EditOp[] {
  let ops: unknown;
  try {
    ops = (JSON.parse(frame) as { ops?: unknown } | null)?.ops;
  } catch {
    return [];
  }
  return Array.isArray(ops) ? ops as EditOp[] : [];
}

/**
 * The fids an edit frame's ops touch, each with its {@link Touch}; the frame as text, or its ops
 * already parsed (see {@link opsOf}) when the caller reads them twice.
 */
export function touchedFids(
  frame: string | readonly EditOp[],
  before: (fid: string) => Touch | null,
): Map<string, Touch> {
  const out = new Map<string, Touch>();
  const ops = typeof frame === "string" ? opsOf(frame) : frame;
  for (const op of ops) {
    const fid = op?.op === "put" ? op.feature?.id : op?.fid;
    if (typeof fid !== "string") continue;
    let entry = out.get(fid);
    if (!entry) {
      const last = before(fid);
      entry = { was: last?.now ?? false, now: last?.now ?? false, title: last?.title ?? null };
      out.set(fid, entry);
    }
    if (op.op === "put") entry.now = true;
    else if (op.op === "del") entry.now = false;
    const named = op.op === "put"
      ? titleOf(op.feature.properties ?? undefined)
      : op.op === "props"
      ? titleOf(op.set)
      : null;
    if (named !== null) entry.title = named;
  }
  return out;
}
