/** Entry point of the history reader's worker thread: past states of maps, off the event loop. */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { createReaderHandler } from "./history_reader.ts";
import type { ReaderRequest } from "./history_reader.ts";

const handle = createReaderHandler();
self.onmessage = (event: MessageEvent<ReaderRequest>) => self.postMessage(handle(event.data));
