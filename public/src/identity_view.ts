/** Who this person is on the map: the first-visit dialog and the header button that changes it. */
import { byId, h } from "./dom.ts";
import { type Identity, loadIdentity, PALETTE, saveIdentity } from "./identity.ts";
import type { Session } from "./session.ts";

/**
 * Asks for a name and colour in the identity dialog. With no `current` identity (a first visit)
 * the dialog cannot be dismissed without a name.
 */
export function askIdentity(
  dialog: HTMLDialogElement,
  current: Identity | null,
): Promise<Identity> {
  const form = dialog.querySelector("form");
  const name = dialog.querySelector<HTMLInputElement>("#identity-name");
  const color = dialog.querySelector<HTMLInputElement>("#identity-color");
  const swatches = dialog.querySelector<HTMLElement>("#identity-swatches");
  if (!form || !name || !color || !swatches) throw new Error("identity dialog is incomplete");
  name.value = current?.name ?? "";
  color.value = current?.color ?? PALETTE[Math.floor(Math.random() * PALETTE.length)];
  swatches.replaceChildren(...PALETTE.map((c) =>
    h("button", {
      type: "button",
      class: "swatch",
      style: `background:${c}`,
      "aria-label": `Colour ${c}`,
      onclick: () => color.value = c,
    })
  ));
  dialog.showModal();
  name.focus();
  return new Promise((resolve) => {
    // A first visit needs a name: Esc must not leave the dialog without one.
    const cancel = (e: Event) => {
      if (!current) e.preventDefault();
    };
    const submit = (e: Event) => {
      e.preventDefault();
      const value = name.value.trim();
      if (!value) {
        name.focus();
        return;
      }
      form.removeEventListener("submit", submit);
      dialog.removeEventListener("cancel", cancel);
      dialog.close();
      resolve({ name: value.slice(0, 64), color: color.value.toLowerCase() });
    };
    form.addEventListener("submit", submit);
    dialog.addEventListener("cancel", cancel);
  });
}

/** The identity this browser keeps, asked for first when there is none yet. */
export async function ensureIdentity(storage: Storage): Promise<Identity> {
  const known = loadIdentity(storage);
  if (known) return known;
  const identity = await askIdentity(byId("identity", HTMLDialogElement), null);
  saveIdentity(storage, identity);
  return identity;
}

/** The header button that shows who this person is and lets them change name or colour. */
export class MeButton {
  #button = byId("me", HTMLButtonElement);
  #dialog = byId("identity", HTMLDialogElement);
  #identity: Identity;
  #storage: Storage;
  #session: Session;
  #click = async () => {
    const next = await askIdentity(this.#dialog, this.#identity);
    this.#identity = next;
    saveIdentity(this.#storage, next);
    this.#render();
    this.#session.setIdentity(next.name, next.color);
  };

  constructor(options: { identity: Identity; storage: Storage; session: Session }) {
    this.#identity = options.identity;
    this.#storage = options.storage;
    this.#session = options.session;
  }

  /** Shows the identity and listens to the button. */
  onAdd(): this {
    this.#render();
    this.#button.addEventListener("click", this.#click);
    return this;
  }

  /** Stops listening to the button. */
  onRemove(): void {
    this.#button.removeEventListener("click", this.#click);
  }

  #render(): void {
    const i = this.#identity;
    this.#button.replaceChildren(
      h("span", { class: "dot", style: `background:${i.color}` }),
      i.name,
    );
    this.#button.setAttribute("aria-label", `You are ${i.name}; change name or colour`);
  }
}
