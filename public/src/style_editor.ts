/** The style part of the properties panel: simplestyle colours, width, opacity, marker size and symbol. */
import type { EditOp, StoredFeature } from "../../relay/protocol.ts";
import { h } from "./dom.ts";
import { readStyle, type SimpleStyle } from "./simplestyle.ts";

/** Options for {@link StyleEditor}. */
export interface StyleEditorOptions {
  /** Sends one change (editors only). */
  edit: (ops: EditOp[]) => void;
  /** How long a slider rests before its value is sent, in ms. @default 400 */
  debounceMs?: number;
}

type Kind = "color" | "range" | "size" | "symbol";

interface Field {
  key: string;
  label: string;
  kind: Kind;
  /** The value shown when the property is missing or bad (from {@link readStyle}). */
  read: (s: SimpleStyle) => string;
  min?: number;
  max?: number;
  step?: number;
}

const STROKE: Field[] = [
  { key: "stroke", label: "Line colour", kind: "color", read: (s) => s.stroke },
  {
    key: "stroke-width",
    label: "Line width",
    kind: "range",
    read: (s) => String(s.strokeWidth),
    min: 0,
    max: 20,
    step: 1,
  },
  {
    key: "stroke-opacity",
    label: "Line opacity",
    kind: "range",
    read: (s) => String(s.strokeOpacity),
    min: 0,
    max: 1,
    step: 0.05,
  },
];
const FILL: Field[] = [
  { key: "fill", label: "Fill colour", kind: "color", read: (s) => s.fill },
  {
    key: "fill-opacity",
    label: "Fill opacity",
    kind: "range",
    read: (s) => String(s.fillOpacity),
    min: 0,
    max: 1,
    step: 0.05,
  },
];
const MARKER: Field[] = [
  { key: "marker-color", label: "Marker colour", kind: "color", read: (s) => s.markerColor },
  { key: "marker-size", label: "Marker size", kind: "size", read: (s) => s.markerSize },
  { key: "marker-symbol", label: "Symbol", kind: "symbol", read: (s) => s.markerSymbol },
];

/** The style fields that apply to a geometry type (a collection may hold any of them). */
export function styleFields(type: string | null): readonly Field[] {
  switch (type) {
    case "Point":
    case "MultiPoint":
      return MARKER;
    case "LineString":
    case "MultiLineString":
      return STROKE;
    case "Polygon":
    case "MultiPolygon":
      return [...STROKE, ...FILL];
    case null:
      return [];
    default:
      return [...MARKER, ...STROKE, ...FILL];
  }
}

/** The property value a field's input stands for, or `undefined` to remove the property. */
export function fieldValue(kind: Kind, text: string): string | number | undefined {
  if (kind === "range") return Number(text);
  if (kind === "symbol") return text.trim() === "" ? undefined : text.trim();
  return text;
}

/**
 * Renders the style fields of one feature. Every change is ONE ordinary `props` edit: a colour
 * when the picker closes, a slider when the drag ends or rests (debounced), so undo takes back
 * one drag and everyone sees it through the usual edit path.
 */
export class StyleEditor {
  #options: StyleEditorOptions;
  #inputs = new Map<string, { field: Field; input: HTMLInputElement | HTMLSelectElement }>();
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #feature: StoredFeature | null = null;

  constructor(options: StyleEditorOptions) {
    this.#options = options;
  }

  /** Builds the fields for a feature; `null` when its geometry has no style to set. */
  render(feature: StoredFeature, editable: boolean): HTMLElement | null {
    this.cancel();
    this.#inputs.clear();
    this.#feature = feature;
    const fields = styleFields(feature.geometry?.type ?? null);
    if (fields.length === 0) return null;
    const rows = fields.map((field) => this.#row(field, editable));
    const el = h("fieldset", { class: "style-editor" }, h("legend", {}, "Style"), ...rows);
    this.sync(feature);
    return el;
  }

  /** Shows a feature's current values, leaving alone a field being changed right now. */
  sync(feature: StoredFeature): void {
    this.#feature = feature;
    const style = readStyle(feature.properties);
    for (const [key, { field, input }] of this.#inputs) {
      if (document.activeElement === input && field.kind !== "color") continue;
      if (this.#timers.has(key)) continue;
      const text = field.read(style);
      if (input.value !== text) input.value = text;
      const out = input.parentElement?.querySelector("output");
      if (out) out.textContent = text;
    }
  }

  /** Drops slider values not sent yet (the panel moved to another feature). */
  cancel(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  #row(field: Field, editable: boolean): HTMLElement {
    const id = `style-${field.key}`;
    let input: HTMLInputElement | HTMLSelectElement;
    if (field.kind === "size") {
      input = h(
        "select",
        { id, disabled: !editable },
        ...["small", "medium", "large"].map((s) => h("option", { value: s }, s)),
      );
    } else {
      input = h("input", {
        id,
        type: field.kind === "color" ? "color" : field.kind === "range" ? "range" : "text",
        disabled: !editable,
        ...(field.kind === "range"
          ? { min: String(field.min), max: String(field.max), step: String(field.step) }
          : {}),
        ...(field.kind === "symbol"
          ? { placeholder: "1, A or 🏠", maxlength: "8", autocomplete: "off" }
          : {}),
      });
    }
    input.dataset.key = field.key;
    this.#inputs.set(field.key, { field, input });
    const out = field.kind === "range" ? h("output", { for: id }) : null;
    if (editable) {
      if (field.kind === "range") {
        input.addEventListener("input", () => {
          if (out) out.textContent = input.value;
          this.#later(field, input);
        });
      }
      input.addEventListener("change", () => this.#send(field, input));
      if (field.kind === "symbol") {
        input.addEventListener("keydown", (e) => {
          if ((e as KeyboardEvent).key === "Enter") (input as HTMLInputElement).blur();
        });
      }
    }
    return h(
      "div",
      { class: "style-row", "data-key": field.key },
      h("label", { for: id }, field.label),
      input,
      ...(out ? [out] : []),
    );
  }

  /** A slider moved: send its value once it rests, unless the drag ends first. */
  #later(field: Field, input: HTMLInputElement | HTMLSelectElement): void {
    const old = this.#timers.get(field.key);
    if (old !== undefined) clearTimeout(old);
    this.#timers.set(
      field.key,
      setTimeout(() => this.#send(field, input), this.#options.debounceMs ?? 400),
    );
  }

  #send(field: Field, input: HTMLInputElement | HTMLSelectElement): void {
    const timer = this.#timers.get(field.key);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.#timers.delete(field.key);
    }
    const feature = this.#feature;
    if (!feature) return;
    const value = fieldValue(field.kind, input.value);
    const old = feature.properties[field.key];
    if (value === old) return;
    if (value === undefined) {
      if (old === undefined) return;
      this.#options.edit([{ op: "props", fid: feature.id, set: {}, unset: [field.key] }]);
      return;
    }
    this.#options.edit([{ op: "props", fid: feature.id, set: { [field.key]: value } }]);
  }
}
