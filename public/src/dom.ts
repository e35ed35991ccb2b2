/** Tiny DOM helpers shared by the pages: build elements, find required elements, show notices. */

type Attrs = Record<string, string | boolean | ((event: Event) => void)>;

/**
 * Builds an element: string attributes are set, `true` sets a boolean attribute, functions named
 * `on<event>` become listeners.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false) el.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== false) el.append(child);
  }
  return el;
}

/** One item of a {@link KeyedList}: what it shows, as a string, and how to build its element. */
export interface ListItem {
  /** Everything the element shows and does: equal strings, interchangeable elements. */
  looks: string;
  /** Builds the element (called only when no element shown before looks the same). */
  make: () => HTMLElement;
}

/**
 * The children of a list that is drawn again often (on presence, on live refreshes): an item that
 * looks as it did keeps its element, and only the elements that changed are put in or taken out
 * (an item that moved takes those after it along: lists sorted by time or name rarely reorder). A press, focus or hover on an unchanged item survives the redraw: a button replaced
 * between a press and its release loses the click.
 */
export class KeyedList {
  #shown = new Map<string, HTMLElement[]>();

  /** Keeps the children of `parent`. */
  constructor(readonly parent: HTMLElement) {}

  /** Shows `items` in order. */
  render(items: Iterable<ListItem>): void {
    const before = this.#shown;
    this.#shown = new Map();
    const elements: HTMLElement[] = [];
    for (const { looks, make } of items) {
      // Items that look alike take the elements shown for that look in order, or new ones.
      const el = before.get(looks)?.shift() ?? make();
      const same = this.#shown.get(looks);
      if (same) same.push(el);
      else this.#shown.set(looks, [el]);
      elements.push(el);
    }
    // Only what changed moves: an element taken out of the page, even to be put back at once,
    // loses a press on it (the browser then clicks its parent instead).
    const children = this.parent.children;
    const wanted = new Set(elements);
    for (const child of [...children]) if (!wanted.has(child as HTMLElement)) child.remove();
    elements.forEach((el, i) => {
      if (children[i] !== el) this.parent.insertBefore(el, children[i] ?? null);
    });
  }

  /** Empties the list. */
  clear(): void {
    this.#shown.clear();
    this.parent.replaceChildren();
  }
}

/** The element with this id, which the page's HTML must contain. */
export function byId<T extends HTMLElement = HTMLElement>(
  id: string,
  type: { new (): T; prototype: T },
): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page is missing #${id}`);
  return el;
}

/** Shows a short message in the toast area; errors stay longer and are announced assertively. */
export function toast(message: string, level: "info" | "error" = "info"): void {
  const area = document.getElementById("toasts");
  if (!area) return;
  const item = h(
    "div",
    { class: `toast ${level}`, role: level === "error" ? "alert" : "status" },
    message,
  );
  const close = h("button", {
    type: "button",
    class: "toast-close",
    "aria-label": "Dismiss",
  }, "×");
  close.addEventListener("click", () => item.remove());
  item.append(close);
  area.append(item);
  setTimeout(() => item.remove(), level === "error" ? 9000 : 4000);
  while (area.children.length > 4) area.firstElementChild?.remove();
}

/** Copies text, with a fallback for pages that are not a secure context. */
export async function copyText(
  text: string,
  input?: HTMLInputElement,
): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!input) return false;
    input.select();
    return document.execCommand("copy");
  }
}

/** Offers `blob` to the user as a download named `name` (the browser's "save file"). */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later, not at once: some browsers start reading the file after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
