/** Entry point of a history task's worker thread: a big past state or page is parsed off the relay's event loop (PostgreSQL; SQLite reads on its own reader thread). */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { answerHistoryTask } from "./history_task.ts";
import type { HistoryTask } from "./history_task.ts";

self.onmessage = (event: MessageEvent<HistoryTask>) => {
  self.postMessage(answerHistoryTask(event.data));
};
