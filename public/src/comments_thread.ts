/** The contents of a comment popup: a thread (author, colour, time, replies, reply box, Resolve), or a new comment's box. */
import { h } from "./dom.ts";
import type { Comment } from "../../relay/protocol.ts";
import { relativeTime, type Thread } from "./comments_state.ts";
import { MAX_COMMENT_CHARS } from "../../relay/protocol.ts";

/** What a thread popup does when its buttons are used. */
export interface ThreadActions {
  /** Sends a reply; resolves true when the relay took it (the box is then emptied). */
  reply(text: string): Promise<boolean>;
  /** Resolves or reopens the thread. */
  resolve(resolved: boolean): void;
}

/**
 * One thread's popup. The reply box is kept across {@link ThreadPopup.render} calls, so a comment
 * arriving from someone else while one types does not lose the text.
 */
export class ThreadPopup {
  /** The popup's element. */
  readonly el = h("div", { class: "comment-thread" });
  #actions: ThreadActions;
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
    this.#send.addEventListener("click", () => void this.#reply());
    this.#box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) void this.#reply();
    });
  }

  /** Shows `thread` as it is now; `title` names its feature, if any. */
  render(thread: Thread, now: number, mayComment: boolean, title: string | null): void {
    const { root, replies } = thread;
    const resolved = root.resolved === true;
    this.el.dataset.thread = root.id;
    this.el.classList.toggle("resolved", resolved);
    const head = h(
      "div",
      { class: "comment-thread-head" },
      h("span", { class: "comment-where" }, title ? `On '${title}'` : "Comment"),
      resolved ? h("span", { class: "comment-resolved-badge" }, "Resolved") : null,
    );
    const list = h("ol", { class: "comment-list" }, ...[root, ...replies].map((c) => item(c, now)));
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

/** One comment in a thread: colour dot, name, relative time (the exact time on hover), text. */
function item(c: Comment, now: number): HTMLElement {
  const dot = h("span", { class: "comment-dot" });
  dot.style.background = c.color;
  const when = h("time", {
    datetime: new Date(c.created).toISOString(),
    title: new Date(c.created).toLocaleString(),
  }, relativeTime(c.created, now));
  return h(
    "li",
    { class: "comment", "data-comment": c.id },
    h("div", { class: "comment-meta" }, dot, h("b", {}, c.name), " · ", when),
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
