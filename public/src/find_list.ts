/** The search box's listbox: results in named groups, the active option, ARIA state on the input. */
import { h } from "./dom.ts";

/** The groups, in the order they are listed. */
export type Group = "coords" | "features" | "places" | "online";

/** One option of the list. */
export interface FindResult {
  /** Stable across re-renders, so the active option survives late answers. */
  key: string;
  group: Group;
  label: string;
  detail: string;
  choose(): void;
  /** The list stays open after choosing it (the "Search online" row). */
  keepOpen?: boolean;
}

const GROUP_NAMES: Record<Group, string> = {
  coords: "Coordinates",
  features: "Features of this map",
  places: "Places",
  // Nominatim answers from OpenStreetMap data, whose licence asks for this credit where it shows.
  online: "Online · © OpenStreetMap contributors",
};
const GROUPS = Object.keys(GROUP_NAMES) as Group[];

/**
 * Draws the results as `role=listbox` with one `role=group` per source, and keeps the input's
 * `aria-expanded` and `aria-activedescendant` true to what is shown (ARIA 1.2 combobox).
 */
export class FindList {
  /** The listbox element, to be put right after the input. */
  readonly element: HTMLElement;
  #input: HTMLInputElement;
  #onChoose: (i: number) => void;
  #results: FindResult[] = [];
  #active = -1;

  constructor(input: HTMLInputElement, onChoose: (i: number) => void) {
    this.#input = input;
    this.#onChoose = onChoose;
    this.element = h("div", { id: "find-list", role: "listbox", "aria-label": "Results" });
    this.element.hidden = true;
    // Keeps the focus in the box while an option is clicked.
    this.element.addEventListener("mousedown", (e) => e.preventDefault());
  }

  /** The options in list order. */
  get results(): readonly FindResult[] {
    return this.#results;
  }

  /** The active option's index, or -1. */
  get active(): number {
    return this.#active;
  }

  /** Whether the list is showing. */
  get open(): boolean {
    return !this.element.hidden;
  }

  /** Redraws the list from `found`, keeping the active option when it is still there. */
  render(found: Record<Group, FindResult[]>, open: boolean): void {
    const activeKey = this.#results[this.#active]?.key;
    this.#results = GROUPS.flatMap((g) => found[g]);
    this.element.replaceChildren(
      ...GROUPS.filter((g) => found[g].length).map((g) => {
        const heading = h("div", { id: `find-group-${g}`, class: "find-heading" }, GROUP_NAMES[g]);
        heading.setAttribute("role", "presentation");
        return h(
          "div",
          { role: "group", "aria-labelledby": `find-group-${g}`, "data-group": g },
          heading,
          ...found[g].map((r) => this.#option(r)),
        );
      }),
    );
    this.element.hidden = !(open && this.#results.length > 0);
    this.#input.setAttribute("aria-expanded", String(this.open));
    this.activate(this.#results.findIndex((r) => r.key === activeKey));
  }

  /** Makes option `i` the active one (-1: none) and scrolls it into view. */
  activate(i: number): void {
    this.#active = i;
    for (const el of this.element.querySelectorAll<HTMLElement>("[role=option]")) {
      el.setAttribute("aria-selected", String(el.id === `find-option-${i}`));
    }
    const el = i >= 0 ? document.getElementById(`find-option-${i}`) : null;
    if (el) {
      this.#input.setAttribute("aria-activedescendant", el.id);
      el.scrollIntoView({ block: "nearest" });
    } else this.#input.removeAttribute("aria-activedescendant");
  }

  /** Moves the active option down (1) or up (-1), wrapping around. */
  move(step: 1 | -1): void {
    const n = this.#results.length;
    if (n === 0) return;
    this.activate(this.#active < 0 && step < 0 ? n - 1 : (this.#active + step + n) % n);
  }

  /** Hides the list; no option is active. */
  close(): void {
    this.element.hidden = true;
    this.#input.setAttribute("aria-expanded", "false");
    this.activate(-1);
  }

  #option(r: FindResult): HTMLElement {
    const i = this.#results.indexOf(r);
    return h(
      "div",
      {
        id: `find-option-${i}`,
        role: "option",
        class: "find-option",
        "aria-selected": "false",
        onclick: () => this.#onChoose(i),
      },
      h("span", { class: "find-label" }, r.label),
      r.detail ? h("span", { class: "find-detail" }, r.detail) : null,
    );
  }
}
