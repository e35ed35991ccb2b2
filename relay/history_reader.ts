/**
 * Reading history: rebuilding a past state (`features?at=SEQ`, tens of milliseconds of parsing and
 * replaying) and reading pages of edits (each frame parsed, an import's can be megabytes). With a
 * database file both run on a worker thread with its own read connection, so the event loop that
 * relays edits and presence never waits for them.
 */
import { featuresAt } from "./history_state.ts";
import { readPage } from "./history_pages.ts";
import type { PageQuery, PageRead } from "./history_pages.ts";
import { attempt } from "./journal.ts";
import { Store } from "./store.ts";

/** Reads a map's history. */
export interface HistoryReader {
  /** The features right after edit `at` (a JSON array without `meta`), or `null` when pruned. */
  featuresAt(mapId: string, at: number): Promise<string | null>;
  /** A page of edits, newest first. */
  page(mapId: string, query: PageQuery): Promise<PageRead>;
  /** Stops; reads still pending are refused. */
  close(): Promise<void>;
}

/** What reading history on the calling thread needs of the SQLite {@link Store}. */
export type HistorySource = Pick<Store, "read" | "history" | "latestSnapshot">;

/** The state at `at` from `store`: the nearest snapshot and the journal replayed to it. */
export function readFeaturesAt(store: HistorySource, mapId: string, at: number): string | null {
  return store.read(() => featuresAt(store.history, mapId, at, store.latestSnapshot(mapId)));
}

/** A {@link HistoryReader} on the calling thread (tests, `--memory`). */
export class InlineHistoryReader implements HistoryReader {
  #store: HistorySource;
  /** Reads `store` on the calling thread. */
  constructor(store: HistorySource) {
    this.#store = store;
  }
  featuresAt(mapId: string, at: number): Promise<string | null> {
    return attempt(() => readFeaturesAt(this.#store, mapId, at));
  }
  page(mapId: string, query: PageQuery): Promise<PageRead> {
    return attempt(() => this.#store.read(() => readPage(this.#store, mapId, query)));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A request to the reader's worker; each names the file, so the worker needs no start-up message. */
export type ReaderRequest =
  | { id: number; path: string; op: "at"; mapId: string; at: number }
  | { id: number; path: string; op: "page"; mapId: string; query: PageQuery }
  | { id: number; path: string; op: "close" };

/** The worker's answer. */
export interface ReaderReply {
  /** The request answered. */
  id: number;
  /** For `at`: the features, or `null` when the history was pruned. */
  json?: string | null;
  /** For `page`: the page. */
  page?: PageRead;
  /** Why it failed. */
  error?: string;
}

/** Makes the worker's request handler; it opens its own connection to the file at the first read. */
export function createReaderHandler(): (request: ReaderRequest) => ReaderReply {
  let store: Store | null = null;
  return (request) => {
    try {
      if (request.op === "close") {
        store?.close();
        store = null;
        return { id: request.id };
      }
      store ??= new Store({ path: request.path });
      return request.op === "at"
        ? { id: request.id, json: readFeaturesAt(store, request.mapId, request.at) }
        : {
          id: request.id,
          page: store.read(() => readPage(store!, request.mapId, request.query)),
        };
    } catch (err) {
      return { id: request.id, error: err instanceof Error ? err.message : String(err) };
    }
  };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A {@link HistoryReader} on one long-lived worker thread reading the database file at `path`. */
export class WorkerHistoryReader implements HistoryReader {
  #path: string;
  #worker: Worker | null = null;
  #pending = new Map<number, PromiseWithResolvers<ReaderReply>>();
  #nextId = 1;
  #inline: { reader: InlineHistoryReader; store: Store } | null = null;

  /** Reads `path` on a worker started at the first read. */
  constructor(options: { path: string }) {
    this.#path = options.path;
  }

  async featuresAt(mapId: string, at: number): Promise<string | null> {
    if (this.#inline) return await this.#inline.reader.featuresAt(mapId, at);
    return (await this.#call({ op: "at", mapId, at })).json ?? null;
  }

  async page(mapId: string, query: PageQuery): Promise<PageRead> {
    if (this.#inline) return await this.#inline.reader.page(mapId, query);
    const { page } = await this.#call({ op: "page", mapId, query });
    if (!page) throw new Error("history reader answered without a page");
    return page;
  }

  #call(message: DistributiveOmit<ReaderRequest, "id" | "path">): Promise<ReaderReply> {
    const id = this.#nextId++;
    const pending = Promise.withResolvers<ReaderReply>();
    this.#pending.set(id, pending);
    this.#start().postMessage({ ...message, id, path: this.#path } as ReaderRequest);
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
      else pending?.resolve(data);
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
      await this.#call({ op: "close" }).catch(() => {});
      worker.terminate();
    }
    this.#worker = null;
    for (const pending of this.#pending.values()) pending.reject(new Error("closed"));
    this.#pending.clear();
    this.#inline?.store.close();
    this.#inline = null;
  }
}
