/** The contents of a comment popup: a thread (author, colour, time, replies, reply box, Resolve, Edit and Delete), or a new comment's box. */
import { h, toast } from "./dom.ts";
import type { Comment } from "../../relay/protocol.ts";
import { relativeTime, type Thread } from "./comments_state.ts";
import { MAX_COMMENT_CHARS } from "../../relay/protocol.ts";

/** What a thread popup does when its buttons are used. */
export interface ThreadActions {
  /** Sends a reply; resolves true when the relay took it (the box is then emptied). */
  reply(text: string): Promise<boolean>;
  /** Resolves or reopens the thread. */
  resolve(resolved: boolean): void;
  /** Changes the text of comment `id`; resolves true when the relay took it. */
  edit(id: string, text: string): Promise<boolean>;
  /** Deletes comment `id` (a root with its thread); resolves true when the relay took it. */
  remove(id: string): Promise<boolean>;
}

/** What this page may do in a thread (the page's {@link CommentsState}). */
export interface ThreadRights {
  /** May write comments at all. */
  readonly mayComment: boolean;
  /** May change this comment's text. */
  mayEdit(c: Comment): boolean;
  /** May delete this comment. */
  mayDelete(c: Comment): boolean;
}

/**
 * One thread's popup. The reply box, a comment being edited and a delete being confirmed are kept
 * across {@link ThreadPopup.render} calls, so a comment arriving from someone else while one types
 * does not lose the text.
 */
export class ThreadPopup {
  /** The popup's element. */
  readonly el = h("div", { class: "comment-thread" });
  #actions: ThreadActions;
  /** The comment whose text is being edited, and its box. */
  #editing: { id: string; box: HTMLTextAreaElement } | null = null;
  /** The comment whose delete waits for a second click. */
  #confirming: string | null = null;
  /** The comment whose edit or delete is on its way to the relay (its buttons wait). */
  #busy: string | null = null;
  #last: Parameters<ThreadPopup["render"]> | null = null;
  #box = h("textarea", {
    class: "comment-text",
    rows: "2",
    maxlength: String(MAX_COMMENT_CHARS),
    placeholder: "Reply…",
    "aria-label": "Reply",
  });
  #send = h("button", { type: "button", class: "primary comment-reply" }, "Reply");

  /** A popup whose buttons call `actions`. */
  constructor(actions: ThreadActions) {
    this.#actions = actions;
    // Edit, Delete and Cancel draw the thread anew, taking the clicked button out of the page; the
    // map would then take the click for its own and close the popup. No click here is the map's.
    this.el.addEventListener("click", (e) => e.stopPropagation());
    this.#send.addEventListener("click", () => void this.#reply());
    this.#box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void this.#reply();
    });
  }

  /** Shows `thread` as it is now, with what `rights` allow; `title` names its feature, if any. */
  render(thread: Thread, now: number, rights: ThreadRights, title: string | null): void {
    this.#last = [thread, now, rights, title];
    const { root, replies } = thread;
    const mayComment = rights.mayComment;
    const resolved = root.resolved === true;
    const all = [root, ...replies];
    // What is being edited or confirmed may have gone meanwhile (deleted), or out of reach.
    const editing = all.find((c) => c.id === this.#editing?.id);
    if (this.#editing && (!editing || !rights.mayEdit(editing))) {
      this.#editing = null;
      toast(
        editing
          ? "You may no longer edit this comment; your changes were not saved."
          : "The comment you were editing was deleted meanwhile.",
        "error",
      );
    }
    const confirming = all.find((c) => c.id === this.#confirming);
    if (!confirming || !rights.mayDelete(confirming)) this.#confirming = null;
    this.el.dataset.thread = root.id;
    this.el.classList.toggle("resolved", resolved);
    const head = h(
      "div",
      { class: "comment-thread-head" },
      h("span", { class: "comment-where" }, title ? `On '${title}'` : "Comment"),
      resolved ? h("span", { class: "comment-resolved-badge" }, "Resolved") : null,
    );
    const list = h(
      "ol",
      { class: "comment-list" },
      ...all.map((c) => this.#item(c, now, rights, c === root ? replies.length : -1)),
    );
    const parts: (Node | null)[] = [head, list];
    if (mayComment) {
      const resolve = h("button", {
        type: "button",
        class: "link comment-resolve",
        onclick: () => this.#actions.resolve(!resolved),
      }, resolved ? "Reopen" : "Resolve");
      parts.push(
        h("div", { class: "comment-reply-row" }, this.#box, h("div", {}, this.#send, resolve)),
      );
    } else {
      parts.push(h("p", { class: "small" }, "Only editors can comment on this map."));
    }
    this.el.replaceChildren(...parts.filter((p): p is Node => p !== null));
  }

  /** Renders again as last time (after a local change of what is being edited or confirmed). */
  #redraw(): void {
    if (!this.#last) return;
    // The edit box moves into the new drawing: it keeps the focus it had.
    const box = this.#editing?.box;
    const focused = box !== undefined && document.activeElement === box;
    this.render(...this.#last);
    if (focused && box.isConnected) box.focus();
  }

  /** One comment: its meta and text, or its edit box, or the question whether to delete it. */
  #item(c: Comment, now: number, rights: ThreadRights, replies: number): HTMLElement {
    const li = item(c, now);
    if (this.#editing?.id === c.id) {
      li.querySelector(".comment-body")!.replaceWith(this.#editor(c, this.#editing.box));
      return li;
    }
    if (this.#confirming === c.id) {
      li.append(this.#confirm(c, replies));
      return li;
    }
    const buttons: HTMLElement[] = [];
    if (rights.mayEdit(c)) {
      buttons.push(h("button", {
        type: "button",
        class: "link comment-edit",
        title: "Edit your comment",
        onclick: () => {
          const box = h("textarea", {
            class: "comment-text",
            rows: "3",
            maxlength: String(MAX_COMMENT_CHARS),
            "aria-label": "Edit the comment",
          });
          box.value = c.text;
          this.#editing = { id: c.id, box };
          this.#confirming = null;
          this.#redraw();
          box.focus();
        },
      }, "Edit"));
    }
    if (rights.mayDelete(c)) {
      buttons.push(h("button", {
        type: "button",
        class: "link comment-delete",
        title: replies >= 0 ? "Delete the thread" : "Delete the reply",
        onclick: () => {
          this.#confirming = c.id;
          this.#redraw();
          this.#focus(c.id, ".comment-delete-yes");
        },
      }, "Delete"));
    }
    if (buttons.length > 0) li.append(h("div", { class: "comment-actions" }, ...buttons));
    return li;
  }

  /** Comment `c`'s text in `box`, with Save and Cancel (Ctrl+Enter and Esc). */
  #editor(c: Comment, box: HTMLTextAreaElement): HTMLElement {
    const stop = () => {
      this.#editing = null;
      this.#redraw();
      this.#focus(c.id, ".comment-edit");
    };
    const save = async () => {
      const text = box.value.trim();
      // One request at a time: a double Ctrl+Enter, or a Save drawn again meanwhile, sends once.
      if (!text || this.#busy !== null) return;
      if (text === c.text) return stop();
      const ok = await this.#request(c.id, () => this.#actions.edit(c.id, text));
      if (ok && this.#editing?.box === box) stop();
      else this.#redraw();
    };
    box.onkeydown = (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void save();
      if (e.key === "Escape") {
        e.stopPropagation();
        stop();
      }
    };
    return h(
      "div",
      { class: "comment-editing" },
      box,
      h(
        "div",
        { class: "comment-buttons" },
        h("button", {
          type: "button",
          class: "primary comment-save",
          disabled: this.#busy !== null,
          onclick: () => void save(),
        }, "Save"),
        h("button", { type: "button", class: "link comment-cancel", onclick: stop }, "Cancel"),
      ),
    );
  }

  /** Asks whether to delete comment `c` (a root: with its `replies`; a reply: -1). */
  #confirm(c: Comment, replies: number): HTMLElement {
    const what = replies > 0
      ? `Delete this thread and its ${replies} ${replies === 1 ? "reply" : "replies"}?`
      : replies === 0
      ? "Delete this thread?"
      : "Delete this reply?";
    const cancel = () => {
      this.#confirming = null;
      this.#redraw();
      this.#focus(c.id, ".comment-delete");
    };
    const remove = async () => {
      if (this.#busy !== null) return;
      if (await this.#request(c.id, () => this.#actions.remove(c.id))) this.#confirming = null;
      this.#redraw();
    };
    const group = h(
      "div",
      { class: "comment-confirm", role: "group", "aria-label": what },
      h("span", {}, what),
      h("button", {
        type: "button",
        class: "link danger comment-delete-yes",
        disabled: this.#busy !== null,
        onclick: () => void remove(),
      }, "Delete"),
      h("button", { type: "button", class: "link comment-cancel", onclick: cancel }, "Cancel"),
    );
    group.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.stopPropagation();
      cancel();
    });
    return group;
  }

  /** Sends one edit or delete of comment `id`, its buttons waiting meanwhile: did the relay take it? */
  async #request(id: string, send: () => Promise<boolean>): Promise<boolean> {
    this.#busy = id;
    this.#redraw();
    try {
      return await send();
    } finally {
      this.#busy = null;
    }
  }

  /** Puts the keyboard focus on a button of comment `id` (the one the last click took away). */
  #focus(id: string, selector: string): void {
    this.el.querySelector<HTMLElement>(`[data-comment="${CSS.escape(id)}"] ${selector}`)?.focus();
  }

  async #reply(): Promise<void> {
    const text = this.#box.value.trim();
    if (!text) return;
    this.#send.disabled = true;
    try {
      if (await this.#actions.reply(text)) this.#box.value = "";
    } finally {
      this.#send.disabled = false;
    }
  }
}

/**
 * One comment in a thread: colour dot, name, relative time (the exact time on hover), "edited" if
 * it was (when, on hover), text.
 */
function item(c: Comment, now: number): HTMLElement {
  const dot = h("span", { class: "comment-dot" });
  dot.style.background = c.color;
  const when = h("time", {
    datetime: new Date(c.created).toISOString(),
    title: new Date(c.created).toLocaleString(),
  }, relativeTime(c.created, now));
  const edited = c.edited === undefined ? null : h("span", {
    class: "comment-edited",
    title: `Edited ${new Date(c.edited).toLocaleString()}`,
  }, " · edited");
  return h(
    "li",
    { class: "comment", "data-comment": c.id },
    h("div", { class: "comment-meta" }, dot, h("b", {}, c.name), " · ", when, edited),
    h("div", { class: "comment-body" }, c.text),
  );
}

/**
 * The box for a new comment: its text and Post / Cancel. `post` resolves true when the relay took
 * it. `where` says what it is pinned to.
 */
export function newCommentBox(
  where: string,
  post: (text: string) => Promise<boolean>,
  cancel: () => void,
): HTMLElement {
  const box = h("textarea", {
    class: "comment-text",
    rows: "3",
    maxlength: String(MAX_COMMENT_CHARS),
    placeholder: "Add a comment…",
    "aria-label": "Comment",
  });
  const send = async () => {
    const text = box.value.trim();
    if (!text) return;
    postButton.disabled = true;
    try {
      await post(text);
    } finally {
      postButton.disabled = false;
    }
  };
  const postButton = h("button", {
    type: "button",
    class: "primary comment-post",
    onclick: () => void send(),
  }, "Post");
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void send();
    if (e.key === "Escape") cancel();
  });
  setTimeout(() => box.focus(), 0);
  return h(
    "div",
    { class: "comment-new" },
    h("div", { class: "comment-where" }, where),
    box,
    h(
      "div",
      { class: "comment-buttons" },
      postButton,
      h("button", { type: "button", class: "link", onclick: cancel }, "Cancel"),
    ),
  );
}
