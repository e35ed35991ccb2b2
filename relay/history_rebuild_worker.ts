/** Entry point of a history rebuild's worker thread: a big map's state at an old seq is parsed and replayed off the relay's event loop (PostgreSQL; SQLite reads on its own reader thread). */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { answerRebuild } from "./history_state.ts";
import type { RebuildRequest } from "./history_state.ts";

self.onmessage = (event: MessageEvent<RebuildRequest>) => {
  self.postMessage(answerRebuild(event.data));
};
