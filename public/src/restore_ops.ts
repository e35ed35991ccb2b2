/** "Restore this version" as edit ops: the difference between the map now and an earlier version, and the label the edit carries. */
import { MAX_EDIT_LABEL } from "../../relay/protocol.ts";
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";

/** Whether two JSON values are equal, whatever the order of their object keys. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra);
  if (keys.length !== Object.keys(rb).length) return false;
  return keys.every((k) => Object.hasOwn(rb, k) && sameJson(ra[k], rb[k]));
}

/**
 * The ops that turn `current` into `version`: a `del` for each feature the version lacks (first,
 * so a full map has room), then a `put` for each feature that is new or differs in geometry or
 * properties (who changed it last, `meta`, is not compared: the relay sets it). Empty when the
 * map already is that version.
 *
 * @example
 * ```ts
 * const dot = (id: string, x: number): StoredFeature =>
 *   ({ type: "Feature", id, geometry: { type: "Point", coordinates: [x, 0] }, properties: {} });
 * restoreOps(new Map([["a", dot("a", 1)], ["b", dot("b", 2)]]), [dot("a", 5)]);
 * // [{ op: "del", fid: "b" }, { op: "put", feature: dot("a", 5) }]
 * ```
 */
export function restoreOps(
  current: ReadonlyMap<string, StoredFeature>,
  version: readonly StoredFeature[],
): EditOp[] {
  const wanted = new Set(version.map((f) => f.id));
  const ops: EditOp[] = [];
  for (const fid of current.keys()) {
    if (!wanted.has(fid)) ops.push({ op: "del", fid });
  }
  for (const f of version) {
    const now = current.get(f.id);
    if (now && sameJson(now.geometry, f.geometry) && sameJson(now.properties, f.properties)) {
      continue;
    }
    ops.push({
      op: "put",
      feature: { type: "Feature", id: f.id, geometry: f.geometry, properties: f.properties },
    });
  }
  return ops;
}

/**
 * The label of a restore (contract point 4): "Restored version 'NAME'" for a named version,
 * else "Restored the map as of <ISO time>"; cut to {@link MAX_EDIT_LABEL}.
 *
 * @example
 * ```ts
 * restoreLabel({ name: "Before the field trip", at: 0 }); // "Restored version 'Before the field trip'"
 * restoreLabel({ at: 0 }); // "Restored the map as of 1970-01-01T00:00:00.000Z"
 * ```
 */
export function restoreLabel(version: { name?: string | null; at: number }): string {
  const text = version.name
    ? `Restored version '${version.name}'`
    : `Restored the map as of ${new Date(version.at).toISOString()}`;
  return text.length <= MAX_EDIT_LABEL ? text : `${text.slice(0, MAX_EDIT_LABEL - 2)}…'`;
}
