/**
 * A {@link Journal} on an asynchronous store (PostgreSQL, or the SQLite journal worker): its writes
 * run one after another.
 */
import type { Journal } from "./journal.ts";
import type {
  AppendResult,
  DuplicateEditError,
  JournalBatch,
  MapRecord,
  MapStore,
  MaybePromise,
} from "./map_store.ts";
import type { NewVersion } from "./history_store.ts";
import type { Lease } from "./pg_lease.ts";

/** A batch as the committer hands it over, with the lease it was sequenced under (PostgreSQL). */
type LeasedBatch = JournalBatch & { lease?: Lease };

/** A write waiting its turn: appends waiting together are sent as one. */
type Queued =
  | {
    kind: "append";
    batches: readonly LeasedBatch[];
    done: PromiseWithResolvers<AppendResult | void>;
    /** Its batches taken out while it waited, because an earlier write left their map out. */
    leftOut?: DuplicateEditError[];
  }
  | { kind: "other"; write: () => MaybePromise<unknown>; done: PromiseWithResolvers<unknown> };

/** What a {@link StoreJournal} writes to: a {@link MapStore}, or anything with its writes. */
export type JournalWriter = Pick<
  MapStore,
  "appendBatches" | "saveSnapshot" | "createMap" | "addVersion" | "pruneHistory"
>;

/** Most appends merged into one write, so one write stays a bounded transaction. */
const MAX_MERGED = 64;

/**
 * Writes to a {@link MapStore} in call order, each write started once the one before it settled:
 * the hub relies on commits finishing in order (a ticket is durable when every earlier one is),
 * which a pool of connections running them side by side would not keep. Appends that queued up
 * while a write was in flight go to the store as **one** append (group commit): a turn's commit
 * is one transaction and one flush to disk however many turns waited, so a relay whose turns come
 * faster than the database commits catches up instead of falling further behind. Each caller
 * still settles with the write that carried its batches, in call order. When the store leaves a
 * map out because it already holds some of its edits, that map's batches still waiting here are
 * left out too (their edits follow ones that were not written) and reported with their appends.
 *
 * @example
 * ```ts ignore
 * import { StoreJournal } from "./store_journal.ts";
 * const journal = new StoreJournal(await PgStore.open({ url }));
 * await journal.append([{ mapId, entries: [{ seq: 1, frame }] }]);
 * ```
 */
export class StoreJournal implements Journal {
  #store: JournalWriter;
  #queue: Queued[] = [];
  /** A write is with the store. */
  #writing = false;
  /** Settles once nothing is queued or being written (for {@link close}). */
  #drained: PromiseWithResolvers<void> | null = null;
  #closed = false;

  /** Writes to `store`. */
  constructor(store: JournalWriter) {
    this.#store = store;
  }

  append(batches: JournalBatch[]): Promise<AppendResult | void> {
    if (this.#closed) return Promise.reject(new Error("journal is closed"));
    const done = Promise.withResolvers<AppendResult | void>();
    this.#queue.push({ kind: "append", batches, done });
    this.#run();
    return done.promise;
  }

  snapshot(mapId: string, seq: number, featuresJson: string, keep: number): Promise<void> {
    return this.#next(() => this.#store.saveSnapshot(mapId, seq, featuresJson, keep));
  }

  createMap(record: MapRecord): Promise<void> {
    return this.#next(() => this.#store.createMap(record));
  }

  addVersion(version: NewVersion): Promise<void> {
    return this.#next(() => this.#store.addVersion(version));
  }

  pruneHistory(cutoff: number, budget: number): Promise<number> {
    return this.#next(() => this.#store.pruneHistory(cutoff, budget));
  }

  /** Waits for every write so far; later writes are refused. The store stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#writing) return;
    this.#drained ??= Promise.withResolvers<void>();
    await this.#drained.promise;
  }

  #next<T>(write: () => MaybePromise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("journal is closed"));
    const done = Promise.withResolvers<T>();
    this.#queue.push({ kind: "other", write, done } as Queued);
    this.#run();
    return done.promise;
  }

  /** Starts the next write unless one is with the store. */
  #run(): void {
    if (this.#writing) return;
    if (this.#queue.length === 0) {
      this.#drained?.resolve();
      this.#drained = null;
      return;
    }
    this.#writing = true;
    void this.#writeNext().then((settle) => {
      // Nothing is being written when the callers learn how it went, so what they write next
      // starts at once instead of waiting to be merged with later writes.
      this.#writing = false;
      settle();
      this.#run();
    });
  }

  /**
   * Writes the first queued write, with the appends right behind it when it is an append; never
   * rejects, and returns what settles its callers.
   */
  async #writeNext(): Promise<() => void> {
    const first = this.#queue.shift()!;
    if (first.kind === "other") {
      try {
        const value = await first.write();
        return () => first.done.resolve(value);
      } catch (err) {
        // A failed write fails its own caller only; the next one still runs after it.
        return () => first.done.reject(err);
      }
    }
    const group = [first];
    const merged = new Map<string, LeasedBatch>();
    mergeInto(merged, first.batches);
    while (group.length < MAX_MERGED) {
      const next = this.#queue[0];
      if (next?.kind !== "append" || !mergeInto(merged, next.batches)) break;
      group.push(this.#queue.shift() as typeof first);
    }
    try {
      const result = await this.#store.appendBatches([...merged.values()]);
      return () => {
        for (const { done, leftOut } of group) done.resolve(withLeftOut(result, leftOut));
        if (result?.duplicates?.length) this.#leaveOut(result.duplicates);
      };
    } catch (err) {
      return () => {
        for (const { done } of group) done.reject(err);
      };
    }
  }

  /** Takes the maps the store refused as duplicates out of the appends still waiting. */
  #leaveOut(duplicates: readonly DuplicateEditError[]): void {
    const refused = new Map(duplicates.map((err) => [err.mapId, err]));
    for (const queued of this.#queue) {
      if (queued.kind !== "append") continue;
      const out = queued.batches.filter((b) => refused.has(b.mapId));
      if (out.length === 0) continue;
      queued.batches = queued.batches.filter((b) => !refused.has(b.mapId));
      queued.leftOut = [...(queued.leftOut ?? []), ...out.map((b) => refused.get(b.mapId)!)];
    }
  }
}

/** An append's result with the batches taken out of it while it waited. */
function withLeftOut(
  result: AppendResult | void,
  leftOut: readonly DuplicateEditError[] | undefined,
): AppendResult | void {
  if (!leftOut?.length) return result;
  return {
    fenced: result?.fenced ?? [],
    duplicates: [...(result?.duplicates ?? []), ...leftOut],
  };
}

/**
 * Adds `batches` to `merged` (one batch per map) when each continues its map's batch there: the
 * next seqs, under the same lease. Returns false, changing nothing, when one does not (a map
 * reloaded in between): that append then waits for the next write.
 */
function mergeInto(merged: Map<string, LeasedBatch>, batches: readonly LeasedBatch[]): boolean {
  for (const b of batches) {
    const had = merged.get(b.mapId);
    if (!had) continue;
    const last = had.entries.at(-1)?.seq;
    const first = b.entries[0]?.seq;
    const sameLease = had.lease?.owner === b.lease?.owner && had.lease?.epoch === b.lease?.epoch;
    if (!sameLease || (last !== undefined && first !== undefined && first !== last + 1)) {
      return false;
    }
  }
  for (const b of batches) {
    const had = merged.get(b.mapId);
    if (!had) {
      merged.set(b.mapId, { ...b, entries: [...b.entries] });
      continue;
    }
    had.entries.push(...b.entries);
    if (b.comments?.length) {
      // A comment changed in both turns is written once, as it is now (one row per comment).
      const newer = new Set(b.comments.map((c) => c.n));
      had.comments = [...(had.comments ?? []).filter((c) => !newer.has(c.n)), ...b.comments];
    }
    if (b.settings !== undefined) had.settings = b.settings;
  }
  return true;
}
