/** What one journal edit changed, as history entries say it: per-feature changes and a summary in words. */
import { opFid } from "./edit_ops.ts";
import type { EditFrame, StoredFeature } from "./protocol.ts";
import type { Change, ChangeKind } from "./history_wire.ts";

export type { Change, ChangeKind };

/** Changes listed per entry at most; the rest are counted in `more`. */
export const MAX_CHANGES = 20;

const TITLE_KEYS = ["name", "title", "Name", "NAME", "Title", "TITLE"];

/** A feature's name from its properties (the first non-empty of the usual keys), or `null`. */
export function titleOf(properties: Record<string, unknown> | undefined): string | null {
  if (!properties) return null;
  for (const key of TITLE_KEYS) {
    const value = properties[key];
    if (typeof value === "string" && value.trim() !== "") return value.trim().slice(0, 200);
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
  }
  return null;
}

/**
 * The changes of an edit frame, one per op, in op order. A `put` is an `add` when the feature did
 * not exist right before it (`indexed` says so for the state before the edit; later ops of the
 * same edit are followed here), else a `replace`. Titles come from the op when it names the
 * feature, else from the index (its name as of the edit, so a deleted feature is still named),
 * else from `current` (the map as it is now).
 */
export function changesOf(
  frame: Pick<EditFrame, "ops">,
  indexed: (fid: string) => { was: boolean; title: string | null },
  current: (fid: string) => StoredFeature | undefined,
): Change[] {
  const exists = new Map<string, boolean>();
  const titles = new Map<string, string | null>();
  const changes: Change[] = [];
  for (const op of frame.ops) {
    const fid = opFid(op);
    const known = exists.has(fid) ? null : indexed(fid);
    const had = known === null ? exists.get(fid)! : known.was;
    let title: string | null = null;
    if (op.op === "put") title = titleOf(op.feature.properties ?? undefined);
    else if (op.op === "props") title = titleOf(op.set);
    if (title !== null) titles.set(fid, title);
    title = titles.get(fid) ?? known?.title ?? titleOf(current(fid)?.properties);
    if (op.op === "put") {
      changes.push({ fid, title, kind: had ? "replace" : "add" });
      exists.set(fid, true);
    } else if (op.op === "props") {
      const keys = [...new Set([...Object.keys(op.set), ...(op.unset ?? [])])].sort();
      changes.push({ fid, title, kind: "props", keys });
    } else {
      changes.push({ fid, title, kind: op.op });
      if (op.op === "del") exists.set(fid, false);
    }
  }
  return changes;
}

const VERBS: Record<ChangeKind, string> = {
  add: "added",
  replace: "replaced",
  geom: "moved",
  props: "changed",
  del: "deleted",
};

/** One kind of change in an edit, over all its ops: what its summary is made from. */
export interface Tally {
  /** The kind. */
  kind: ChangeKind;
  /** Distinct features changed so. */
  fids: number;
  /** The first such change (its feature is named when it is the only one). */
  first: Change;
  /** For `props`: every key set or removed, sorted. */
  keys: string[];
}

/** The changes of an edit tallied by kind, in the order a summary names them. */
export function tallyOf(changes: readonly Change[]): Tally[] {
  const out: Tally[] = [];
  for (const kind of ["add", "replace", "geom", "props", "del"] as const) {
    const of = changes.filter((c) => c.kind === kind);
    if (of.length === 0) continue;
    const keys = [...new Set(of.flatMap((c) => c.keys ?? []))].sort();
    out.push({ kind, fids: new Set(of.map((c) => c.fid)).size, first: { ...of[0] }, keys });
  }
  return out;
}

/**
 * The words for an edit without its author ("moved 'Dam', changed 2 properties") from its
 * {@link tallyOf}; an edit's `label`, when it has one, is the summary ("restored version 'Before
 * the field trip'").
 */
export function summaryOf(tally: readonly Tally[], label?: string | null): string {
  if (label !== undefined && label !== null && label.trim() !== "") return sentenceCase(label);
  const parts: string[] = [];
  let named: string | null = null;
  for (const { kind, fids, first, keys } of tally) {
    if (kind === "props") {
      const what = keys.length === 1 ? `'${keys[0]}'` : `${keys.length} properties`;
      if (fids > 1) parts.push(`changed properties of ${fids} features`);
      else if (first.fid === named) parts.push(`changed ${what}`);
      else parts.push(`changed ${what} of ${nameOf(first)}`);
    } else if (fids === 1) {
      parts.push(`${VERBS[kind]} ${nameOf(first)}`);
      named = first.fid;
    } else parts.push(`${VERBS[kind]} ${fids} features`);
  }
  return parts.length > 0 ? parts.join(", ") : "changed nothing";
}

function nameOf(change: Change): string {
  return change.title === null ? "a feature" : `'${change.title}'`;
}

/** A label as the rest of a sentence: its first letter lowercased unless it starts a word in capitals. */
function sentenceCase(label: string): string {
  const text = label.trim();
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}
