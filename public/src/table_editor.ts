/** The feature table's cell editor: a text box over one cell, with a note for a parse error or a remote change meanwhile. */
import { h } from "./dom.ts";
import type { Column } from "./table_model.ts";

/** What a {@link CellEditor} edits and whom it tells. */
export interface CellEditorOptions {
  /** The element the box is placed in (the grid's body, positioned). */
  host: HTMLElement;
  fid: string;
  column: Column;
  /** The cell's text when editing began. */
  before: string;
  /** Commits the text: null when done, or the error to show (the editor stays open). */
  commit(text: string): string | null;
  /** The editor closed; `move` is 1 after Tab, -1 after Shift+Tab, else 0. */
  closed(move: number): void;
}

/** Enter commits, Escape cancels, Tab commits and moves on, leaving the box commits. */
export class CellEditor {
  readonly fid: string;
  readonly column: Column;
  #options: CellEditorOptions;
  #input: HTMLInputElement;
  #note = h("div", { class: "ft-note", role: "status", hidden: true });
  #open = true;

  constructor(options: CellEditorOptions) {
    this.#options = options;
    this.fid = options.fid;
    this.column = options.column;
    this.#input = h("input", {
      type: "text",
      class: "ft-editor",
      "aria-label": `${options.column.key} of this feature`,
    });
    this.#input.value = options.before;
    this.#input.addEventListener("keydown", (e) => this.#key(e));
    this.#input.addEventListener("blur", () => this.#commit(0));
    options.host.append(this.#input, this.#note);
  }

  /** Puts the box over its cell (pixels within the host). */
  place(top: number, left: number, width: number): void {
    this.#input.style.top = `${top}px`;
    this.#input.style.left = `${left}px`;
    this.#input.style.width = `${width}px`;
    this.#note.style.top = `${top + this.#input.offsetHeight}px`;
    this.#note.style.left = `${left}px`;
  }

  /** Focuses the box with its text selected. */
  focus(): void {
    this.#input.focus();
    this.#input.select();
  }

  /** The cell now holds `now` (null: the feature is gone): says so if that is not what it was. */
  remoteChange(now: string | null): void {
    if (now === this.#options.before) return;
    this.#say(
      now === null
        ? "Someone deleted this feature meanwhile."
        : `Someone changed this cell meanwhile to "${now}". Enter keeps yours, Escape keeps theirs.`,
    );
    this.#input.classList.add("ft-conflict");
  }

  /** Removes the box without committing. */
  close(move = 0): void {
    if (!this.#open) return;
    this.#open = false;
    this.#input.remove();
    this.#note.remove();
    this.#options.closed(move);
  }

  #say(text: string): void {
    this.#note.textContent = text;
    this.#note.hidden = false;
  }

  #commit(move: number): void {
    if (!this.#open) return;
    const error = this.#options.commit(this.#input.value);
    if (error === null) return this.close(move);
    this.#say(error);
    this.#input.setAttribute("aria-invalid", "true");
  }

  #key(e: KeyboardEvent): void {
    // The page's shortcuts (Esc deselects, Ctrl+Z undoes) are not for a box being typed in.
    e.stopPropagation();
    if (e.key === "Enter") this.#commit(0);
    else if (e.key === "Escape") this.close();
    else if (e.key === "Tab") this.#commit(e.shiftKey ? -1 : 1);
    else return;
    e.preventDefault();
  }
}
