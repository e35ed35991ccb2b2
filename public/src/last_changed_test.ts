/** Unit tests for the "Changed by" wording. */
import assert from "assert";
import { ago, changedText } from "./last_changed.ts";

Deno.test("changedText: names the author and how long ago, in words", () => {
  const at = 1_000_000;
  assert.equal(
    changedText({ by: "Ann", color: "#aa0000", at }, at + 120_000),
    "Changed by Ann, 2 min ago",
  );
  assert.equal(changedText(undefined, at), null);
  assert.equal(ago(at, at + 1000), "just now");
  assert.equal(ago(at, at - 5000), "just now", "a peer's clock ahead of ours is not the future");
  assert.equal(ago(at, at + 30_000), "30 s ago");
  assert.equal(ago(at, at + 3 * 3600_000), "3 h ago");
  assert.equal(ago(at, at + 72 * 3600_000), "3 days ago");
});
