/** What an edit op does to a map's features: one definition, used by the relay and the client. */
import { vertexCount } from "./geometry.ts";
import type { EditFrame, EditOp, FeatureMeta, RejectCode, StoredFeature } from "./protocol.ts";

/** A feature map that ops are applied to, by feature id. */
export type FeatureMap = Map<string, StoredFeature>;

/** The limits on the outcome of an edit, checked by {@link applyOps}. */
export interface EditLimits {
  /** Features a map may hold. */
  maxFeatures: number;
  /** Vertices one feature's geometry may have. */
  maxVertices: number;
  /** Bytes of one feature's properties as JSON. */
  maxPropsBytes: number;
}

/** An edit that was refused, as a value (it is an expected outcome, not an exception). */
export interface Rejection {
  /** Always false: the edit was not applied. */
  ok: false;
  /** Why, as the `rejected` frame's code. */
  code: RejectCode;
  /** Why, for a person. */
  message: string;
}

/** The feature id an op touches. */
export function opFid(op: EditOp): string {
  return op.op === "put" ? op.feature.id : op.fid;
}

/**
 * What one op makes of the feature it touches: the new feature, `null` when the op deletes it,
 * or `undefined` when the op needs an existing feature and `existing` is `undefined`. `props`
 * sets before it unsets. The result's key order is fixed (`type`, `id`, `geometry`,
 * `properties`), so the relay's snapshot and every client's copy serialise alike.
 *
 * @example
 * ```ts
 * import { nextFeature } from "./edit_ops.ts";
 * nextFeature(undefined, { op: "del", fid: "a" }); // undefined: there is nothing to delete
 * ```
 */
export function nextFeature(
  existing: StoredFeature | undefined,
  op: EditOp,
): StoredFeature | null | undefined {
  if (op.op === "put") {
    return {
      type: "Feature",
      id: op.feature.id,
      geometry: op.feature.geometry,
      properties: op.feature.properties ?? {},
    };
  }
  if (existing === undefined) return undefined;
  switch (op.op) {
    case "del":
      return null;
    case "geom":
      return { ...existing, geometry: op.geometry };
    case "props": {
      // Spread defines own data properties, so `__proto__`, `constructor` and `prototype` stay
      // ordinary keys (GIS data does have odd keys) and never reach a prototype.
      const properties: Record<string, unknown> = { ...existing.properties, ...op.set };
      for (const key of op.unset ?? []) delete properties[key];
      return { ...existing, properties };
    }
  }
}

/**
 * Applies one op to `features` in place (no limits: the relay has checked them). Returns `false`
 * and changes nothing when the op names a feature that does not exist.
 */
export function applyOp(features: FeatureMap, op: EditOp): boolean {
  const fid = opFid(op);
  const next = nextFeature(features.get(fid), op);
  if (next === undefined) return false;
  if (next === null) features.delete(fid);
  else features.set(fid, next);
  return true;
}

/**
 * Applies the ops of one edit to a copy-on-write view of `features`, checking `limits`. Either
 * every op applies and the changed features are returned (`null` for a deleted one), or nothing
 * changes and the reason is returned. `features` itself is never touched.
 *
 * @example
 * ```ts
 * import { applyOps } from "./edit_ops.ts";
 * const limits = { maxFeatures: 10, maxVertices: 100, maxPropsBytes: 1000 };
 * const result = applyOps(new Map(), [{ op: "del", fid: "a" }], limits);
 * result.ok; // false: code "unknown_feature"
 * ```
 */
export function applyOps(
  features: ReadonlyMap<string, StoredFeature>,
  ops: readonly EditOp[],
  limits: EditLimits,
): { ok: true; changes: Map<string, StoredFeature | null> } | Rejection {
  const changes = new Map<string, StoredFeature | null>();
  let count = features.size;
  for (let index = 0; index < ops.length; index++) {
    const op = ops[index];
    const fid = opFid(op);
    const existing = changes.has(fid) ? changes.get(fid) ?? undefined : features.get(fid);
    const next = nextFeature(existing, op);
    if (next === undefined) {
      return reject(
        "unknown_feature",
        `ops[${index}]: no feature ${JSON.stringify(fid)} (it may have been deleted)`,
      );
    }
    if (next === null) {
      changes.set(fid, null);
      count--;
      continue;
    }
    if (existing === undefined) count++;
    if (op.op !== "props" && next.geometry !== null) {
      const vertices = vertexCount(next.geometry);
      if (vertices > limits.maxVertices) {
        return reject(
          "too_large",
          `ops[${index}]: geometry has ${vertices} positions; the limit is ${limits.maxVertices}`,
        );
      }
    }
    if (op.op !== "geom") {
      const bytes = utf8Length(JSON.stringify(next.properties));
      if (bytes > limits.maxPropsBytes) {
        return reject(
          "too_large",
          `ops[${index}]: properties are ${bytes} bytes as JSON; the limit is ${limits.maxPropsBytes}`,
        );
      }
    }
    changes.set(fid, next);
  }
  if (count > limits.maxFeatures && count > features.size) {
    return reject(
      "too_many_features",
      `the map would hold ${count} features; the limit is ${limits.maxFeatures}`,
    );
  }
  return { ok: true, changes };
}

/**
 * The ops that undo `ops` when applied after them, computed against the state `before` them
 * (the client's undo). Returns `null` when `ops` cannot be applied to `before` (an unknown feature).
 */
export function inverseOps(
  before: ReadonlyMap<string, StoredFeature>,
  ops: readonly EditOp[],
): EditOp[] | null {
  // Work on a scratch overlay so ops later in the edit see the effect of earlier ones.
  const scratch: FeatureMap = new Map();
  for (const op of ops) {
    const fid = opFid(op);
    const f = before.get(fid);
    if (f && !scratch.has(fid)) scratch.set(fid, f);
  }
  const inverse: EditOp[] = [];
  for (const op of ops) {
    const old = scratch.get(opFid(op));
    if (op.op !== "put" && !old) return null;
    switch (op.op) {
      case "put":
        inverse.push(old ? { op: "put", feature: old } : { op: "del", fid: op.feature.id });
        break;
      case "del":
        if (old) inverse.push({ op: "put", feature: old });
        break;
      case "geom":
        // A `geom` op cannot carry `null`: a feature that had no geometry is put back whole.
        if (old) {
          inverse.push(
            old.geometry === null
              ? { op: "put", feature: old }
              : { op: "geom", fid: op.fid, geometry: old.geometry },
          );
        }
        break;
      case "props": {
        if (!old) break;
        const set: Record<string, unknown> = {};
        const unset: string[] = [];
        const touched = new Set([...Object.keys(op.set), ...(op.unset ?? [])]);
        for (const key of touched) {
          if (Object.hasOwn(old.properties, key)) {
            // Defined, not assigned: `set["__proto__"] = x` would change the object's prototype
            // instead of keeping a property of that name.
            Object.defineProperty(set, key, {
              value: old.properties[key],
              enumerable: true,
              writable: true,
              configurable: true,
            });
          } else unset.push(key);
        }
        inverse.push(
          unset.length
            ? { op: "props", fid: op.fid, set, unset }
            : { op: "props", fid: op.fid, set },
        );
        break;
      }
    }
    applyOp(scratch, op);
  }
  return inverse.reverse();
}

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  // Most property text is ASCII: only count bytes when a character could take more than one.
  // JSON.stringify escapes control characters, so its ASCII output is all printable.
  return /[^\x20-\x7e]/.test(text) ? encoder.encode(text).length : text.length;
}

/** The `meta` an edit frame gives the features it touches, if it names its author. */
export function frameMeta(frame: EditFrame): FeatureMeta | undefined {
  return frame.name !== undefined && frame.color !== undefined && frame.at !== undefined
    ? { by: frame.name, color: frame.color, at: frame.at }
    : undefined;
}

/**
 * Applies an accepted edit frame to `features` in place, as every copy of a map does (the relay
 * replaying its journal, each client): its ops, and its author (when it names one) as the `meta`
 * of every feature it leaves on the map. Each touched fid is added to `touched`. Returns the first
 * op that could not apply (the others are applied all the same), or null.
 */
export function applyFrame(
  features: FeatureMap,
  frame: EditFrame,
  touched?: Set<string>,
): EditOp | null {
  const meta = frameMeta(frame);
  let failed: EditOp | null = null;
  for (const op of frame.ops) {
    if (!applyOp(features, op)) failed ??= op;
    const fid = opFid(op);
    touched?.add(fid);
    const f = meta && features.get(fid);
    if (f) features.set(fid, { ...f, meta });
  }
  return failed;
}

/** A refusal as a value. */
export function reject(code: RejectCode, message: string): Rejection {
  return { ok: false, code, message };
}
