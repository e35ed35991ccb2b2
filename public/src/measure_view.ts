/** The selected feature's measurements in the properties panel: length, or area and perimeter. */
import type { Geometry } from "../../relay/geometry.ts";
import { h } from "./dom.ts";
import { measurementLines } from "./measure.ts";
import { usesImperial } from "./scale_bar.ts";

/** An element that shows a geometry's measurements ({@link showMeasurement} fills it). */
export function measurementView(geometry: Geometry | null): HTMLElement {
  const el = h("dl", { class: "measurement", "aria-label": "Measurements" });
  showMeasurement(el, geometry);
  return el;
}

/** Fills `el` with `geometry`'s measurements, in imperial too where the browser's locale is. */
export function showMeasurement(el: HTMLElement, geometry: Geometry | null): void {
  const lines = measurementLines(geometry, usesImperial(navigator.language));
  el.hidden = lines.length === 0;
  el.replaceChildren(
    ...lines.flatMap(([label, value]) => [
      h("dt", {}, label),
      h("dd", { "data-measure": label.toLowerCase() }, value),
    ]),
  );
}
