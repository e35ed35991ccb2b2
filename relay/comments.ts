/** A map's comment threads and settings in memory: ordered, checked, waiting to be made durable. */
import { base64url, cryptoRandomBytes, hashKey } from "./keys.ts";
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
  | {
    ok: true;
    comment: Comment;
    /** Nothing changed (an edit to the same text): only the asker is answered, nothing stored. */
    unchanged?: true;
  }
  | { ok: false; code: CommentRefusal; message: string };

/** Who writes a comment and when (the relay's clock, ms). */
export interface CommentAuthor {
  /** The author's name. */
  name: string;
  /** The author's colour. */
  color: string;
  /** When the relay accepted it. */
  at: number;
  /** The public id of the author's browser ({@link authorIdOf}), when it sent a key. */
  author?: string;
}

/** Who asks to change a comment: the browser's public id, and whether it holds the edit key. */
export interface CommentActor {
  /** The public id of the asking browser ({@link authorIdOf}), when it sent a key. */
  author?: string;
  /** Holds the edit key: may delete anyone's comment (the owner moderates). */
  editor: boolean;
  /** When the relay accepted the change. */
  at: number;
}

/**
 * The public id of a browser's author key on one map: what its comments there carry and
 * `welcome.you.author` says. Nobody can work back to the key from it (a SHA-256, 128 bits of it
 * in base64url), and the same browser has another id on every map, so its comments cannot be
 * linked across maps.
 *
 * @example
 * ```ts
 * import { authorIdOf } from "./comments.ts";
 * authorIdOf("gKR-RWWd2WN6oQ0O", "k3j9x2k3j9x2k3j9").length; // 22
 * ```
 */
export function authorIdOf(mapId: string, key: string): string {
  return base64url(hashKey(`duplexmap comment author\n${mapId}\n${key}`).subarray(0, 16));
}

/** The settings of a map nobody has changed: viewers read comments but may not write. */
export const DEFAULT_SETTINGS: Readonly<MapSettings> = Object.freeze({ viewersMayComment: false });

interface Entry {
  n: number;
  comment: Comment;
  /** The map's comment version that last changed it (see {@link MapComments.at}). */
  v: number;
}

/** Deletions remembered for catch-up ({@link MapComments.changesSince}); older ones, a full list. */
const KEPT_DELETIONS = 1000;

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
  #epoch: string;
  /** Changes since this copy was loaded. */
  #version = 0;
  /** The latest deletions, oldest first, as their frames' records, places and versions. */
  #deletions: Entry[] = [];
  /** Deletions before this version are forgotten: a client from before it needs the full list. */
  #forgotten = 0;
  /** Comments not deleted (the ones {@link MapComments.size} counts against the limit). */
  #live = 0;
  #next = 1;
  #unsaved = new Map<string, CommentRow>();
  #settings: MapSettings = { ...DEFAULT_SETTINGS };
  #settingsUnsaved = false;
  #maxComments: number;
  #json: string | null = null;

  /** The comments as stored (none for a new map); at most `maxComments` per map. */
  constructor(
    options: {
      maxComments: number;
      stored?: StoredComments;
      /** Names this copy's versions (random by default): a reload starts another count. */
      epoch?: string;
    },
  ) {
    if (!(Number.isSafeInteger(options?.maxComments) && options.maxComments >= 0)) {
      throw new RangeError(
        `Cannot create MapComments as 'maxComments' must be an integer >= 0: received ${options?.maxComments}`,
      );
    }
    this.#maxComments = options.maxComments;
    this.#epoch = options.epoch ?? base64url(cryptoRandomBytes(9));
    for (const row of options.stored?.rows ?? []) {
      this.#next = Math.max(this.#next, row.n + 1);
      const comment = JSON.parse(row.record) as Comment;
      // A deleted comment's row keeps its id from being used again; memory needs only `#next`.
      if (comment.deleted) continue;
      this.#entries.set(row.id, { n: row.n, comment, v: 0 });
      this.#live++;
    }
    const settings = options.stored?.settings;
    if (settings) this.#settings = { ...DEFAULT_SETTINGS, ...JSON.parse(settings) as MapSettings };
  }

  /** The map's settings. */
  get settings(): Readonly<MapSettings> {
    return this.#settings;
  }

  /** Comments on the map, replies included (not the deleted ones). */
  get size(): number {
    return this.#live;
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
      ...(author.author === undefined ? {} : { author: author.author }),
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
      ...(author.author === undefined ? {} : { author: author.author }),
    });
  }

  /** Resolves (`true`) or reopens (`false`) the thread whose root is `thread`. */
  resolve(thread: string, resolved: boolean): CommentResult {
    const root = this.#root(thread);
    if (!root.ok) return root;
    return this.#put(this.#entries.get(thread)!.n, { ...root.comment, resolved });
  }

  /** Changes the text of comment `id`; only the browser that wrote it may. */
  edit(id: string, text: string, actor: CommentActor): CommentResult {
    const found = this.#comment(id);
    if (!found.ok) return found;
    const comment = found.comment;
    if (comment.author === undefined || comment.author !== actor.author) {
      return {
        ok: false,
        code: "forbidden",
        message: "only the browser that wrote a comment can edit it",
      };
    }
    if (comment.text === text) return { ok: true, comment, unchanged: true };
    return this.#put(this.#entries.get(id)!.n, { ...comment, text, edited: actor.at });
  }

  /**
   * Deletes comment `id`: its author's browser may, and anyone with the edit key. A root takes its
   * replies with it. The record stays as a tombstone (its order and who wrote it, not its text),
   * so the store and every copy agree that it is gone.
   */
  delete(id: string, actor: CommentActor): CommentResult {
    const found = this.#comment(id);
    if (!found.ok) return found;
    const comment = found.comment;
    const own = comment.author !== undefined && comment.author === actor.author;
    if (!own && !actor.editor) {
      return {
        ok: false,
        code: "forbidden",
        message: "only the browser that wrote a comment, or an editor, can delete it",
      };
    }
    if (comment.thread === comment.id) {
      for (const entry of this.#entries.values()) {
        const reply = entry.comment;
        if (reply.thread === id && reply.id !== id && !reply.deleted) {
          this.#put(entry.n, tombstone(reply));
        }
      }
    }
    return this.#put(this.#entries.get(id)!.n, tombstone(comment));
  }

  /**
   * Where this copy of the comments stands, for `welcome.commentsAt` and every `comment` frame: a
   * client that saw everything up to it says it again in `hello` and gets only what changed since.
   */
  get at(): string {
    return `${this.#epoch}.${this.#version}`;
  }

  /**
   * The comments changed since `at` (as records, deleted ones as tombstones, oldest first like the
   * full list: a comment the client never saw is newer than every one it did), or `null` when `at`
   * is not of this copy or too old: then the client needs all.
   */
  changesSince(at: string): Comment[] | null {
    const dot = at.lastIndexOf(".");
    const since = Number(at.slice(dot + 1));
    if (
      at.slice(0, dot) !== this.#epoch || !Number.isSafeInteger(since) || since < this.#forgotten ||
      since > this.#version
    ) return null;
    const changed = this.#deletions.filter((d) => d.v > since);
    for (const e of this.#entries.values()) {
      if (e.v > since && !e.comment.deleted) changed.push(e);
    }
    return changed.sort((a, b) => a.n - b.n).map((e) => e.comment);
  }

  /** Every comment, oldest first (a resolved root keeps its place; deleted ones are left out). */
  list(): Comment[] {
    return [...this.#entries.values()].flatMap((e) => e.comment.deleted ? [] : [e.comment]);
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
    // Handed to the store, a deleted comment's row is all that is left of it: adding and
    // deleting again and again must not fill memory.
    for (const id of this.#unsaved.keys()) {
      if (this.#entries.get(id)?.comment.deleted) this.#entries.delete(id);
    }
    if (this.#settingsUnsaved) taken.settings = JSON.stringify(this.#settings);
    this.#unsaved.clear();
    this.#settingsUnsaved = false;
    return taken;
  }

  #comment(id: string): { ok: true; comment: Comment } | Extract<CommentResult, { ok: false }> {
    const comment = this.#entries.get(id)?.comment;
    if (!comment || comment.deleted) {
      return {
        ok: false,
        code: "unknown_comment",
        message: `there is no comment ${JSON.stringify(id.slice(0, 64))} on this map`,
      };
    }
    return { ok: true, comment };
  }

  #root(thread: string): { ok: true; comment: Comment } | Extract<CommentResult, { ok: false }> {
    const comment = this.#entries.get(thread)?.comment;
    if (!comment || comment.deleted || comment.thread !== comment.id) {
      return {
        ok: false,
        code: "unknown_thread",
        message: `there is no comment thread ${JSON.stringify(thread.slice(0, 64))} on this map`,
      };
    }
    return { ok: true, comment };
  }

  #full(): Extract<CommentResult, { ok: false }> | null {
    if (this.#live < this.#maxComments) return null;
    return {
      ok: false,
      code: "too_many_comments",
      message: `this map already holds ${this.#live} comments, the most allowed`,
    };
  }

  #put(n: number, comment: Comment): CommentResult {
    const before = this.#entries.get(comment.id)?.comment;
    this.#live += (comment.deleted ? 0 : 1) - (before === undefined || before.deleted ? 0 : 1);
    const v = ++this.#version;
    this.#entries.set(comment.id, { n, comment, v });
    if (comment.deleted) {
      this.#deletions.push({ n, comment, v });
      if (this.#deletions.length > KEPT_DELETIONS) this.#forgotten = this.#deletions.shift()!.v;
    }
    this.#unsaved.set(comment.id, { n, id: comment.id, record: JSON.stringify(comment) });
    this.#json = null;
    return { ok: true, comment };
  }
}

/** What is kept of a deleted comment: its place, thread, author and time; its text is gone. */
function tombstone(comment: Comment): Comment {
  const { id, thread, name, color, created, author } = comment;
  return {
    id,
    thread,
    text: "",
    name,
    color,
    created,
    ...(author === undefined ? {} : { author }),
    deleted: true,
  };
}
