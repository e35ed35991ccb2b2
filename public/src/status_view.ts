/** The connection status in the header, and the undo/redo buttons whose state follows the session. */
import { showInvalidLink } from "./link_state.ts";
import type { Session, SessionStatus } from "./session.ts";

/**
 * The status line for a session status: how it is connected, and how many edits wait.
 *
 * @example
 * ```ts
 * statusText({ state: "live", transport: "websocket", unsent: 2 }); // "Live · websocket · saving 2"
 * ```
 */
export function statusText(s: SessionStatus): string {
  const unsent = s.unsent === 1 ? "1 unsent edit" : `${s.unsent} unsent edits`;
  switch (s.state) {
    case "connecting":
      return `Connecting…${s.unsent ? ` · ${unsent}` : ""}`;
    case "live":
      return `Live · ${s.transport}${s.unsent ? ` · saving ${s.unsent}` : ""}`;
    case "offline":
      return `Offline · ${unsent} · retrying in ${Math.ceil((s.retryInMs ?? 0) / 1000)} s`;
    case "failed":
      return "Link not valid";
  }
}

/** The elements {@link StatusView} draws into. */
export interface StatusViewOptions {
  status: HTMLElement;
  undo: HTMLButtonElement;
  redo: HTMLButtonElement;
  session: Session;
}

/** Shows the session's status; the undo and redo buttons undo and redo while the session can. */
export class StatusView {
  #options: StatusViewOptions;
  #undo = () => this.#options.session.undo();
  #redo = () => this.#options.session.redo();

  constructor(options: StatusViewOptions) {
    this.#options = options;
  }

  /** Draws a status; a refused link also puts the page into its "link not valid" state. */
  render(s: SessionStatus): void {
    const { status, undo, redo, session } = this.#options;
    status.dataset.state = s.state;
    status.textContent = statusText(s);
    status.title = `Connection: ${s.state} via ${s.transport}`;
    if (s.state === "failed") showInvalidLink(document, s.reason ?? "This link is not valid.");
    undo.disabled = !session.canUndo;
    redo.disabled = !session.canRedo;
  }

  /** Listens to the buttons. */
  onAdd(): this {
    this.#options.undo.addEventListener("click", this.#undo);
    this.#options.redo.addEventListener("click", this.#redo);
    return this;
  }

  /** Stops listening to the buttons. */
  onRemove(): void {
    this.#options.undo.removeEventListener("click", this.#undo);
    this.#options.redo.removeEventListener("click", this.#redo);
  }
}

/** The status for a link without a key, which never connects. */
export function showMissingKey(status: HTMLElement): void {
  status.dataset.state = "failed";
  status.textContent = "This link has no key. Ask for the full link (it ends in #key=...).";
}
