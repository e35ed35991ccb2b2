/** Import (a picked or dropped GeoJSON file becomes edits, with a progress bar) and Export (a .geojson download). */
import { byId, h, saveFile, toast } from "./dom.ts";
import { DEFAULT_IMPORT_LIMITS, exportText, skippedList } from "./geojson_io.ts";
import { readImportFile } from "./import_file.ts";
import type { PageConfig } from "./page_map.ts";
import type { ImportLimits } from "./geojson_io.ts";
import type { SkippedFeature } from "../../relay/import_read.ts";
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

/**
 * The words for a finished import that skipped features: which ones and why.
 *
 * @example
 * ```ts
 * importSummary(1, 2, [{ index: 1, reason: "bad geometry" }], "a.geojson");
 * // "Imported 1 of 2 features from a.geojson; 1 skipped: #1: bad geometry."
 * ```
 */
export function importSummary(
  count: number,
  total: number,
  skipped: readonly SkippedFeature[],
  file: string,
): string {
  if (skipped.length === 0) return importedNotice(count, file);
  return `Imported ${count} of ${total} features from ${file}; ${skipped.length} skipped: ${
    skippedList(skipped)
  }.`;
}

/** The limits imports follow, from the relay's `/api/config` (its defaults where it says nothing). */
export function importLimits(config: PageConfig): ImportLimits {
  return {
    maxVertices: config.maxVertices ?? DEFAULT_IMPORT_LIMITS.maxVertices,
    maxPropsBytes: config.maxPropsBytes ?? DEFAULT_IMPORT_LIMITS.maxPropsBytes,
    maxFrameBytes: config.maxFrameBytes ?? DEFAULT_IMPORT_LIMITS.maxFrameBytes,
    maxOps: config.maxOpsPerEdit ?? DEFAULT_IMPORT_LIMITS.maxOps,
  };
}

/** The Import button and dropping a file on the page; a bad file changes nothing. */
export class ImportExport {
  #session: Session;
  #features: MapFeatures;
  #import = byId("import", HTMLButtonElement);
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
  #limits?: ImportLimits;

  constructor(options: { session: Session; features: MapFeatures; limits?: ImportLimits }) {
    this.#session = options.session;
    this.#features = options.features;
    this.#limits = options.limits;
  }

  /** Lets the Import button be used (by editors, once welcomed). */
  enable(editor: boolean): void {
    this.#import.disabled = !editor;
  }

  /**
   * Adds a file's valid features and shows them: as many edits as the relay's limits need, sent
   * one after another with a progress bar; then says what was imported and what was skipped.
   */
  async importFile(file: File): Promise<void> {
    const session = this.#session;
    // Before welcome (or on a refused link) an import would only reach this page's copy.
    if (!session.canEdit) {
      toast("Nothing was imported: the map is not open for editing.", "error");
      return;
    }
    const result = await readImportFile(file, {
      existing: session.doc.features,
      newId: () => `f-${randomId(16)}`,
      limits: this.#limits,
    });
    if (!result.ok) {
      toast(`Nothing was imported from ${file.name}: ${result.message}`, "error");
      return;
    }
    const progress = new ImportProgress(file.name, result.count);
    const fids: string[] = [];
    let done = 0;
    try {
      for (const batch of result.batches) {
        const outcome = await session.edit(batch);
        if (!outcome.ok) {
          toast(
            `The import of ${file.name} stopped after ${done} of ${result.count} features: ` +
              outcome.message,
            "error",
          );
          break;
        }
        for (const op of batch) if (op.op === "put") fids.push(op.feature.id);
        done += batch.length;
        progress.set(done);
      }
    } finally {
      progress.remove();
    }
    this.#features.fit(fids);
    if (done === result.count) {
      toast(importSummary(done, result.total, result.skipped, file.name));
    }
  }

  /** Downloads the map as GeoJSON (the Export button's menu, public/src/export_menu.ts, offers every format). */
  exportFile(): void {
    let text: string;
    try {
      text = exportText(this.#session.doc.features.values());
    } catch (e) {
      toast(`The map could not be exported: ${e instanceof Error ? e.message : e}`, "error");
      return;
    }
    saveFile(
      new Blob([text], { type: "application/geo+json" }),
      exportFileName(this.#session.title),
    );
  }

  /** Listens to the buttons, the file input and drops on the page. */
  onAdd(): this {
    this.#import.addEventListener("click", this.#pick);
    this.#file.addEventListener("change", this.#picked);
    document.addEventListener("dragover", this.#dragOver);
    document.addEventListener("dragleave", this.#dragLeave);
    document.addEventListener("drop", this.#drop);
    return this;
  }

  /** Removes what {@link onAdd} added. */
  onRemove(): void {
    this.#import.removeEventListener("click", this.#pick);
    this.#file.removeEventListener("change", this.#picked);
    document.removeEventListener("dragover", this.#dragOver);
    document.removeEventListener("dragleave", this.#dragLeave);
    document.removeEventListener("drop", this.#drop);
  }
}

/** The progress bar of a running import, in the corner of the page. */
class ImportProgress {
  #bar: HTMLProgressElement;
  #text: HTMLElement;
  #box: HTMLElement;
  #file: string;
  #total: number;

  constructor(file: string, total: number) {
    this.#file = file;
    this.#total = total;
    this.#bar = h("progress", { max: String(total), value: "0" }) as HTMLProgressElement;
    this.#text = h("span", {}, "");
    this.#box = h("div", { class: "import-progress", role: "status" }, this.#text, this.#bar);
    this.set(0);
    document.body.append(this.#box);
  }

  /** Shows `done` features as imported. */
  set(done: number): void {
    this.#bar.value = done;
    this.#text.textContent = `Importing ${this.#file}: ${done} of ${this.#total} features`;
  }

  /** Takes the bar away. */
  remove(): void {
    this.#box.remove();
  }
}
