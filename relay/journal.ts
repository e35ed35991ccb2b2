/**
 * Durable writes: accepted edits, snapshots and new maps. With a database file they run on a
 * worker thread, so an `fsync` never stalls the event loop that relays presence and edits.
 */
import { Store } from "./store.ts";
import type { JournalBatch, MapRecord } from "./store.ts";
import type { NewVersion } from "./history_store.ts";
import type { AppendResult } from "./map_store.ts";

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

/** A request not posted yet, and everyone waiting for it (several, for appends merged into one). */
type Unposted = { message: DistributiveOmit<JournalRequest, "id">; waiters: Pending[] };

/**
 * A {@link Journal} on a worker thread with its own connection to the database file.
 *
 * Group commit: at most one append is with the worker at a time. Appends made while it is being
 * written wait here and go to the worker as **one** append (one transaction, one `fsync`), so a
 * relay whose turns come faster than the disk syncs catches up instead of queueing a sync per
 * turn. Everything keeps its call order: a write behind a waiting append waits with it, and each
 * caller settles when the write that carried its request is durable.
 */
export class WorkerJournal implements Journal {
  #worker: Worker;
  #pending = new Map<number, Pending>();
  #unposted: Unposted[] = [];
  #appendInFlight = false;
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
      for (const u of this.#unposted.splice(0)) for (const w of u.waiters) w.reject(err);
    };
    void this.#request({ op: "open", path: options.path });
  }

  append(batches: JournalBatch[]): Promise<void> {
    return this.#request({ op: "append", batches });
  }

  /** Appends sent to the worker so far: one transaction each, however many calls they carried. */
  get appendWrites(): number {
    return this.#appendWrites;
  }

  snapshot(mapId: string, seq: number, featuresJson: string, keep: number): Promise<void> {
    return this.#request({ op: "snapshot", mapId, seq, featuresJson, keep });
  }

  createMap(record: MapRecord): Promise<void> {
    return this.#request({ op: "createMap", record });
  }

  addVersion(version: NewVersion): Promise<void> {
    return this.#request({ op: "addVersion", version });
  }

  async pruneHistory(cutoff: number, budget: number): Promise<number> {
    return await this.#counted({ op: "pruneHistory", cutoff, budget });
  }

  close(): Promise<void> {
    this.#closed ??=
      (this.#failed ? Promise.resolve() : this.#enqueue({ op: "close" }).then(() => {}))
        .finally(() => this.#worker.terminate());
    return this.#closed;
  }

  async #request(message: DistributiveOmit<JournalRequest, "id">): Promise<void> {
    await this.#counted(message);
  }

  #counted(message: DistributiveOmit<JournalRequest, "id">): Promise<number> {
    if (this.#closed) return Promise.reject(new Error("journal is closed"));
    // Nothing posted to a dead worker would ever be answered.
    if (this.#failed) return Promise.reject(this.#failed);
    return this.#enqueue(message);
  }

  /** Queues `message` behind the others; an append right behind a waiting append joins it. */
  #enqueue(message: DistributiveOmit<JournalRequest, "id">): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter = { resolve, reject };
      const last = this.#unposted.at(-1);
      if (message.op === "append" && last?.message.op === "append") {
        last.message.batches.push(...message.batches);
        last.waiters.push(waiter);
        return;
      }
      this.#unposted.push({
        message: message.op === "append"
          ? { op: "append", batches: [...message.batches] }
          : message,
        waiters: [waiter],
      });
      this.#postWaiting();
    });
  }

  /** Posts what waits, up to and including the next append (which the worker must finish first). */
  #postWaiting(): void {
    // A dead worker answers nothing: what waits is failed by the error handler instead.
    if (this.#failed) return;
    while (!this.#appendInFlight && this.#unposted.length > 0) {
      const { message, waiters } = this.#unposted.shift()!;
      const append = message.op === "append";
      if (append) {
        this.#appendInFlight = true;
        this.#appendWrites++;
      }
      const settled = () => {
        if (append) this.#appendInFlight = false;
        this.#postWaiting();
      };
      const id = this.#nextId++;
      this.#pending.set(id, {
        resolve: (count) => {
          for (const w of waiters) w.resolve(count);
          settled();
        },
        reject: (err) => {
          for (const w of waiters) w.reject(err);
          settled();
        },
      });
      this.#worker.postMessage({ ...message, id });
    }
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
