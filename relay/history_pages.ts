/** A page of a map's history read from the store: each edit's frame parsed into changes and a tally. */
import type { HistoryRow } from "./history_store.ts";
import { changesOf, MAX_CHANGES, tallyOf } from "./history_words.ts";
import type { Tally } from "./history_words.ts";
import type { EditFrame } from "./protocol.ts";
import type { HistoryEntry } from "./history_wire.ts";
import type { Store } from "./store.ts";

/** One edit of a page as read, before the names only the live map knows are filled in (the summary). */
export type PageEntry = Omit<HistoryEntry, "summary"> & {
  /** Its changes tallied by kind, for the summary. */
  tally: Tally[];
};

/** A page of history as read. */
export interface PageRead {
  /** The oldest seq still kept, or `null` when the journal holds none. */
  oldest: number | null;
  /** `before` for the next page, or `null` at the end. */
  next: number | null;
  /** The entries, newest first. */
  entries: PageEntry[];
}

/** What a page asks for. */
export interface PageQuery {
  /** Only edits with a smaller seq. */
  before: number;
  /** Edits at most. */
  limit: number;
  /** Only edits touching this feature. */
  fid?: string;
}

/** Reads a page: one indexed range of journal rows, each frame parsed (whatever its size). */
export function readPage(store: Pick<Store, "history">, mapId: string, query: PageQuery): PageRead {
  const history = store.history;
  const rows = history.page(mapId, query.before, query.limit + 1, query.fid);
  const more = rows.length > query.limit;
  const entries = rows.slice(0, query.limit).map((row) =>
    pageEntry(row, (fid) => history.touch(mapId, fid, row.seq))
  );
  return {
    oldest: history.oldest(mapId),
    next: more ? entries[entries.length - 1].seq : null,
    entries,
  };
}

/**
 * One journal row as a page entry: its frame parsed into changes, each feature's state before the
 * edit and name told by `touch` (the per-feature index at the row's seq).
 */
export function pageEntry(
  row: HistoryRow,
  touch: (fid: string) => { was: boolean; title: string | null },
): PageEntry {
  const frame = JSON.parse(row.frame) as EditFrame & { label?: string };
  const all = changesOf(frame, touch, () => undefined);
  const changes = all.slice(0, MAX_CHANGES);
  const entry: PageEntry = {
    seq: row.seq,
    at: frame.at ?? null,
    name: frame.name ?? null,
    color: frame.color ?? null,
    by: frame.by,
    id: frame.id,
    label: frame.label ?? null,
    changes,
    tally: tallyOf(all),
  };
  if (all.length > changes.length) entry.more = all.length - changes.length;
  return entry;
}
