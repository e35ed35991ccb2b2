/** The basemap switcher: a Leaflet control holding a labelled radio list, usable with the keyboard. */
import type { BasemapInfo } from "./basemap_list.ts";
import L from "./leaflet.ts";

/** Options for {@link BasemapSwitcher}. */
export interface BasemapSwitcherOptions extends L.ControlOptions {
  list: BasemapInfo[];
  /** The id checked when the control is added. */
  current: string;
  /** Called when the person picks another basemap. */
  onChoose: (id: string) => void;
}

/**
 * A `<details>` whose summary names the current basemap and opens a fieldset of radio buttons:
 * the browser's own keyboard handling (Enter/Space on the summary, arrows between radios) applies,
 * and a screen reader hears "Basemap" as the group's name.
 */
export class BasemapSwitcher extends L.Control {
  #list: BasemapInfo[];
  #current: string;
  #onChoose: (id: string) => void;
  #details: HTMLDetailsElement | null = null;
  #summary: HTMLElement | null = null;

  constructor(options: BasemapSwitcherOptions) {
    super({ position: options.position ?? "topright" });
    this.#list = options.list;
    this.#current = options.current;
    this.#onChoose = options.onChoose;
  }

  override onAdd(): HTMLElement {
    const details = L.DomUtil.create("details", "leaflet-control basemap-switcher");
    const summary = L.DomUtil.create("summary", "", details);
    const fieldset = L.DomUtil.create("fieldset", "", details);
    const legend = L.DomUtil.create("legend", "", fieldset);
    legend.textContent = "Basemap";
    for (const info of this.#list) {
      const label = L.DomUtil.create("label", "", fieldset);
      const input = L.DomUtil.create("input", "", label);
      input.type = "radio";
      input.name = "basemap";
      input.value = info.id;
      input.checked = info.id === this.#current;
      label.append(" ", info.name);
      input.addEventListener("change", () => {
        if (!input.checked) return;
        this.select(info.id);
        this.#onChoose(info.id);
      });
    }
    // Escape closes the list and gives focus back to its summary, as a menu would.
    details.addEventListener("keydown", (e) => {
      if (e.key !== "Escape" || !details.open) return;
      details.open = false;
      summary.focus();
      e.stopPropagation();
    });
    L.DomEvent.disableClickPropagation(details);
    L.DomEvent.disableScrollPropagation(details);
    this.#details = details;
    this.#summary = summary;
    this.select(this.#current);
    return details;
  }

  override onRemove(): void {
    this.#details = null;
    this.#summary = null;
  }

  /** Opens the list and puts the focus on the checked basemap (from the over-zoom line). */
  open(): void {
    if (!this.#details) return;
    this.#details.open = true;
    this.#details.querySelector<HTMLInputElement>("input:checked")?.focus();
  }

  /** Shows `id` as the current basemap without telling `onChoose`. */
  select(id: string): void {
    this.#current = id;
    const name = this.#list.find((b) => b.id === id)?.name ?? id;
    if (this.#summary) this.#summary.textContent = `Basemap: ${name}`;
    for (const input of this.#details?.querySelectorAll("input") ?? []) {
      input.checked = input.value === id;
    }
  }
}
