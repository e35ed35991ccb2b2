/** The relay's history endpoints as the page calls them: history pages, a version's features, named versions, comments. */
import * as v from "valibot";
import { type StoredFeature, StoredFeatureSchema } from "../../relay/protocol.ts";
import {
  type HistoryPage,
  HistoryPageSchema,
  type MapComment,
  MapCommentSchema,
  type NamedVersion,
  NamedVersionSchema,
} from "./history_model.ts";

/** Where a map's endpoints are, and how to fetch (injected for tests). */
export interface HistoryApiOptions {
  origin: string;
  mapId: string;
  key: string;
  fetch?: typeof fetch;
}

/** What a history page asks for: older than `before`, at most `limit`, only edits of `fid`. */
export interface HistoryQuery {
  before?: number;
  limit?: number;
  fid?: string;
}

const VersionsSchema = v.object({ versions: v.array(NamedVersionSchema) });
const CommentsSchema = v.object({ comments: v.array(MapCommentSchema) });
const CollectionSchema = v.object({ features: v.array(StoredFeatureSchema) });

/** An answer the relay refused, with the words of its problem+json `detail` when it sent one. */
export class HistoryApiError extends Error {
  /** The HTTP status. */
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "HistoryApiError";
    this.status = status;
  }
}

/**
 * Calls the history endpoints of one map (contract points 1 to 3 and 7). Each method resolves
 * with the checked answer or rejects with a {@link HistoryApiError} whose message a person can
 * read; `comments` resolves `null` when the relay has no comments endpoint (404).
 */
export class HistoryApi {
  #options: HistoryApiOptions;

  constructor(options: HistoryApiOptions) {
    this.#options = options;
  }

  /** One page of the history, newest first. */
  async page(query: HistoryQuery = {}): Promise<HistoryPage> {
    const params: Record<string, string> = {};
    if (query.before !== undefined) params.before = String(query.before);
    if (query.limit !== undefined) params.limit = String(query.limit);
    if (query.fid !== undefined) params.fid = query.fid;
    return v.parse(HistoryPageSchema, await this.#get("history", params));
  }

  /** The map's features as they were right after edit `seq`. */
  async featuresAt(seq: number): Promise<StoredFeature[]> {
    const body = await this.#get("features", { at: String(seq) });
    return v.parse(CollectionSchema, body).features;
  }

  /** The named versions, newest first. */
  async versions(): Promise<NamedVersion[]> {
    return v.parse(VersionsSchema, await this.#get("versions", {})).versions;
  }

  /** Names a version (editors only): the head unless `seq` is given. */
  async nameVersion(name: string, author: string, seq?: number): Promise<NamedVersion> {
    const body = await this.#call("versions", {}, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(seq === undefined ? { name, author } : { name, author, seq }),
    });
    return v.parse(NamedVersionSchema, body);
  }

  /** The comments, oldest first, or `null` from a relay without comments. */
  async comments(): Promise<MapComment[] | null> {
    try {
      return v.parse(CommentsSchema, await this.#get("comments", {})).comments;
    } catch (e) {
      if (e instanceof HistoryApiError && e.status === 404) return null;
      throw e;
    }
  }

  #get(path: string, params: Record<string, string>): Promise<unknown> {
    return this.#call(path, params, {});
  }

  async #call(path: string, params: Record<string, string>, init: RequestInit): Promise<unknown> {
    const o = this.#options;
    const query = new URLSearchParams({ key: o.key, ...params });
    const url = `${o.origin}/api/maps/${encodeURIComponent(o.mapId)}/${path}?${query}`;
    const res = await (o.fetch ?? fetch)(url, init);
    if (!res.ok) {
      const problem = await res.json().catch(() => null) as { detail?: unknown } | null;
      const detail = typeof problem?.detail === "string" ? problem.detail : res.statusText;
      throw new HistoryApiError(res.status, detail || `The relay answered ${res.status}.`);
    }
    return await res.json();
  }
}
