/** The Export button's menu: the map as GeoJSON, KML, CSV, zipped Shapefile or GPX, named from the map title. */
import { h, saveFile, toast } from "./dom.ts";
import { exportText } from "./geojson_io.ts";
import { EXPORT_FORMATS, exportName, FORMAT_INFO } from "../../relay/export_names.ts";
import type { ExportFormat } from "../../relay/export_names.ts";
import type * as Formats from "./formats_entry.ts";
import type { Session } from "./session.ts";

/** What each menu item says a format keeps and loses. */
const HINTS: Record<ExportFormat, string> = {
  geojson: "Everything, as stored",
  kml: "Google Earth; features without geometry are left out",
  csv: "A spreadsheet: geometry as WKT, lat/lon for points",
  shp: "One Shapefile per geometry type; names cut to 10 characters",
  gpx: "GPS: points and lines only; polygons are left out",
};

/** Opens a small menu of formats under the Export button; picking one downloads the map. */
export class ExportMenu {
  #session: Session;
  #button: HTMLButtonElement;
  #menu: HTMLElement;
  #toggle = () => this.#menu.hidden ? this.open() : this.close();
  #outside = (e: Event) => {
    if (
      !this.#menu.hidden && e.target instanceof Node && !this.#menu.contains(e.target) &&
      !this.#button.contains(e.target)
    ) this.close();
  };
  #key = (e: KeyboardEvent) => {
    if (e.key === "Escape" && !this.#menu.hidden) {
      this.close();
      this.#button.focus();
    }
  };

  constructor(options: {
    session: Session;
    button: HTMLButtonElement;
    /** Further entries after the formats (the comments layer). */
    more?: { label: string; title: string; run: () => void }[];
  }) {
    this.#session = options.session;
    this.#button = options.button;
    this.#menu = h(
      "div",
      { class: "export-menu", role: "menu", "aria-label": "Export format", hidden: true },
      ...EXPORT_FORMATS.map((format) =>
        h("button", {
          type: "button",
          role: "menuitem",
          "data-format": format,
          title: HINTS[format],
          onclick: () => {
            this.close();
            void this.download(format);
          },
        }, FORMAT_INFO[format].label)
      ),
      ...(options.more ?? []).map((item) =>
        h("button", {
          type: "button",
          role: "menuitem",
          title: item.title,
          onclick: () => {
            this.close();
            item.run();
          },
        }, item.label)
      ),
    );
  }

  /** Shows the menu under the button. */
  open(): void {
    const box = this.#button.getBoundingClientRect();
    this.#menu.style.top = `${box.bottom + 4}px`;
    this.#menu.style.right = `${Math.max(4, innerWidth - box.right)}px`;
    this.#menu.hidden = false;
    this.#button.setAttribute("aria-expanded", "true");
    this.#menu.querySelector("button")?.focus();
  }

  /** Hides the menu. */
  close(): void {
    this.#menu.hidden = true;
    this.#button.setAttribute("aria-expanded", "false");
  }

  /** Downloads the map in `format`; says what the format left out. */
  async download(format: ExportFormat): Promise<void> {
    const features = [...this.#session.doc.features.values()];
    let body: string | Uint8Array<ArrayBuffer>;
    let note = "";
    try {
      if (format === "geojson") body = exportText(features);
      else {
        // The writers (tokml, shp-write, jszip) are in formats.js, loaded on the first such export.
        const formats: typeof Formats = await import(
          new URL("./formats.js", import.meta.url).href
        );
        ({ body, note } = await formats.exportFeatures(features, format));
      }
    } catch (e) {
      toast(`The map could not be exported: ${e instanceof Error ? e.message : e}`, "error");
      return;
    }
    const name = exportName(this.#session.title, format);
    saveFile(new Blob([body], { type: FORMAT_INFO[format].type }), name);
    if (note) toast(`Exported ${name}: ${note}.`);
  }

  /** Adds the menu to the page and listens to the button. */
  onAdd(): this {
    document.body.append(this.#menu);
    this.#button.setAttribute("aria-haspopup", "menu");
    this.#button.setAttribute("aria-expanded", "false");
    this.#button.addEventListener("click", this.#toggle);
    document.addEventListener("pointerdown", this.#outside);
    document.addEventListener("keydown", this.#key);
    return this;
  }

  /** Removes what {@link onAdd} added. */
  onRemove(): void {
    this.#menu.remove();
    this.#button.removeEventListener("click", this.#toggle);
    document.removeEventListener("pointerdown", this.#outside);
    document.removeEventListener("keydown", this.#key);
  }
}
