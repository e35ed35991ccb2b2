/** Unit tests for the status line's words. */
import assert from "assert";
import { statusText } from "./status_view.ts";

Deno.test("statusText says how the page is connected and what waits", () => {
  assert.equal(
    statusText({ state: "connecting", transport: "websocket", unsent: 0 }),
    "Connecting…",
  );
  assert.equal(
    statusText({ state: "connecting", transport: "websocket", unsent: 1 }),
    "Connecting… · 1 unsent edit",
  );
  assert.equal(statusText({ state: "live", transport: "http", unsent: 0 }), "Live · http");
  assert.equal(
    statusText({ state: "live", transport: "websocket", unsent: 2 }),
    "Live · websocket · saving 2",
  );
  assert.equal(
    statusText({ state: "offline", transport: "websocket", unsent: 3, retryInMs: 1200 }),
    "Offline · 3 unsent edits · retrying in 2 s",
  );
  assert.equal(
    statusText({ state: "failed", transport: "websocket", unsent: 0, reason: "gone" }),
    "Link not valid",
  );
});
