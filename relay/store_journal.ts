/** A {@link Journal} on an asynchronous store (PostgreSQL): its writes run one after another. */
import type { Journal } from "./journal.ts";
import type { AppendResult, JournalBatch, MapRecord, MapStore, MaybePromise } from "./map_store.ts";
import type { NewVersion } from "./history_store.ts";

/**
 * Writes to a {@link MapStore} in call order, each write started once the one before it settled:
 * the hub relies on commits finishing in order (a ticket is durable when every earlier one is),
 * which a pool of connections running them side by side would not keep.
 *
 * @example
 * ```ts ignore
 * import { StoreJournal } from "./store_journal.ts";
 * const journal = new StoreJournal(await PgStore.open({ url }));
 * await journal.append([{ mapId, entries: [{ seq: 1, frame }] }]);
 * ```
 */
export class StoreJournal implements Journal {
  #store: MapStore;
  #last: Promise<unknown> = Promise.resolve();
  #closed = false;

  /** Writes to `store`. */
  constructor(store: MapStore) {
    this.#store = store;
  }

  append(batches: JournalBatch[]): Promise<AppendResult | void> {
    return this.#next(() => this.#store.appendBatches(batches));
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
    await this.#last;
  }

  #next<T>(write: () => MaybePromise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("journal is closed"));
    const done = this.#last.then(async () => await write());
    // A failed write fails its own caller only; the next one still runs after it.
    this.#last = done.catch(() => {});
    return done;
  }
}
