/** Import (a picked or dropped GeoJSON file becomes one edit) and Export (a .geojson download). */
import { byId, h, toast } from "./dom.ts";
import { exportText, importOps } from "./geojson_io.ts";
import { randomId } from "./identity.ts";
import type { MapFeatures } from "./map_features.ts";
import type { Session } from "./session.ts";

/**
 * The download's file name for a map title: lower-case words joined by dashes, `map` if none.
 *
 * @example
 * ```ts
 * exportFileName("Trees of Paris (2024)"); // "trees-of-paris-2024.geojson"
 * ```
 */
export function exportFileName(title: string): string {
  const slug = (title || "map").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return `${slug || "map"}.geojson`;
}

/** The words for a finished import. */
export function importedNotice(count: number, file: string): string {
  return `Imported ${count} feature${count === 1 ? "" : "s"} from ${file}.`;
}

/** The Import and Export buttons and dropping a file on the page; a bad file changes nothing. */
export class ImportExport {
  #session: Session;
  #features: MapFeatures;
  #import = byId("import", HTMLButtonElement);
  #export = byId("export", HTMLButtonElement);
  #file = byId("import-file", HTMLInputElement);
  #dropHint = byId("drop-hint", HTMLElement);
  #pick = () => this.#file.click();
  #picked = () => {
    const file = this.#file.files?.[0];
    if (file) void this.importFile(file);
    this.#file.value = "";
  };
  #dragOver = (e: DragEvent) => {
    if (!this.#session.canEdit || !e.dataTransfer?.types.includes("Files")) return;
    e.preventDefault();
    this.#dropHint.hidden = false;
  };
  #dragLeave = (e: DragEvent) => {
    if (e.relatedTarget === null) this.#dropHint.hidden = true;
  };
  #drop = (e: DragEvent) => {
    this.#dropHint.hidden = true;
    const file = e.dataTransfer?.files[0];
    if (!file || !this.#session.canEdit) return;
    e.preventDefault();
    void this.importFile(file);
  };
  #download = () => this.exportFile();

  constructor(options: { session: Session; features: MapFeatures }) {
    this.#session = options.session;
    this.#features = options.features;
  }

  /** Lets the Import button be used (by editors, once welcomed). */
  enable(editor: boolean): void {
    this.#import.disabled = !editor;
  }

  /** Adds a file's features as one edit and shows them. */
  async importFile(file: File): Promise<void> {
    const session = this.#session;
    // Before welcome (or on a refused link) an import would only reach this page's copy.
    if (!session.canEdit) {
      toast("Nothing was imported: the map is not open for editing.", "error");
      return;
    }
    const result = importOps(await file.text(), {
      existing: session.doc.features,
      newId: () => `f-${randomId(16)}`,
    });
    if (!result.ok) {
      toast(`Nothing was imported from ${file.name}: ${result.message}`, "error");
      return;
    }
    const pending = session.edit(result.ops);
    const fids = result.ops.flatMap((op) => op.op === "put" ? [op.feature.id] : []);
    this.#features.fit(fids);
    if ((await pending).ok) toast(importedNotice(fids.length, file.name));
  }

  /** Downloads the map as GeoJSON. */
  exportFile(): void {
    let text: string;
    try {
      text = exportText(this.#session.doc.features.values());
    } catch (e) {
      toast(`The map could not be exported: ${e instanceof Error ? e.message : e}`, "error");
      return;
    }
    const url = URL.createObjectURL(new Blob([text], { type: "application/geo+json" }));
    const a = h("a", { href: url, download: exportFileName(this.#session.title) });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Listens to the buttons, the file input and drops on the page. */
  onAdd(): this {
    this.#import.addEventListener("click", this.#pick);
    this.#file.addEventListener("change", this.#picked);
    this.#export.addEventListener("click", this.#download);
    document.addEventListener("dragover", this.#dragOver);
    document.addEventListener("dragleave", this.#dragLeave);
    document.addEventListener("drop", this.#drop);
    return this;
  }

  /** Removes what {@link onAdd} added. */
  onRemove(): void {
    this.#import.removeEventListener("click", this.#pick);
    this.#file.removeEventListener("change", this.#picked);
    this.#export.removeEventListener("click", this.#download);
    document.removeEventListener("dragover", this.#dragOver);
    document.removeEventListener("dragleave", this.#dragLeave);
    document.removeEventListener("drop", this.#drop);
  }
}
