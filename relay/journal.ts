/**
 * Durable writes: accepted edits, snapshots and new maps. With a database file they run on a
 * worker thread, so an `fsync` never stalls the event loop that relays presence and edits.
 */
import { Store } from "./store.ts";
import type { JournalBatch, MapRecord } from "./store.ts";
import type { NewVersion } from "./history_store.ts";
import type { AppendResult } from "./map_store.ts";
import { StoreJournal } from "./store_journal.ts";

export type { JournalBatch };

/** Ordered, durable writes: each call resolves once its write is durable, in call order. */
export interface Journal {
  /** Appends batches in one transaction; on PostgreSQL, says which were fenced (left out). */
  append(batches: JournalBatch[]): Promise<AppendResult | void>;
  /** Writes a snapshot and prunes the journal (see {@link Store.saveSnapshot}). */
  snapshot(mapId: string, seq: number, featuresJson: string, keep: number): Promise<void>;
  /** Stores a new map. */
  createMap(record: MapRecord): Promise<void>;
  /** Stores a named version (see {@link Store.addVersion}). */
  addVersion(version: NewVersion): Promise<void>;
  /** Prunes history older than `cutoff` ms, at most `budget` rows; resolves with rows deleted. */
  pruneHistory(cutoff: number, budget: number): Promise<number>;
  /** Waits for every write, then stops; the journal is unusable afterwards. */
  close(): Promise<void>;
}

/** A {@link Journal} that writes on the calling thread (tests, `--memory`). */
export class InlineJournal implements Journal {
  #store: Store;
  /** Writes to `store` on the calling thread. */
  constructor(store: Store) {
    this.#store = store;
  }
  append(batches: JournalBatch[]): Promise<void> {
    return attempt(() => this.#store.appendBatches(batches));
  }
  snapshot(mapId: string, seq: number, featuresJson: string, keep: number): Promise<void> {
    return attempt(() => this.#store.saveSnapshot(mapId, seq, featuresJson, keep));
  }
  createMap(record: MapRecord): Promise<void> {
    return attempt(() => this.#store.createMap(record));
  }
  addVersion(version: NewVersion): Promise<void> {
    return attempt(() => this.#store.addVersion(version));
  }
  pruneHistory(cutoff: number, budget: number): Promise<number> {
    return attempt(() => this.#store.pruneHistory(cutoff, budget));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Runs `work` now, as a promise: what it returns resolves it, what it throws rejects it. */
export function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** A request to the journal worker. */
export type JournalRequest =
  | { id: number; op: "open"; path: string }
  | { id: number; op: "append"; batches: JournalBatch[] }
  | { id: number; op: "snapshot"; mapId: string; seq: number; featuresJson: string; keep: number }
  | { id: number; op: "createMap"; record: MapRecord }
  | { id: number; op: "addVersion"; version: NewVersion }
  | { id: number; op: "pruneHistory"; cutoff: number; budget: number }
  | { id: number; op: "close" };

/** The worker's answer to one request. */
export interface JournalReply {
  /** The request this answers. */
  id: number;
  /** Why it failed, when it did. */
  error?: string;
  /** What it counted (rows pruned), for the requests that count. */
  count?: number;
}

/** Makes the worker's request handler, on its own connection to the database file. */
export function createJournalHandler(
  reply: (m: JournalReply) => void,
): (r: JournalRequest) => void {
  let store: Store | null = null;
  return (request) => {
    try {
      if (request.op === "open") {
        store = new Store({ path: request.path });
      } else if (!store) {
        throw new Error("journal worker used before open");
      } else if (request.op === "append") {
        store.appendBatches(request.batches);
      } else if (request.op === "snapshot") {
        store.saveSnapshot(request.mapId, request.seq, request.featuresJson, request.keep);
      } else if (request.op === "createMap") {
        store.createMap(request.record);
      } else if (request.op === "addVersion") {
        store.addVersion(request.version);
      } else if (request.op === "pruneHistory") {
        reply({ id: request.id, count: store.pruneHistory(request.cutoff, request.budget) });
        return;
      } else {
        store.close();
        store = null;
      }
      reply({ id: request.id });
    } catch (err) {
      reply({ id: request.id, error: err instanceof Error ? err.message : String(err) });
    }
  };
}

type Pending = { resolve: (count: number) => void; reject: (err: Error) => void };

/**
 * A {@link Journal} on a worker thread with its own connection to the database file.
 *
 * The writes are ordered and group-committed by a {@link StoreJournal} over the worker: one write
 * is with the worker at a time, and appends made meanwhile go to it as **one** append (one
 * transaction, one `fsync`), so a relay whose turns come faster than the disk syncs catches up
 * instead of queueing a sync per turn.
 */
export class WorkerJournal implements Journal {
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #writes: StoreJournal;
  #appendWrites = 0;
  #nextId = 1;
  #closed: Promise<void> | null = null;
  #failed: Error | null = null;

  /** Starts the worker on the SQLite file at `path`. */
  constructor(options: { path: string }) {
    if (typeof options?.path !== "string" || options.path === "" || options.path === ":memory:") {
      throw new TypeError(
        `Cannot create WorkerJournal as 'path' must name a database file: received ${
          JSON.stringify(options?.path)
        }`,
      );
    }
    this.#worker = new Worker(new URL("./journal_worker.ts", import.meta.url).href, {
      type: "module",
    });
    this.#worker.onmessage = ({ data }: MessageEvent<JournalReply>) => {
      const pending = this.#pending.get(data.id);
      if (!pending) return;
      this.#pending.delete(data.id);
      if (data.error === undefined) pending.resolve(data.count ?? 0);
      else pending.reject(new Error(data.error));
    };
    this.#worker.onerror = (event) => {
      // A worker that died cannot make anything durable: fail everything waiting on it.
      event.preventDefault();
      const err = new Error(`journal worker failed: ${event.message}`);
      this.#failed = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    void this.#post({ op: "open", path: options.path });
    const done = (posted: Promise<number>) => posted.then(() => {});
    this.#writes = new StoreJournal({
      appendBatches: (batches) => {
        this.#appendWrites++;
        return done(this.#post({ op: "append", batches: [...batches] }));
      },
      saveSnapshot: (mapId, seq, featuresJson, keep) =>
        done(this.#post({ op: "snapshot", mapId, seq, featuresJson, keep })),
      createMap: (record) => done(this.#post({ op: "createMap", record })),
      addVersion: (version) => done(this.#post({ op: "addVersion", version })),
      pruneHistory: (cutoff, budget) => this.#post({ op: "pruneHistory", cutoff, budget }),
    });
  }

  async append(batches: JournalBatch[]): Promise<void> {
    await this.#writes.append(batches);
  }

  /** Appends sent to the worker so far: one transaction each, however many calls they carried. */
  get appendWrites(): number {
    return this.#appendWrites;
  }

  snapshot(mapId: string, seq: number, featuresJson: string, keep: number): Promise<void> {
    return this.#writes.snapshot(mapId, seq, featuresJson, keep);
  }

  createMap(record: MapRecord): Promise<void> {
    return this.#writes.createMap(record);
  }

  addVersion(version: NewVersion): Promise<void> {
    return this.#writes.addVersion(version);
  }

  pruneHistory(cutoff: number, budget: number): Promise<number> {
    return this.#writes.pruneHistory(cutoff, budget);
  }

  close(): Promise<void> {
    this.#closed ??= this.#writes.close()
      .then(() => this.#failed ? undefined : this.#post({ op: "close" }))
      .then(() => {})
      .finally(() => this.#worker.terminate());
    return this.#closed;
  }

  #post(message: DistributiveOmit<JournalRequest, "id">): Promise<number> {
    // Nothing posted to a dead worker would ever be answered.
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise<number>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...message, id });
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
