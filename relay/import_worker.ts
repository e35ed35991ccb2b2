/** Entry point of an import's worker thread: JSON.parse and validation, off the relay's event loop. */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { answerImport } from "./imports.ts";
import type { WorkerRequest } from "./imports.ts";

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  self.postMessage(answerImport(event.data));
};
