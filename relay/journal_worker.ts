/** Entry point of the journal's worker thread: SQLite writes, off the relay's event loop. */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { createJournalHandler } from "./journal.ts";
import type { JournalRequest } from "./journal.ts";

const handle = createJournalHandler((reply) => self.postMessage(reply));
self.onmessage = (event: MessageEvent<JournalRequest>) => handle(event.data);
