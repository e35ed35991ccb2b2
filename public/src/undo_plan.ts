/** What an undo or redo sends once its ops meet newer changes by others: all of them, or all but the parts others changed. */
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { nextFeature, opFid } from "../../relay/edit_ops.ts";
import type { Overwrite } from "./change_marks.ts";

/** The person's answer to a conflict: undo (or redo) anyway, or skip the parts others changed. */
export type StepChoice = "anyway" | "skip";

/**
 * Drops the ops on features that are gone and that the ops would end up deleting anyway (undoing
 * the creation of a feature someone has since deleted): that part of the undo is already done.
 */
export function withoutSettled(
  ops: readonly EditOp[],
  features: ReadonlyMap<string, StoredFeature>,
): EditOp[] {
  const last = new Map<string, EditOp>();
  for (const op of ops) last.set(opFid(op), op);
  const settled = new Set<string>();
  for (const [fid, op] of last) if (op.op === "del" && !features.has(fid)) settled.add(fid);
  return ops.filter((op) => !settled.has(opFid(op)));
}

/**
 * `ops` without every part an overwrite names: a feature someone put anew or deleted loses all its
 * ops, a moved one its `geom` ops, a `props` op the properties others changed; a `put` or `del` of
 * a feature others changed in any way goes too (it would overwrite all of it). What is left
 * overwrites nothing of theirs.
 */
export function withoutOverwritten(
  ops: readonly EditOp[],
  overwrites: readonly Overwrite[],
): EditOp[] {
  const whole = new Set<string>();
  const geom = new Set<string>();
  const keys = new Map<string, Set<string>>();
  for (const o of overwrites) {
    if (o.kind === "replace" || o.kind === "del") whole.add(o.fid);
    else if (o.kind === "geom") geom.add(o.fid);
    else {
      const set = keys.get(o.fid) ?? new Set<string>();
      for (const key of o.keys ?? []) set.add(key);
      keys.set(o.fid, set);
    }
  }
  const out: EditOp[] = [];
  for (const op of ops) {
    const fid = opFid(op);
    if (whole.has(fid)) continue;
    if (op.op === "put" || op.op === "del") {
      if (!geom.has(fid) && !keys.has(fid)) out.push(op);
    } else if (op.op === "geom") {
      if (!geom.has(fid)) out.push(op);
    } else {
      const taken = keys.get(fid);
      if (!taken) {
        out.push(op);
        continue;
      }
      const set: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(op.set)) {
        // Defined, not assigned, so a key named `__proto__` stays an ordinary property.
        if (!taken.has(key)) {
          Object.defineProperty(set, key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }
      const unset = (op.unset ?? []).filter((key) => !taken.has(key));
      if (Object.keys(set).length === 0 && unset.length === 0) continue;
      out.push(unset.length ? { op: "props", fid, set, unset } : { op: "props", fid, set });
    }
  }
  return out;
}

/**
 * Makes `ops` apply to `features`: the ops on a feature that is not there (and that they do not
 * create) become one `put` of what they make of `deleted(fid)` (the feature as it was when
 * someone deleted it), or are dropped when there is nothing to start from or they end by deleting
 * it. Ops on features that are there are kept as they are.
 */
export function onPresent(
  ops: readonly EditOp[],
  features: ReadonlyMap<string, StoredFeature>,
  deleted: (fid: string) => StoredFeature | undefined,
): EditOp[] {
  const first = new Map<string, EditOp>();
  for (const op of ops) if (!first.has(opFid(op))) first.set(opFid(op), op);
  const rebuilt = new Map<string, StoredFeature | undefined>();
  for (const [fid, op] of first) {
    if (features.has(fid) || op.op === "put") continue;
    let f: StoredFeature | null | undefined = deleted(fid);
    for (const each of ops) if (opFid(each) === fid) f = nextFeature(f ?? undefined, each);
    rebuilt.set(fid, f ?? undefined);
  }
  const out: EditOp[] = [];
  const done = new Set<string>();
  for (const op of ops) {
    const fid = opFid(op);
    if (!rebuilt.has(fid)) {
      out.push(op);
      continue;
    }
    if (done.has(fid)) continue;
    done.add(fid);
    const f = rebuilt.get(fid);
    if (f) {
      out.push({
        op: "put",
        feature: { type: "Feature", id: fid, geometry: f.geometry, properties: f.properties },
      });
    }
  }
  return out;
}
