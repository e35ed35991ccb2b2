/** The page's copy of the map's comments and settings, kept from `welcome`, `comment` and `settings` frames. */
import type { Comment, MapSettings, ServerMessage } from "../../relay/protocol.ts";

/** A thread: its root and its replies, oldest first. */
export interface Thread {
  /** The root comment (its `anchor` and `resolved`). */
  root: Comment;
  /** The replies, oldest first. */
  replies: Comment[];
}

/** What a message changed, for the views. */
export interface CommentsChange {
  /** Threads added or changed (root ids); every thread after a welcome. */
  threads: Set<string>;
  /** The settings changed. */
  settings: boolean;
  /** A request of mine was answered: the comment it made, or the refusal. */
  answered?:
    | { ref: string; ok: true; comment: Comment }
    | { ref: string; ok: false; message: string };
}

/**
 * The comments as the relay last told them: a `welcome` replaces them all (`comments`) or, after a
 * reconnect it could catch up, brings what changed (`commentsChanged`); a `comment` frame adds,
 * replaces or (deleted) removes one, a deleted root with its replies; a `settings` frame the
 * settings.
 *
 * @example
 * ```ts
 * import { CommentsState } from "./comments_state.ts";
 * const state = new CommentsState();
 * state.receive({ type: "settings", viewersMayComment: true });
 * state.settings.viewersMayComment; // true
 * ```
 */
export class CommentsState {
  #comments = new Map<string, Comment>();
  #settings: MapSettings = { viewersMayComment: false };
  #role: "editor" | "viewer" = "viewer";
  #known = false;
  /** This browser's public author id (`welcome.you.author`), when the relay gave one. */
  #me: string | undefined;
  #at: string | undefined;

  /**
   * Where this copy stands (`commentsAt` of the last welcome or comment frame): said in the next
   * `hello`, it makes the relay send only what changed since.
   */
  get at(): string | undefined {
    return this.#at;
  }

  /** The map's settings. */
  get settings(): Readonly<MapSettings> {
    return this.#settings;
  }

  /** Did the relay send comments (a relay before comments sends none, and the UI stays off)? */
  get known(): boolean {
    return this.#known;
  }

  /** May this page write comments: editors always, viewers when the owner allows it. */
  get mayComment(): boolean {
    return this.#known && (this.#role === "editor" || this.#settings.viewersMayComment);
  }

  /** May this page change the text of `c`: only the browser that wrote it. */
  mayEdit(c: Comment): boolean {
    return this.mayComment && c.author !== undefined && c.author === this.#me;
  }

  /** May this page delete `c`: the browser that wrote it, and editors any comment. */
  mayDelete(c: Comment): boolean {
    return this.mayComment && (this.#role === "editor" || this.mayEdit(c));
  }

  /** Takes one message from the relay; `null` when it changed nothing about comments. */
  receive(m: ServerMessage): CommentsChange | null {
    switch (m.type) {
      case "welcome": {
        this.#role = m.you.role;
        this.#me = m.you.author;
        if (m.commentsChanged && this.#known) {
          // A catch-up: only what changed since this copy's `at`, in order.
          for (const c of m.commentsChanged) this.#apply(c);
        } else if (m.comments) {
          this.#comments = new Map(m.comments.flatMap((c) => c.deleted ? [] : [[c.id, c]]));
        } else {
          // Nothing this copy can use: the next hello asks for the whole list.
          this.#at = undefined;
          return null;
        }
        this.#known = true;
        this.#at = m.commentsAt;
        if (m.settings) this.#settings = { ...m.settings };
        return { threads: new Set(this.#threadIds()), settings: true };
      }
      case "comment": {
        this.#apply(m.comment);
        this.#at = m.commentsAt;
        const change: CommentsChange = { threads: new Set([m.comment.thread]), settings: false };
        if (m.ref !== undefined) change.answered = { ref: m.ref, ok: true, comment: m.comment };
        return change;
      }
      case "comment_refused":
        return {
          threads: new Set(),
          settings: false,
          answered: { ref: m.ref, ok: false, message: m.message },
        };
      case "settings":
        this.#settings = { viewersMayComment: m.viewersMayComment };
        return { threads: new Set(), settings: true };
      default:
        return null;
    }
  }

  /** Takes one comment as it now is: added or replaced, or (deleted) removed, a root with its thread. */
  #apply(c: Comment): void {
    if (!c.deleted) this.#comments.set(c.id, c);
    else if (c.thread !== c.id) this.#comments.delete(c.id);
    else {
      for (const other of [...this.#comments.values()]) {
        if (other.thread === c.id) this.#comments.delete(other.id);
      }
    }
  }

  /** The thread whose root is `id`, or undefined. */
  thread(id: string): Thread | undefined {
    const root = this.#comments.get(id);
    if (!root || root.thread !== root.id) return undefined;
    const replies = [...this.#comments.values()].filter((c) => c.thread === id && c.id !== id);
    return { root, replies };
  }

  /** How many replies each thread has, by root id, in one pass over the comments. */
  replyCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.#comments.values()) {
      if (c.thread !== c.id) counts.set(c.thread, (counts.get(c.thread) ?? 0) + 1);
    }
    return counts;
  }

  /** The id of the thread comment `id` is in (its own for a root), if it is known. */
  threadOf(id: string): string | undefined {
    return this.#comments.get(id)?.thread;
  }

  /** Every root, oldest first. */
  roots(): Comment[] {
    return [...this.#comments.values()].filter((c) => c.thread === c.id);
  }

  #threadIds(): string[] {
    return this.roots().map((c) => c.id);
  }
}

/**
 * Says how long ago `then` was, as people say it: "just now", "5 min ago", "3 h ago",
 * "yesterday", "4 days ago", then the date.
 *
 * @example
 * ```ts
 * import { relativeTime } from "./comments_state.ts";
 * relativeTime(0, 90_000); // "1 min ago"
 * ```
 */
export function relativeTime(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 45) return "just now";
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const hours = Math.round(min / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  return new Date(then).toISOString().slice(0, 10);
}
