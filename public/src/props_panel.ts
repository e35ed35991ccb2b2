/** The properties panel of the selected feature: add, rename and remove keys, edit values. */
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { h } from "./dom.ts";
import { vertexCount } from "../../relay/geometry.ts";
import { stringifyAnyDepth } from "./json_text.ts";
import { rectangleBounds } from "./rectangle.ts";
import { measurementView, showMeasurement } from "./measure_view.ts";
import { StyleEditor } from "./style_editor.ts";
import { changedText } from "./last_changed.ts";

/** Options for {@link PropsPanel}. */
export interface PropsPanelOptions {
  /** The element the panel fills. */
  root: HTMLElement;
  /** Sends a change (editors only). */
  edit: (ops: EditOp[]) => void;
  /** Tells the user something is wrong with what they typed. */
  notice: (message: string) => void;
  /** Zooms the map to the feature. */
  zoomTo: (fid: string) => void;
  /** The clock "Changed by Ann, 2 min ago" counts from. @default Date.now */
  now?: () => number;
}

/** How a value is shown in a text field. */
export function formatValue(value: unknown): string {
  return typeof value === "string" ? value : stringifyAnyDepth(value);
}

/**
 * Reads a typed value: a string stays a string when the old value was one; otherwise numbers,
 * true/false/null and JSON objects or lists are stored as such, anything else as text.
 */
export function parseValue(text: string, old: unknown): unknown {
  if (typeof old === "string") return text;
  const trimmed = text.trim();
  if (
    /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)$/.test(trimmed) ||
    /^[[{]/.test(trimmed)
  ) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

interface Row {
  el: HTMLElement;
  key: HTMLInputElement;
  value: HTMLInputElement;
}

/**
 * Renders one feature's properties as key/value fields. Remote changes update the fields in place,
 * leaving alone the field the user is typing in, so a collaborator's edit never eats keystrokes.
 */
export class PropsPanel {
  #options: PropsPanelOptions;
  #fid: string | null = null;
  #editable = false;
  #rows = new Map<string, Row>();
  #list: HTMLElement | null = null;
  #feature: StoredFeature | null = null;
  #measure: HTMLElement | null = null;
  #style: StyleEditor;
  #changed = h("p", { class: "changed-by" });

  constructor(options: PropsPanelOptions) {
    this.#options = options;
    this.#style = new StyleEditor({ edit: options.edit });
    this.show(null, false);
  }

  /** Shows a feature (or the hint when `null`); the same feature again updates in place. */
  show(feature: StoredFeature | null, editable: boolean): void {
    const root = this.#options.root;
    if (!feature) {
      this.#fid = null;
      this.#feature = null;
      this.#rows.clear();
      this.#list = null;
      this.#style.cancel();
      root.replaceChildren(
        h(
          "p",
          { class: "hint" },
          editable
            ? "Click a feature to edit its properties, or draw one with the tools on the left."
            : "Click a feature to see its properties.",
        ),
      );
      return;
    }
    if (
      feature.id !== this.#fid || editable !== this.#editable || !this.#list
    ) {
      this.#build(feature, editable);
      return;
    }
    this.#feature = feature;
    if (this.#measure) showMeasurement(this.#measure, feature.geometry);
    this.#sync(feature);
  }

  #build(feature: StoredFeature, editable: boolean): void {
    this.#fid = feature.id;
    this.#editable = editable;
    this.#feature = feature;
    this.#rows.clear();
    const list = h("div", { class: "props-list", role: "list" });
    this.#list = list;
    const located = feature.geometry === null ? 0 : vertexCount(feature.geometry);
    const head = h(
      "div",
      { class: "props-head" },
      h(
        "span",
        { class: "geom-type" },
        feature.geometry === null
          ? "No geometry"
          : rectangleBounds(feature.geometry)
          ? "Rectangle"
          : feature.geometry.type,
      ),
      // An empty MultiPoint or GeometryCollection is valid but has nowhere to zoom to.
      h("button", {
        type: "button",
        class: "link zoom-to",
        disabled: located === 0,
        title: located === 0 ? "This feature has no location" : "",
        onclick: () => this.#options.zoomTo(feature.id),
      }, "Zoom to"),
      // Heard by the history panel (public/src/history_panel.ts).
      h("button", {
        type: "button",
        class: "link",
        onclick: () =>
          dispatchEvent(new CustomEvent("duplex:feature-history", { detail: { fid: feature.id } })),
      }, "History of this feature"),
      h("button", {
        type: "button",
        class: "link comment-on",
        onclick: () =>
          dispatchEvent(new CustomEvent("duplex:comment", { detail: { fid: feature.id } })),
      }, "Comment on this feature"),
      editable &&
        h("button", {
          type: "button",
          class: "link danger",
          onclick: () => this.#options.edit([{ op: "del", fid: feature.id }]),
        }, "Delete feature"),
    );
    this.#measure = measurementView(feature.geometry);
    const children: (Node | false | null)[] = [
      head,
      this.#changed,
      this.#measure,
      this.#style.render(feature, editable),
      list,
    ];
    if (editable) children.push(this.#addForm());
    this.#options.root.replaceChildren(
      ...children.filter((c): c is Node => c !== false && c !== null),
    );
    this.#sync(feature);
  }

  #sync(feature: StoredFeature): void {
    const list = this.#list;
    if (!list) return;
    this.#style.sync(feature);
    const changed = changedText(feature.meta, (this.#options.now ?? Date.now)());
    this.#changed.textContent = changed ?? "";
    this.#changed.hidden = changed === null;
    const keys = Object.keys(feature.properties);
    for (const [key, row] of this.#rows) {
      if (!Object.hasOwn(feature.properties, key)) {
        row.el.remove();
        this.#rows.delete(key);
      }
    }
    for (const key of keys) {
      const text = formatValue(feature.properties[key]);
      const row = this.#rows.get(key);
      if (row) {
        if (document.activeElement !== row.value && row.value.value !== text) {
          row.value.value = text;
        }
        continue;
      }
      const made = this.#row(key, text);
      this.#rows.set(key, made);
      list.append(made.el);
    }
    if (keys.length === 0) {
      if (!list.querySelector(".hint")) {
        list.append(h("p", { class: "hint" }, "No properties yet."));
      }
    } else list.querySelector(".hint")?.remove();
  }

  #row(key: string, text: string): Row {
    const fid = this.#fid ?? "";
    const editable = this.#editable;
    const keyInput = h("input", {
      type: "text",
      class: "prop-key",
      value: key,
      "aria-label": `Name of property ${key}`,
      readonly: !editable,
    });
    const valueInput = h("input", {
      type: "text",
      class: "prop-value",
      value: text,
      "aria-label": `Value of ${key}`,
      readonly: !editable,
    });
    keyInput.value = key;
    valueInput.value = text;
    const el = h(
      "div",
      { class: "prop-row", role: "listitem", "data-key": key },
      keyInput,
      valueInput,
    );
    if (editable) {
      keyInput.addEventListener("change", () => {
        const next = keyInput.value.trim();
        const current = this.#feature?.properties ?? {};
        if (next === key) return;
        if (!next) {
          keyInput.value = key;
          this.#options.notice("A property needs a name.");
          return;
        }
        if (Object.hasOwn(current, next)) {
          keyInput.value = key;
          this.#options.notice(`There is already a property called "${next}".`);
          return;
        }
        this.#options.edit([{
          op: "props",
          fid,
          set: { [next]: current[key] },
          unset: [key],
        }]);
      });
      valueInput.addEventListener("change", () => {
        const old = this.#feature?.properties[key];
        this.#options.edit([{
          op: "props",
          fid,
          set: { [key]: parseValue(valueInput.value, old) },
        }]);
      });
      for (const input of [keyInput, valueInput]) {
        input.addEventListener("keydown", (e) => {
          if (e.key === "Enter") input.blur();
        });
      }
      el.append(h("button", {
        type: "button",
        class: "icon danger",
        "aria-label": `Remove property ${key}`,
        title: "Remove property",
        onclick: () => this.#options.edit([{ op: "props", fid, set: {}, unset: [key] }]),
      }, "×"));
    }
    return { el, key: keyInput, value: valueInput };
  }

  #addForm(): HTMLElement {
    const key = h("input", {
      type: "text",
      id: "new-prop-key",
      placeholder: "name",
      "aria-label": "New property name",
      autocomplete: "off",
    });
    const value = h("input", {
      type: "text",
      id: "new-prop-value",
      placeholder: "value",
      "aria-label": "New property value",
      autocomplete: "off",
    });
    const form = h(
      "form",
      { class: "prop-add", "aria-label": "Add a property" },
      key,
      value,
      h("button", { type: "submit" }, "Add"),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const name = key.value.trim();
      if (!name || !this.#fid) {
        this.#options.notice("Type a name for the new property first.");
        key.focus();
        return;
      }
      if (this.#feature && Object.hasOwn(this.#feature.properties, name)) {
        this.#options.notice(`There is already a property called "${name}".`);
        return;
      }
      this.#options.edit([{
        op: "props",
        fid: this.#fid,
        set: { [name]: parseValue(value.value, undefined) },
      }]);
      key.value = "";
      value.value = "";
      key.focus();
    });
    return form;
  }
}
