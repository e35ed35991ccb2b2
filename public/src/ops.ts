/** Pure edit-op semantics on the client: apply ops to a feature map and compute their inverse. */
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";

/** A feature map that ops are applied to. */
export type FeatureMap = Map<string, StoredFeature>;

/** The feature id an op touches. */
export function opFid(op: EditOp): string {
  return op.op === "put" ? op.feature.id : op.fid;
}

/**
 * Applies one op to `features` in place, as the relay does (set before unset for `props`).
 * Returns `false` (and changes nothing) when the op names a feature that does not exist.
 */
export function applyOp(features: FeatureMap, op: EditOp): boolean {
  if (op.op === "put") {
    features.set(op.feature.id, {
      type: "Feature",
      id: op.feature.id,
      geometry: op.feature.geometry,
      properties: op.feature.properties ?? {},
    });
    return true;
  }
  const existing = features.get(op.fid);
  if (!existing) return false;
  switch (op.op) {
    case "del":
      features.delete(op.fid);
      return true;
    case "geom":
      features.set(op.fid, { ...existing, geometry: op.geometry });
      return true;
    case "props": {
      const properties: Record<string, unknown> = {
        ...existing.properties,
        ...op.set,
      };
      for (const key of op.unset ?? []) delete properties[key];
      features.set(op.fid, { ...existing, properties });
      return true;
    }
  }
}

/**
 * The ops that undo `ops` when applied after them, computed against the state `before` them.
 * Returns `null` when `ops` cannot be applied to `before` (an unknown feature).
 */
export function inverseOps(
  before: ReadonlyMap<string, StoredFeature>,
  ops: EditOp[],
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
        inverse.push(
          old ? { op: "put", feature: old } : { op: "del", fid: op.feature.id },
        );
        break;
      case "del":
        if (old) inverse.push({ op: "put", feature: old });
        break;
      case "geom":
        if (old) {
          inverse.push({ op: "geom", fid: op.fid, geometry: old.geometry });
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
            // instead of keeping a property of that name (GIS data does have odd keys).
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
