/** The CPU work of a history read on PostgreSQL, done off the event loop when it is big: a past state rebuilt, or a page's frames read into entries. */
import { pageEntry } from "./history_pages.ts";
import type { PageEntry } from "./history_pages.ts";
import { answerRebuild } from "./history_state.ts";
import type { RebuildRequest } from "./history_state.ts";
import type { HistoryRow } from "./history_store.ts";

/** What the per-feature index says of one feature at one edit. */
export interface Touched {
  /** The feature existed before the edit. */
  was: boolean;
  /** Its name then, if it had one. */
  title: string | null;
}

/** One task: a state to rebuild, or a page's rows with the index entries of their features. */
export type HistoryTask =
  | { kind: "state"; state: RebuildRequest }
  | {
    kind: "page";
    rows: HistoryRow[];
    /** By `"<seq> <fid>"`. */
    touches: [string, Touched][];
  };

/** A task's answer: the state's features JSON (`null` when pruned), or the page's entries. */
export type HistoryAnswer = string | null | PageEntry[];

/** Does `task` (on a worker thread, or here). */
export function answerHistoryTask(task: HistoryTask): HistoryAnswer {
  if (task.kind === "state") return answerRebuild(task.state);
  const touches = new Map(task.touches);
  const untouched = { was: false, title: null };
  return task.rows.map((row) =>
    pageEntry(row, (fid) => touches.get(`${row.seq} ${fid}`) ?? untouched)
  );
}

/** How many characters a task parses (a deflated base counts 4 times its bytes). */
export function historyTaskSize(task: HistoryTask): number {
  let size = 0;
  if (task.kind === "state") {
    const { base } = task.state;
    if (base !== null) size += "json" in base ? base.json.length : base.deflated.length * 4;
  }
  const rows = task.kind === "state" ? task.state.rows : task.rows;
  for (const row of rows) size += row.frame.length;
  return size;
}
