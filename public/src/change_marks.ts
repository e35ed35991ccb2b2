/** Who else changed which part of each feature at which seq, as this page saw it: what the conflict checks read. */
import type { EditFrame, EditOp, StoredFeature } from "../../relay/protocol.ts";
import { opFid } from "../../relay/edit_ops.ts";
import { titleOf } from "../../relay/history_words.ts";

/** What another person did to a feature: moved or reshaped it, changed properties, put it anew, deleted it. */
export type OverwriteKind = "geom" | "props" | "replace" | "del";

/**
 * A change by someone else that an edit of mine would overwrite (or, for an offline edit, did):
 * one per feature, kind and author; `keys` are the properties of a `props` change.
 */
export interface Overwrite {
  fid: string;
  /** The feature's `name` (or `title`) property, if it has one. */
  title: string | null;
  /** "point", "line", "area" or "feature": words for a feature without a title. */
  shape: string;
  kind: OverwriteKind;
  keys?: string[];
  /** The other person's name, as the edit frame named them ("Someone" if it did not). */
  name: string;
  /** The seq of their (latest such) change. */
  seq: number;
}

interface Mark {
  seq: number;
  name: string;
}

interface FeatureMarks {
  geom?: Mark;
  props: Map<string, Mark>;
  replaced?: Mark;
  deleted?: Mark;
}

/** The parts of one feature some ops change. */
interface Parts {
  whole: boolean;
  geom: boolean;
  keys: Set<string>;
}

/** Options for {@link ChangeMarks}. */
export interface ChangeMarksOptions {
  /** How many deleted features to keep (newest deletions), for "undo anyway". @default 1000 */
  maxDeleted?: number;
}

/**
 * Per feature, the seq and author of the latest change by someone else to its geometry, to each of
 * its properties, of a `put` over it and of its deletion; plus deleted features as they were, so
 * an undo may bring one back. The session records every accepted frame that is not its own, so
 * "changed by someone else after seq S" is one lookup per part an edit touches.
 *
 * @example
 * ```ts
 * import { ChangeMarks } from "./change_marks.ts";
 * const marks = new ChangeMarks();
 * marks.record({ type: "edit", seq: 5, by: "b", id: 1, name: "Bob", ops: [{ op: "props", fid: "f", set: { name: "Dam" } }] }, new Map());
 * marks.overwrites([{ op: "props", fid: "f", set: { name: "Weir" } }], 4, Infinity, new Map()).length; // 1
 * ```
 */
export class ChangeMarks {
  #marks = new Map<string, FeatureMarks>();
  #deleted = new Map<string, StoredFeature>();
  #maxDeleted: number;

  constructor(options: ChangeMarksOptions = {}) {
    const max = options.maxDeleted ?? 1000;
    if (!Number.isInteger(max) || max < 0) {
      throw new RangeError(
        `Cannot create ChangeMarks as 'maxDeleted' must be an integer >= 0: received ${max}`,
      );
    }
    this.#maxDeleted = max;
  }

  /** Records an accepted frame by someone else; `before` is the confirmed state just before it. */
  record(frame: EditFrame, before: ReadonlyMap<string, StoredFeature>): void {
    const mark = { seq: frame.seq, name: frame.name ?? "Someone" };
    for (const op of frame.ops) {
      const m = this.#of(opFid(op));
      switch (op.op) {
        case "geom":
          m.geom = mark;
          break;
        case "props":
          for (const key of [...Object.keys(op.set), ...op.unset ?? []]) m.props.set(key, mark);
          break;
        case "put":
          m.replaced = mark;
          this.#deleted.delete(op.feature.id);
          break;
        case "del": {
          m.deleted = mark;
          const f = before.get(op.fid);
          if (f) this.#keepDeleted(op.fid, f);
          break;
        }
      }
    }
  }

  /**
   * A full snapshot replaced the copy (`before` → `after`) at `seq`: whatever changed in the
   * features `fids` is marked at `seq` as a change by the feature's `meta.by` (who changed it
   * last) or "Someone". A part that my pending edits (`pending`) set, and that the snapshot shows
   * with the very value they set, is my own edit the relay had already applied: not marked.
   */
  reloaded(
    before: ReadonlyMap<string, StoredFeature>,
    after: ReadonlyMap<string, StoredFeature>,
    visible: ReadonlyMap<string, StoredFeature>,
    pending: readonly EditOp[],
    fids: Iterable<string>,
    seq: number,
  ): void {
    for (const fid of fids) {
      const b = before.get(fid);
      const a = after.get(fid);
      if (b === a) continue;
      const mine = partsOf(pending, fid);
      const v = visible.get(fid);
      const mark = { seq, name: a?.meta?.by ?? b?.meta?.by ?? "Someone" };
      if (!a || !b) {
        if (mine.whole && sameFeature(a, v)) continue;
        const m = this.#of(fid);
        if (a) m.replaced = mark;
        else if (b) {
          m.deleted = mark;
          this.#keepDeleted(fid, b);
        }
        continue;
      }
      if (
        !same(a.geometry, b.geometry) &&
        !((mine.whole || mine.geom) && same(a.geometry, v?.geometry))
      ) {
        this.#of(fid).geom = mark;
      }
      const keys = new Set([...Object.keys(a.properties), ...Object.keys(b.properties)]);
      for (const key of keys) {
        const value = own(a.properties, key);
        if (same(value, own(b.properties, key))) continue;
        if ((mine.whole || mine.keys.has(key)) && v && same(value, own(v.properties, key))) {
          continue;
        }
        this.#of(fid).props.set(key, mark);
      }
    }
  }

  /**
   * The changes by others, with `since < seq < until`, that `ops` would overwrite: a `geom` op its
   * geometry, a `props` op the properties it names, a `put` or `del` everything; any op a `put`
   * over the feature or its deletion. `features` (the current copy) gives the titles.
   */
  overwrites(
    ops: readonly EditOp[],
    since: number,
    until: number,
    features: ReadonlyMap<string, StoredFeature>,
  ): Overwrite[] {
    const found = new Map<string, Overwrite>();
    const add = (fid: string, kind: OverwriteKind, mark: Mark | undefined, key?: string) => {
      if (!mark || mark.seq <= since || mark.seq >= until) return;
      const id = JSON.stringify([fid, kind, mark.name]);
      const known = found.get(id);
      if (known) {
        known.seq = Math.max(known.seq, mark.seq);
        if (key !== undefined && !known.keys?.includes(key)) known.keys?.push(key);
        return;
      }
      const f = features.get(fid) ?? this.#deleted.get(fid);
      found.set(id, {
        fid,
        title: titleOf(f?.properties),
        shape: shapeOf(f),
        kind,
        ...(key === undefined ? {} : { keys: [key] }),
        name: mark.name,
        seq: mark.seq,
      });
    };
    for (const op of ops) {
      const fid = opFid(op);
      const m = this.#marks.get(fid);
      if (!m) continue;
      add(fid, "replace", m.replaced);
      add(fid, "del", m.deleted);
      if (op.op === "props") {
        for (const key of [...Object.keys(op.set), ...op.unset ?? []]) {
          add(fid, "props", m.props.get(key), key);
        }
        continue;
      }
      add(fid, "geom", m.geom);
      if (op.op === "geom") continue;
      for (const [key, mark] of m.props) add(fid, "props", mark, key);
    }
    return [...found.values()];
  }

  /** The feature as it was when someone else deleted it, if still kept. */
  deletedFeature(fid: string): StoredFeature | undefined {
    return this.#deleted.get(fid);
  }

  /** Forgets everything (a new epoch: the seqs recorded so far count in another history). */
  clear(): void {
    this.#marks.clear();
    this.#deleted.clear();
  }

  #of(fid: string): FeatureMarks {
    let m = this.#marks.get(fid);
    if (!m) this.#marks.set(fid, m = { props: new Map() });
    return m;
  }

  #keepDeleted(fid: string, feature: StoredFeature): void {
    this.#deleted.delete(fid);
    this.#deleted.set(fid, feature);
    // Oldest deletions go first: undoing over an old deletion then only restores what is kept.
    for (const old of this.#deleted.keys()) {
      if (this.#deleted.size <= this.#maxDeleted) break;
      this.#deleted.delete(old);
    }
  }
}

function shapeOf(f: StoredFeature | undefined): string {
  const type = f?.geometry?.type ?? "";
  if (type.endsWith("Point")) return "point";
  if (type.endsWith("LineString")) return "line";
  if (type.endsWith("Polygon")) return "area";
  return "feature";
}

function partsOf(ops: readonly EditOp[], fid: string): Parts {
  const parts: Parts = { whole: false, geom: false, keys: new Set() };
  for (const op of ops) {
    if (opFid(op) !== fid) continue;
    if (op.op === "put" || op.op === "del") parts.whole = true;
    else if (op.op === "geom") parts.geom = true;
    else for (const key of [...Object.keys(op.set), ...op.unset ?? []]) parts.keys.add(key);
  }
  return parts;
}

function own(properties: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(properties, key) ? properties[key] : undefined;
}

function sameFeature(a: StoredFeature | undefined, b: StoredFeature | undefined): boolean {
  if (!a || !b) return a === b;
  return same(a.geometry, b.geometry) && same(a.properties, b.properties);
}

/** Equal as JSON (the relay normalises features, so key order matches between copies). */
function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
