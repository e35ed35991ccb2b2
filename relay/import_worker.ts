/** Entry point of an import's worker thread: reading (JSON.parse, or another format's reader) and validation, off the relay's event loop. */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { answerImport } from "./imports.ts";
import type { WorkerRequest } from "./imports.ts";

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  self.postMessage(await answerImport(event.data));
};
