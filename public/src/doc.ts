/** The client's copy of a map: the state confirmed by the relay plus pending local edits on top. */
import type { EditFrame, EditId, EditOp, StoredFeature } from "../../relay/protocol.ts";
import { applyFrame, applyOp, type FeatureMap, inverseOps, opFid } from "../../relay/edit_ops.ts";

/** A local edit the relay has not acknowledged yet. */
export interface PendingEdit {
  id: EditId;
  ops: EditOp[];
  /** Extension: what the edit was, for the map's history ("Restored version 'X'"). */
  label?: string;
}

/** What happened to one incoming edit frame. */
export interface RemoteResult {
  /** The frame acknowledged one of our pending edits. */
  own: boolean;
  /** The frame was already applied (its `seq` is not newer than ours) and was ignored. */
  duplicate: boolean;
}

/** Options for {@link MapDoc}. */
export interface MapDocOptions {
  /** Called with the ids of features whose visible state changed (created, changed or deleted). */
  onChange?: (fids: ReadonlySet<string>) => void;
}

/**
 * Confirmed features (in relay `seq` order) plus a list of pending local edits. What the user sees
 * is the confirmed state with the pending edits re-applied on top, recomputed only for the features
 * an incoming edit touches, so a remote edit costs in proportion to its own size.
 *
 * @example
 * ```ts
 * import { MapDoc } from "./doc.ts";
 * const doc = new MapDoc();
 * doc.load([], 0);
 * doc.local("c-1", [{ op: "put", feature: { type: "Feature", id: "a", geometry: { type: "Point", coordinates: [0, 0] }, properties: {} } }]);
 * doc.pending.length; // 1
 * ```
 */
export class MapDoc {
  #confirmed: FeatureMap = new Map();
  #visible: FeatureMap = new Map();
  #pending: PendingEdit[] = [];
  #seq = 0;
  #loaded = false;
  #onChange: (fids: ReadonlySet<string>) => void;

  constructor(options: MapDocOptions = {}) {
    this.#onChange = options.onChange ?? (() => {});
  }

  /** The last `seq` applied, for `hello.since`. */
  get seq(): number {
    return this.#seq;
  }

  /** Whether a snapshot has been loaded (so a reconnect can ask for a catch-up with `since`). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** Pending edits, oldest first. */
  get pending(): readonly PendingEdit[] {
    return this.#pending;
  }

  /** The features as the user sees them. */
  get features(): ReadonlyMap<string, StoredFeature> {
    return this.#visible;
  }

  /** The features as the relay has confirmed them. */
  get confirmed(): ReadonlyMap<string, StoredFeature> {
    return this.#confirmed;
  }

  /** Replaces the confirmed state with a snapshot; pending edits stay on top. */
  load(features: StoredFeature[], seq: number): void {
    const changed = new Set<string>([...this.#visible.keys()]);
    this.#confirmed = new Map(features.map((f) => [f.id, f]));
    this.#seq = seq;
    this.#loaded = true;
    for (const f of features) changed.add(f.id);
    for (const p of this.#pending) {
      for (const op of p.ops) changed.add(opFid(op));
    }
    this.#visible = new Map(this.#confirmed);
    for (const p of this.#pending) {
      for (const op of p.ops) applyOp(this.#visible, op);
    }
    this.#onChange(changed);
  }

  /**
   * Applies an accepted edit from the relay. When its id is one of our pending edits, that edit is
   * done (acknowledged) and leaves the pending list.
   */
  applyRemote(frame: EditFrame): RemoteResult {
    if (frame.seq <= this.#seq) return { own: false, duplicate: true };
    const touched = new Set<string>();
    const index = this.#pending.findIndex((p) => p.id === frame.id);
    if (index >= 0) {
      for (const op of this.#pending[index].ops) touched.add(opFid(op));
      this.#pending.splice(index, 1);
    }
    // Who made the edit (a relay extension) becomes the `meta` of what it touched, as on the relay.
    applyFrame(this.#confirmed, frame, touched);
    this.#seq = frame.seq;
    this.#recompute(touched);
    return { own: index >= 0, duplicate: false };
  }

  /**
   * Applies a local edit at once (optimistically) and queues it as pending. Returns the ops that
   * undo it, or `null` (and changes nothing) when it names a feature that is not there.
   */
  local(id: EditId, ops: EditOp[], label?: string): EditOp[] | null {
    const inverse = inverseOps(this.#visible, ops);
    if (inverse === null) return null;
    this.#pending.push(label === undefined ? { id, ops } : { id, ops, label });
    const touched = new Set<string>();
    for (const op of ops) {
      applyOp(this.#visible, op);
      touched.add(opFid(op));
    }
    this.#onChange(touched);
    return inverse;
  }

  /** Drops a pending edit the relay refused and shows the state without it. */
  reject(id: EditId): PendingEdit | null {
    const index = this.#pending.findIndex((p) => p.id === id);
    if (index < 0) return null;
    const [edit] = this.#pending.splice(index, 1);
    this.#recompute(new Set(edit.ops.map(opFid)));
    return edit;
  }

  /** Recomputes what the user sees for some features: confirmed, then every pending op on them. */
  #recompute(fids: Set<string>): void {
    const changed = new Set<string>();
    const scratch: FeatureMap = new Map();
    for (const fid of fids) {
      const f = this.#confirmed.get(fid);
      if (f) scratch.set(fid, f);
    }
    for (const p of this.#pending) {
      for (const op of p.ops) if (fids.has(opFid(op))) applyOp(scratch, op);
    }
    for (const fid of fids) {
      const next = scratch.get(fid);
      const prev = this.#visible.get(fid);
      if (next === prev) continue;
      if (next) this.#visible.set(fid, next);
      else this.#visible.delete(fid);
      changed.add(fid);
    }
    if (changed.size) this.#onChange(changed);
  }
}
