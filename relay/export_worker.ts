/** Entry point of an export's worker thread: a big map's KML or Shapefile takes seconds to write, off the relay's event loop. */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { answerExport } from "./exports.ts";
import type { ExportRequest } from "./exports.ts";

self.onmessage = async (event: MessageEvent<ExportRequest>) => {
  self.postMessage(await answerExport(event.data));
};
