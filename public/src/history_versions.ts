/** The named versions section of the history panel: the list (a click previews one) and, for editors, "Name current version". */
import { h, toast } from "./dom.ts";
import { momentText, type NamedVersion } from "./history_model.ts";

/** Options for {@link VersionsView}. */
export interface VersionsViewOptions {
  /** A version was clicked: preview it. */
  preview: (version: NamedVersion) => void;
  /** Names the current version; rejects with words for a person when the relay refuses. */
  name: (name: string) => Promise<void>;
  /** The clock times are told against. */
  now: () => number;
}

/** The "Named versions" section: its list, and the form that names the current version. */
export class VersionsView {
  /** The section element. */
  readonly element: HTMLElement;
  #o: VersionsViewOptions;
  #list = h("ul", { class: "history-versions", "aria-label": "Named versions" });
  #input = h("input", {
    type: "text",
    maxlength: "120",
    placeholder: "e.g. Before the field trip",
    "aria-label": "Name of the current version",
  });

  constructor(options: VersionsViewOptions) {
    this.#o = options;
    // Hidden from viewers by the page's role class: only editors name versions.
    const form = h(
      "form",
      { class: "history-name editor-only", onsubmit: (e: Event) => void this.#submit(e) },
      this.#input,
      h("button", { type: "submit" }, "Name current version"),
    );
    this.element = h(
      "section",
      { class: "history-named" },
      h("h3", {}, "Named versions"),
      this.#list,
      form,
    );
  }

  /** Shows these versions, newest first. */
  render(versions: readonly NamedVersion[]): void {
    const now = this.#o.now();
    const items = versions.map((ver) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "history-version",
            "data-seq": String(ver.seq),
            onclick: () => this.#o.preview(ver),
          },
          h("strong", {}, ver.name),
          h(
            "span",
            { class: "small" },
            `${momentText(ver.at, { now })}${ver.author ? ` · ${ver.author}` : ""}`,
          ),
        ),
      )
    );
    this.#list.replaceChildren(
      ...(items.length > 0 ? items : [h("li", { class: "hint" }, "No named versions yet.")]),
    );
  }

  async #submit(event: Event): Promise<void> {
    event.preventDefault();
    const name = this.#input.value.trim();
    if (!name) {
      toast("Type a name for the version first.", "error");
      return this.#input.focus();
    }
    try {
      await this.#o.name(name);
    } catch (e) {
      toast(`The version was not named: ${e instanceof Error ? e.message : e}`, "error");
      return;
    }
    this.#input.value = "";
    toast(`Named this version “${name}”.`);
  }
}
