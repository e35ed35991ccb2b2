/** The Share dialog: the edit link for editors, the view-only link when this browser knows it. */
import { byId, copyText } from "./dom.ts";
import type { Session } from "./session.ts";

/** What {@link shareLinks} builds the links from. */
export interface ShareLinkInput {
  /** `<origin>/m/<id>` */
  base: string;
  /** The key this page connected with. */
  key: string;
  /** The view-only key, if this browser keeps it. */
  viewKey: string | null;
  /** Whether the key is an edit key (the session was welcomed as an editor). */
  editor: boolean;
}

/**
 * The links the dialog offers; `""` is a link it does not show. An editor's key is only ever
 * handed out as the edit link; a viewer's key is the view-only link.
 *
 * @example
 * ```ts
 * shareLinks({ base: "https://x/m/a", key: "k", viewKey: null, editor: false });
 * // { edit: "", view: "https://x/m/a#key=k" }
 * ```
 */
export function shareLinks(input: ShareLinkInput): { edit: string; view: string } {
  const { base, key, viewKey, editor } = input;
  return {
    edit: editor ? `${base}#key=${key}` : "",
    view: viewKey ? `${base}#key=${viewKey}` : editor ? "" : `${base}#key=${key}`,
  };
}

/** Options for {@link ShareDialog}. */
export interface ShareDialogOptions {
  session: Session;
  /** `<origin>/m/<id>` */
  base: string;
  key: string;
  /** Reads the view-only key this browser keeps, at the moment the dialog opens. */
  viewKey: () => string | null;
}

/** The dialog, its Share and Done buttons and its Copy buttons. */
export class ShareDialog {
  #options: ShareDialogOptions;
  #dialog = byId("share-dialog", HTMLDialogElement);
  #share = byId("share", HTMLButtonElement);
  #close = byId("share-close", HTMLButtonElement);
  #copies = [...document.querySelectorAll<HTMLButtonElement>("button[data-copy]")];
  #open = () => this.open();
  #done = () => this.#dialog.close();
  #copy = async (e: Event) => {
    const button = e.currentTarget;
    if (!(button instanceof HTMLButtonElement)) return;
    const input = byId(button.dataset.copy ?? "", HTMLInputElement);
    const ok = await copyText(input.value, input);
    button.textContent = ok ? "Copied" : "Copy failed";
    setTimeout(() => button.textContent = "Copy", 1500);
  };

  constructor(options: ShareDialogOptions) {
    this.#options = options;
  }

  /** Shows the dialog; before welcome the key is unproven, so it is never handed out as a link. */
  open(): void {
    const { session, base, key } = this.#options;
    if (!session.you) return;
    const links = shareLinks({
      base,
      key,
      viewKey: this.#options.viewKey(),
      editor: session.canEdit,
    });
    byId("share-edit", HTMLInputElement).value = links.edit;
    byId("share-view", HTMLInputElement).value = links.view;
    byId("share-edit-row", HTMLElement).hidden = !session.canEdit;
    byId("share-view-missing", HTMLElement).hidden = links.view !== "";
    byId("share-view-row", HTMLElement).hidden = links.view === "";
    this.#dialog.showModal();
  }

  /** Lets the Share button open the dialog (once welcomed). */
  enable(): void {
    this.#share.disabled = false;
  }

  /** Listens to the buttons. */
  onAdd(): this {
    this.#share.addEventListener("click", this.#open);
    this.#close.addEventListener("click", this.#done);
    for (const b of this.#copies) b.addEventListener("click", this.#copy);
    return this;
  }

  /** Stops listening to the buttons. */
  onRemove(): void {
    this.#share.removeEventListener("click", this.#open);
    this.#close.removeEventListener("click", this.#done);
    for (const b of this.#copies) b.removeEventListener("click", this.#copy);
  }
}
