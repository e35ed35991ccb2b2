/** A map's comment threads and settings in memory: ordered, checked, waiting to be made durable. */
import type { Comment, CommentAnchor, CommentRefusal, MapSettings } from "./protocol.ts";

/** One comment as stored: its place in the map's order, its id and its record as JSON. */
export interface CommentRow {
  /** Its position in the map's comment order, from 1. */
  n: number;
  /** The comment's id. */
  id: string;
  /** The {@link Comment} as JSON. */
  record: string;
}

/** A map's comments and settings as the store gives them back. */
export interface StoredComments {
  /** Every comment row, oldest first. */
  rows: CommentRow[];
  /** The map's settings as JSON, or `null` when never set. */
  settings: string | null;
}

/** What a commit takes from a map's comments: changed rows and settings, when there are any. */
export interface UnsavedComments {
  /** Comments added or changed since the last commit. */
  comments?: CommentRow[];
  /** The settings as JSON, when they changed. */
  settings?: string;
}

/** A comment request's outcome: the comment as it now is, or why not. */
export type CommentResult =
  | { ok: true; comment: Comment }
  | { ok: false; code: CommentRefusal; message: string };

/** Who writes a comment and when (the relay's clock, ms). */
export interface CommentAuthor {
  /** The author's name. */
  name: string;
  /** The author's colour. */
  color: string;
  /** When the relay accepted it. */
  at: number;
}

/** The settings of a map nobody has changed: viewers read comments but may not write. */
export const DEFAULT_SETTINGS: Readonly<MapSettings> = Object.freeze({ viewersMayComment: false });

interface Entry {
  n: number;
  comment: Comment;
}

/**
 * The comments of one map. It never touches sockets or the store: the room broadcasts what it
 * returns, and the hub's commit takes {@link MapComments.takeUnsaved} before anything is sent.
 *
 * @example
 * ```ts
 * import { MapComments } from "./comments.ts";
 * const comments = new MapComments({ maxComments: 100 });
 * const result = comments.add("Check this", { at: [2.35, 48.85] }, {
 *   name: "Ann",
 *   color: "#e11d48",
 *   at: 0,
 * });
 * ```
 */
export class MapComments {
  #entries = new Map<string, Entry>();
  #next = 1;
  #unsaved = new Map<string, CommentRow>();
  #settings: MapSettings = { ...DEFAULT_SETTINGS };
  #settingsUnsaved = false;
  #maxComments: number;
  #json: string | null = null;

  /** The comments as stored (none for a new map); at most `maxComments` per map. */
  constructor(options: { maxComments: number; stored?: StoredComments }) {
    if (!(Number.isSafeInteger(options?.maxComments) && options.maxComments >= 0)) {
      throw new RangeError(
        `Cannot create MapComments as 'maxComments' must be an integer >= 0: received ${options?.maxComments}`,
      );
    }
    this.#maxComments = options.maxComments;
    for (const row of options.stored?.rows ?? []) {
      this.#entries.set(row.id, { n: row.n, comment: JSON.parse(row.record) as Comment });
      this.#next = Math.max(this.#next, row.n + 1);
    }
    const settings = options.stored?.settings;
    if (settings) this.#settings = { ...DEFAULT_SETTINGS, ...JSON.parse(settings) as MapSettings };
  }

  /** The map's settings. */
  get settings(): Readonly<MapSettings> {
    return this.#settings;
  }

  /** Comments on the map, replies included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Changes the settings; false when they were already so (nothing to store or tell). */
  setSettings(settings: MapSettings): boolean {
    if (settings.viewersMayComment === this.#settings.viewersMayComment) return false;
    this.#settings = { ...this.#settings, ...settings };
    this.#settingsUnsaved = true;
    return true;
  }

  /** Starts a thread pinned to `anchor`; the caller has checked that an anchoring feature exists. */
  add(text: string, anchor: CommentAnchor, author: CommentAuthor): CommentResult {
    const full = this.#full();
    if (full) return full;
    const n = this.#next++;
    const id = `c${n}`;
    return this.#put(n, {
      id,
      thread: id,
      text,
      name: author.name,
      color: author.color,
      created: author.at,
      resolved: false,
      anchor: "fid" in anchor ? { fid: anchor.fid } : { at: [anchor.at[0], anchor.at[1]] },
    });
  }

  /** Adds a reply to the thread whose root is `thread`. */
  reply(thread: string, text: string, author: CommentAuthor): CommentResult {
    const root = this.#root(thread);
    if (!root.ok) return root;
    const full = this.#full();
    if (full) return full;
    const n = this.#next++;
    return this.#put(n, {
      // The map's own order is unique and never reused: ids need no randomness.
      id: `c${n}`,
      thread,
      text,
      name: author.name,
      color: author.color,
      created: author.at,
    });
  }

  /** Resolves (`true`) or reopens (`false`) the thread whose root is `thread`. */
  resolve(thread: string, resolved: boolean): CommentResult {
    const root = this.#root(thread);
    if (!root.ok) return root;
    return this.#put(this.#entries.get(thread)!.n, { ...root.comment, resolved });
  }

  /** Every comment, oldest first (a resolved root keeps its place). */
  list(): Comment[] {
    return [...this.#entries.values()].map((e) => e.comment);
  }

  /** {@link list} as JSON, cached until the next change. */
  json(): string {
    this.#json ??= JSON.stringify(this.list());
    return this.#json;
  }

  /** Is anything waiting to be stored? */
  get hasUnsaved(): boolean {
    return this.#unsaved.size > 0 || this.#settingsUnsaved;
  }

  /** What changed since the last call, for the commit; empties the list. */
  takeUnsaved(): UnsavedComments {
    const taken: UnsavedComments = {};
    if (this.#unsaved.size > 0) taken.comments = [...this.#unsaved.values()];
    if (this.#settingsUnsaved) taken.settings = JSON.stringify(this.#settings);
    this.#unsaved.clear();
    this.#settingsUnsaved = false;
    return taken;
  }

  #root(thread: string): { ok: true; comment: Comment } | Extract<CommentResult, { ok: false }> {
    const comment = this.#entries.get(thread)?.comment;
    if (!comment || comment.thread !== comment.id) {
      return {
        ok: false,
        code: "unknown_thread",
        message: `there is no comment thread ${JSON.stringify(thread.slice(0, 64))} on this map`,
      };
    }
    return { ok: true, comment };
  }

  #full(): Extract<CommentResult, { ok: false }> | null {
    if (this.#entries.size < this.#maxComments) return null;
    return {
      ok: false,
      code: "too_many_comments",
      message: `this map already holds ${this.#entries.size} comments, the most allowed`,
    };
  }

  #put(n: number, comment: Comment): CommentResult {
    this.#entries.set(comment.id, { n, comment });
    this.#unsaved.set(comment.id, { n, id: comment.id, record: JSON.stringify(comment) });
    this.#json = null;
    return { ok: true, comment };
  }
}
