/** The map page's "this link is not valid" state: one clear message, and nothing left to edit. */

/** The controls that change the map or hand out its link; all are off in the invalid state. */
const EDITING_CONTROLS = ["import", "import-file", "share", "undo", "redo"];

/**
 * Puts the page into the state for a link the relay refused (wrong key or unknown map): the
 * message replaces "Loading…", drawing tools, import, properties editing and Share are disabled
 * (Share must never offer the refused key as a link), and `body[data-link=invalid]` lets the
 * style sheet hide what cannot be disabled one by one (Geoman's toolbar, the properties panel).
 *
 * @example
 * ```ts ignore
 * showInvalidLink(document, INVALID_LINK);
 * ```
 */
export function showInvalidLink(doc: Document, message: string): void {
  doc.body.dataset.link = "invalid";
  const title = doc.getElementById("map-title");
  if (title) title.textContent = "Link not valid";
  doc.title = "Link not valid · Duplex Map";
  const box = doc.getElementById("link-invalid");
  const text = doc.getElementById("link-invalid-text");
  if (text) text.textContent = message;
  if (box) box.hidden = false;
  for (const id of EDITING_CONTROLS) {
    const control = doc.getElementById(id);
    if (control instanceof HTMLButtonElement || control instanceof HTMLInputElement) {
      control.disabled = true;
    }
  }
  for (const input of doc.querySelectorAll<HTMLInputElement>("#props-body input")) {
    input.disabled = true;
  }
}

/**
 * The welcome timeout asked for in the page's query (`?welcomeTimeoutMs=2000`, for tests and for
 * networks known to be slow), kept within 500 ms .. 120 s; `undefined` (the default) otherwise.
 *
 * @example
 * ```ts
 * import { welcomeTimeoutFrom } from "./link_state.ts";
 * welcomeTimeoutFrom("?welcomeTimeoutMs=2000"); // 2000
 * ```
 */
export function welcomeTimeoutFrom(search: string): number | undefined {
  const raw = new URLSearchParams(search).get("welcomeTimeoutMs");
  if (raw === null || !/^\d+$/.test(raw)) return undefined;
  return Math.min(120_000, Math.max(500, Number(raw)));
}
