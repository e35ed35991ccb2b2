/** The page's side of conflicts: the "Undo anyway / Skip" choice, and the notice of offline edits that replaced newer changes. */
import { conflictText, reportHeadline, reportItems } from "./conflict_text.ts";
import { h } from "./dom.ts";
import type { OverwriteReport } from "./resend_watch.ts";
import type { StepConflict } from "./session.ts";
import type { StepChoice } from "./undo_plan.ts";

/** Options for {@link ConflictView}. */
export interface ConflictViewOptions {
  /** Where the choice and the notices go (the page's body). */
  parent: HTMLElement;
  /** Where "Review in history" fires `duplex:feature-history`. @default globalThis */
  events?: EventTarget;
}

/**
 * Shows the session's conflicts: {@link choose} asks whether to undo (or redo) anyway and resolves
 * with the answer (Escape, or the page going away, means skip); {@link report} lists the features
 * whose newer changes my offline edits replaced, each with a "Review in history" link that asks
 * the history panel (which listens for `duplex:feature-history`) to show that feature's history.
 */
export class ConflictView {
  #options: ConflictViewOptions;
  #area: HTMLElement;

  constructor(options: ConflictViewOptions) {
    this.#options = options;
    this.#area = h("div", { class: "conflicts" });
  }

  /** Adds the area to the page. */
  onAdd(): this {
    this.#options.parent.append(this.#area);
    return this;
  }

  /** Removes the area (an open choice is answered "skip"). */
  onRemove(): void {
    for (const skip of this.#area.querySelectorAll<HTMLButtonElement>(".conflict-skip")) {
      skip.click();
    }
    this.#area.remove();
  }

  /** Asks what to do about an undo or redo that would overwrite newer changes by others. */
  choose(conflict: StepConflict): Promise<StepChoice> {
    const verb = conflict.what === "undo" ? "Undo" : "Redo";
    return new Promise((resolve) => {
      const answer = (choice: StepChoice) => {
        box.remove();
        resolve(choice);
      };
      const anyway = h("button", {
        type: "button",
        class: "primary conflict-anyway",
        onclick: () => answer("anyway"),
      }, `${verb} anyway`);
      const skip = h("button", {
        type: "button",
        class: "conflict-skip",
        onclick: () => answer("skip"),
      }, "Skip");
      const box = h(
        "div",
        {
          class: "conflict-choice",
          role: "alertdialog",
          "aria-label": `${verb} over someone else's change?`,
          onkeydown: (event: Event) => {
            if ((event as KeyboardEvent).key !== "Escape") return;
            // The page's own Escape (deselect, stop drawing) must not run as well.
            event.stopPropagation();
            answer("skip");
          },
        },
        h("p", { class: "conflict-text" }, conflictText(conflict.overwrites, conflict.what)),
        h(
          "p",
          { class: "small" },
          `${verb} anyway puts back what you had; Skip keeps their change` +
            (conflict.rest ? ` and ${conflict.what}s the rest of yours.` : "."),
        ),
        h("div", { class: "conflict-buttons" }, anyway, skip),
      );
      this.#area.append(box);
      // The safe answer has the focus: Enter keeps the other person's change.
      skip.focus();
    });
  }

  /** Lists what my re-sent offline edits replaced, until the person closes the notice. */
  report(report: OverwriteReport): void {
    const events = this.#options.events ?? globalThis;
    const items = reportItems(report.overwrites).map((item) =>
      h(
        "li",
        {},
        `${item.text} `,
        h("button", {
          type: "button",
          class: "link review-history",
          "data-fid": item.fid,
          onclick: () =>
            events.dispatchEvent(
              new CustomEvent("duplex:feature-history", { detail: { fid: item.fid } }),
            ),
        }, "Review in history"),
      )
    );
    const box = h(
      "div",
      { class: "overwrite-report", role: "status" },
      h("p", {}, reportHeadline(report)),
      h("ul", {}, ...items),
    );
    box.append(h("button", {
      type: "button",
      class: "toast-close",
      "aria-label": "Dismiss",
      onclick: () => box.remove(),
    }, "×"));
    this.#area.append(box);
  }
}
