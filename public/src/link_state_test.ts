/** Tests for reading the welcome timeout from the page's query. */
import assert from "assert";
import { welcomeTimeoutFrom } from "./link_state.ts";

Deno.test("the welcome timeout comes from the query, within bounds, or is left to the default", () => {
  assert.equal(welcomeTimeoutFrom("?welcomeTimeoutMs=2000"), 2000);
  assert.equal(welcomeTimeoutFrom("?welcomeTimeoutMs=1"), 500);
  assert.equal(welcomeTimeoutFrom("?welcomeTimeoutMs=99999999"), 120_000);
  assert.equal(welcomeTimeoutFrom("?welcomeTimeoutMs=-5"), undefined);
  assert.equal(welcomeTimeoutFrom("?welcomeTimeoutMs=abc"), undefined);
  assert.equal(welcomeTimeoutFrom(""), undefined);
});
