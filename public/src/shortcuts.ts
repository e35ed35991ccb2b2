/** Keyboard shortcuts of the map page: Esc, Ctrl/Cmd+Z to undo, Ctrl/Cmd+Shift+Z or +Y to redo. */

/** What a key press asks for. */
export type Shortcut = "cancel" | "undo" | "redo";

/** The parts of a `KeyboardEvent` that {@link shortcutOf} reads. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
}

/**
 * The shortcut a key press means, or null. While typing in a field, undo and redo are the
 * field's own.
 *
 * @example
 * ```ts
 * shortcutOf({ key: "z", ctrlKey: true, metaKey: false, shiftKey: false }, false); // "undo"
 * ```
 */
export function shortcutOf(e: KeyPress, typing: boolean): Shortcut | null {
  if (e.key === "Escape") return "cancel";
  if (typing || !(e.ctrlKey || e.metaKey)) return null;
  const key = e.key.toLowerCase();
  if (key === "z" && !e.shiftKey) return "undo";
  if ((key === "z" && e.shiftKey) || key === "y") return "redo";
  return null;
}

/** What {@link Shortcuts} does for each shortcut. */
export interface ShortcutActions {
  /** Esc; `typing` when the focus is in a text field. */
  cancel(typing: boolean): void;
  undo(): void;
  redo(): void;
}

/** Listens for the shortcuts on a document. */
export class Shortcuts {
  #target: Document;
  #actions: ShortcutActions;
  #keydown = (e: KeyboardEvent) => {
    const t = e.target;
    const typing = t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement ||
      (t instanceof HTMLElement && t.isContentEditable);
    const shortcut = shortcutOf(e, typing);
    if (shortcut === "cancel") this.#actions.cancel(typing);
    else if (shortcut !== null) {
      e.preventDefault();
      this.#actions[shortcut]();
    }
  };

  constructor(target: Document, actions: ShortcutActions) {
    this.#target = target;
    this.#actions = actions;
  }

  /** Starts listening. */
  onAdd(): this {
    this.#target.addEventListener("keydown", this.#keydown);
    return this;
  }

  /** Stops listening. */
  onRemove(): void {
    this.#target.removeEventListener("keydown", this.#keydown);
  }
}
