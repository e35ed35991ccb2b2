/** Which of my edits went out again after a reconnect, and which of those replaced newer changes by others. */
import type { EditId, EditOp } from "../../relay/protocol.ts";
import type { Overwrite } from "./change_marks.ts";

/** Edits re-sent after a reconnect that replaced newer changes by others, told once all are settled. */
export interface OverwriteReport {
  /** How many of my re-sent edits replaced something. */
  edits: number;
  /** What they replaced, one entry per feature, kind and author. */
  overwrites: Overwrite[];
}

/** Finds what an acknowledged edit (`ops`, accepted at `seq`, made when the copy was at `base`) replaced. */
export type OverwriteCheck = (ops: readonly EditOp[], base: number, seq: number) => Overwrite[];

/**
 * Remembers the seq each of my edits was made at; a reconnect starts a batch of the edits still
 * unacknowledged (they go out again); as each is acknowledged, the changes by others between the
 * seq it was made at and the seq it was accepted at, to what it changes, are what it replaced.
 * When the last edit of the batch is settled, the report is returned (null if nothing was
 * replaced). Edits left by an earlier visit have no seq here and are not checked.
 *
 * @example
 * ```ts
 * import { ResendWatch } from "./resend_watch.ts";
 * const watch = new ResendWatch();
 * watch.made("c-1", 4);
 * watch.reconnected(["c-1"]);
 * watch.acked("c-1", [], 9, () => []); // null: nothing replaced
 * ```
 */
export class ResendWatch {
  #bases = new Map<EditId, number>();
  #batch = new Set<EditId>();
  #found: Overwrite[] = [];
  #edits = 0;

  /** An edit was made while the copy was at `base`. */
  made(id: EditId, base: number): void {
    this.#bases.set(id, base);
  }

  /** The link is back and these unacknowledged edits go out again. */
  reconnected(ids: Iterable<EditId>): void {
    for (const id of ids) if (this.#bases.has(id)) this.#batch.add(id);
  }

  /** An edit of mine was accepted at `seq`; returns the batch's report when this ended it. */
  acked(
    id: EditId,
    ops: readonly EditOp[],
    seq: number,
    check: OverwriteCheck,
  ): OverwriteReport | null {
    const base = this.#bases.get(id);
    if (base !== undefined && this.#batch.has(id)) {
      const found = check(ops, base, seq);
      if (found.length) {
        this.#edits++;
        this.#found.push(...found);
      }
    }
    return this.settled(id);
  }

  /** An edit of mine was refused or found already applied; returns the report when this ended the batch. */
  settled(id: EditId): OverwriteReport | null {
    this.#bases.delete(id);
    if (!this.#batch.delete(id) || this.#batch.size > 0 || this.#found.length === 0) return null;
    const report = { edits: this.#edits, overwrites: this.#found };
    this.#found = [];
    this.#edits = 0;
    return report;
  }
}
