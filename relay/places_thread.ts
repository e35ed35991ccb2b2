/** The offline gazetteer on a thread of its own, so loading and indexing it never stalls the relay. */
import type { BBox, Place, PlaceIndex } from "./places.ts";

/** Answers place queries; {@link PlacesThread} off the relay's thread, {@link inProcessPlaces} on it. */
export interface PlaceLookup {
  /** Places whose name starts with `query` (see {@link PlaceIndex.search}). */
  search(query: string, limit: number): Promise<Place[]>;
  /** The most populous places inside `box` (see {@link PlaceIndex.within}). */
  within(box: BBox, limit: number): Promise<Place[]>;
}

/** One question about places. */
export type PlacesQuestion =
  | { kind: "search"; query: string; limit: number }
  | { kind: "within"; box: BBox; limit: number };

/** A question as sent to the worker, numbered so the answer finds it. */
export type PlacesRequest = PlacesQuestion & { id: number };

/** The worker's answer to the request with the same `id`. */
export type PlacesAnswer =
  | { id: number; ok: true; places: Place[] }
  | { id: number; ok: false; error: string };

/** Asks `places` one question (the worker's side). */
export function askPlaces(places: PlaceLookup, question: PlacesQuestion): Promise<Place[]> {
  return question.kind === "search"
    ? places.search(question.query, question.limit)
    : places.within(question.box, question.limit);
}

/**
 * Queries on the relay's own thread, the index loaded by `load` on the first one (once; a failed
 * load is tried again on the next query). For tests and small indexes: building the embedded
 * gazetteer takes seconds of CPU, which would stall every map's live traffic.
 */
export function inProcessPlaces(load: () => Promise<PlaceIndex>): PlaceLookup {
  let index: Promise<PlaceIndex> | null = null;
  const ready = (): Promise<PlaceIndex> => {
    index ??= load().catch((err) => {
      index = null;
      throw err;
    });
    return index;
  };
  return {
    search: async (query, limit) => (await ready()).search(query, limit),
    within: async (box, limit) => (await ready()).within(box, limit),
  };
}

/**
 * The embedded gazetteer on a worker thread, started by the first query and kept (the index lives
 * there: about 80 MiB). Parsing and indexing ~200 000 places took 1-6 s of CPU on this project's
 * 2-core machines; on the relay's thread that stalled edits, cursors and HAProxy's health checks
 * (which then answered 503). A worker that dies fails the queries in flight; the next query starts
 * a new one.
 *
 * @example
 * ```ts
 * import { PlacesThread } from "./places_thread.ts";
 * using places = new PlacesThread();
 * const [first] = await places.search("zur", 5);
 * ```
 */
export class PlacesThread implements PlaceLookup, Disposable {
  #url: string;
  #worker: Worker | null = null;
  #nextId = 0;
  #waiting = new Map<number, { resolve(places: Place[]): void; reject(err: Error): void }>();

  /** `url`: the worker module. @default relay/places_worker.ts */
  constructor(url: string = new URL("./places_worker.ts", import.meta.url).href) {
    this.#url = url;
  }

  /** {@inheritDoc PlaceLookup.search} */
  search(query: string, limit: number): Promise<Place[]> {
    return this.#ask({ kind: "search", query, limit });
  }

  /** {@inheritDoc PlaceLookup.within} */
  within(box: BBox, limit: number): Promise<Place[]> {
    return this.#ask({ kind: "within", box, limit });
  }

  /** Stops the worker; queries in flight fail. */
  close(): void {
    this.#stop(new Error("the gazetteer was closed"));
  }

  /** Same as {@link close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #ask(question: PlacesQuestion): Promise<Place[]> {
    const worker = this.#worker ??= this.#start();
    const id = ++this.#nextId;
    return new Promise<Place[]>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      const request: PlacesRequest = { ...question, id };
      worker.postMessage(request);
    });
  }

  #start(): Worker {
    const worker = new Worker(this.#url, { type: "module" });
    worker.onmessage = (event: MessageEvent<PlacesAnswer>) => {
      const answer = event.data;
      const waiting = this.#waiting.get(answer.id);
      if (!waiting) return;
      this.#waiting.delete(answer.id);
      if (answer.ok) waiting.resolve(answer.places);
      else waiting.reject(new Error(answer.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#stop(new Error(`the gazetteer's worker failed: ${event.message}`));
    };
    return worker;
  }

  #stop(reason: Error): void {
    this.#worker?.terminate();
    this.#worker = null;
    for (const waiting of this.#waiting.values()) waiting.reject(reason);
    this.#waiting.clear();
  }
}
