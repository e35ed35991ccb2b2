/** Exports (`GET .../features?format=`): written on a worker thread, a bounded few at once. */
import type { ExportedFile } from "./export_formats.ts";
import type { ExportFormat } from "./export_names.ts";
import type { StoredFeature } from "./protocol.ts";
import { onWorker, SlotsFullError, TaskSlots } from "./worker_task.ts";

/** What the worker is sent: the map's features as JSON text and the format. */
export interface ExportRequest {
  featuresJson: string;
  format: Exclude<ExportFormat, "geojson">;
}

/**
 * The worker's side: parse the features and write the file. The writers (tokml, shp-write, jszip)
 * are loaded here, on first use, so the relay's own thread never holds them.
 */
export async function answerExport(request: ExportRequest): Promise<ExportedFile> {
  const { exportFeatures } = await import("./export_formats.ts");
  const features = JSON.parse(request.featuresJson) as StoredFeature[];
  return await exportFeatures(features, request.format);
}

/** Writes exports on worker threads, at most `maxConcurrent` at once on the relay. */
export class Exports {
  #slots: TaskSlots;

  /** @param maxConcurrent exports written at once. @default 4 */
  constructor(maxConcurrent = 4) {
    if (!(Number.isSafeInteger(maxConcurrent) && maxConcurrent >= 1)) {
      throw new RangeError(
        `Cannot create Exports as 'maxConcurrent' must be a whole number >= 1: received ${maxConcurrent}`,
      );
    }
    this.#slots = new TaskSlots({ running: maxConcurrent, waiting: 0, what: "exports" });
  }

  /** The file, or `null` when `maxConcurrent` exports are already running (answer 503). */
  async write(request: ExportRequest): Promise<ExportedFile | null> {
    try {
      return await this.#slots.run(() =>
        onWorker(
          new URL("./export_worker.ts", import.meta.url),
          request,
          answerExport,
          "export_worker_failed",
        )
      );
    } catch (err) {
      if (err instanceof SlotsFullError) return null;
      throw err;
    }
  }
}
