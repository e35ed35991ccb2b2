/**
 * Rebuilding a past state of a map (`features?at=SEQ`): tens of milliseconds of parsing and
 * replaying, so with a database file it runs on a worker thread with its own read connection,
 * and the event loop that relays edits and presence never waits for it.
 */
import { featuresAt } from "./history_state.ts";
import { Store } from "./store.ts";

/** Rebuilds a map's features right after an edit. */
export interface HistoryReader {
  /** The features right after edit `at` (a JSON array without `meta`), or `null` when pruned. */
  featuresAt(mapId: string, at: number): Promise<string | null>;
  /** Stops; pending reads still answer. */
  close(): Promise<void>;
}

/** The state at `at` from `store`: the nearest snapshot and the journal replayed to it. */
export function readFeaturesAt(store: Store, mapId: string, at: number): string | null {
  return featuresAt(store.history, mapId, at, store.latestSnapshot(mapId));
}

/** A {@link HistoryReader} on the calling thread (tests, `--memory`). */
export class InlineHistoryReader implements HistoryReader {
  #store: Store;
  /** Reads `store` on the calling thread. */
  constructor(store: Store) {
    this.#store = store;
  }
  featuresAt(mapId: string, at: number): Promise<string | null> {
    try {
      return Promise.resolve(readFeaturesAt(this.#store, mapId, at));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A request to the reader's worker. */
export interface ReaderRequest {
  /** Matches the answer. */
  id: number;
  /** The database file (each request names it, so the worker needs no start-up message). */
  path: string;
  /** The map. */
  mapId: string;
  /** The seq; `-1` closes the worker's connection (the answer says it is closed). */
  at: number;
}

/** The worker's answer. */
export interface ReaderReply {
  /** The request answered. */
  id: number;
  /** The features, or `null` when the history was pruned. */
  json?: string | null;
  /** Why it failed. */
  error?: string;
}

/** Makes the worker's request handler; it opens its own connection to the file at the first read. */
export function createReaderHandler(): (request: ReaderRequest) => ReaderReply {
  let store: Store | null = null;
  return (request) => {
    try {
      if (request.at < 0) {
        store?.close();
        store = null;
        return { id: request.id, json: null };
      }
      store ??= new Store({ path: request.path });
      return { id: request.id, json: readFeaturesAt(store, request.mapId, request.at) };
    } catch (err) {
      return { id: request.id, error: err instanceof Error ? err.message : String(err) };
    }
  };
}

/** A {@link HistoryReader} on one long-lived worker thread reading the database file at `path`. */
export class WorkerHistoryReader implements HistoryReader {
  #path: string;
  #worker: Worker | null = null;
  #pending = new Map<number, PromiseWithResolvers<string | null>>();
  #nextId = 1;
  #inline: { reader: InlineHistoryReader; store: Store } | null = null;

  /** Reads `path` on a worker started at the first read. */
  constructor(options: { path: string }) {
    this.#path = options.path;
  }

  featuresAt(mapId: string, at: number): Promise<string | null> {
    if (this.#inline) return this.#inline.reader.featuresAt(mapId, at);
    const id = this.#nextId++;
    const pending = Promise.withResolvers<string | null>();
    this.#pending.set(id, pending);
    this.#start().postMessage({ id, path: this.#path, mapId, at } satisfies ReaderRequest);
    return pending.promise;
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(new URL("./history_reader_worker.ts", import.meta.url).href, {
      type: "module",
    });
    worker.onmessage = ({ data }: MessageEvent<ReaderReply>) => {
      const pending = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (data.error !== undefined) pending?.reject(new Error(data.error));
      else pending?.resolve(data.json ?? null);
    };
    worker.onerror = (event) => {
      // A worker that cannot run (a binary built without it): read on this thread instead.
      event.preventDefault();
      console.error(JSON.stringify({ event: "history_reader_failed", error: event.message }));
      worker.terminate();
      this.#worker = null;
      const store = new Store({ path: this.#path });
      this.#inline = { reader: new InlineHistoryReader(store), store };
      for (const [id, pending] of this.#pending) {
        this.#pending.delete(id);
        pending.reject(new Error("history reader failed; try again"));
      }
    };
    this.#worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (worker) {
      // Its connection is closed first, so nothing holds the file open once this resolves.
      await this.featuresAt("", -1).catch(() => {});
      worker.terminate();
    }
    this.#worker = null;
    for (const pending of this.#pending.values()) pending.reject(new Error("closed"));
    this.#pending.clear();
    this.#inline?.store.close();
    this.#inline = null;
  }
}
