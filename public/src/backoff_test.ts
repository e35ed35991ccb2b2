/** Tests for reconnect backoff with jitter. */
import assert from "assert";
import { backoffDelay } from "./backoff.ts";

Deno.test("backoff doubles, is capped, and the jitter keeps it between half and all of the step", () => {
  assert.deepEqual([0, 1, 2, 3].map((n) => backoffDelay(n, () => 0)), [
    250,
    500,
    1000,
    2000,
  ]);
  assert.equal(backoffDelay(40, () => 0.999_999), 15_000);
  for (let i = 0; i < 50; i++) {
    const d = backoffDelay(2, Math.random);
    assert.ok(d >= 1000 && d <= 2000, `delay ${d} outside 1000..2000`);
  }
  assert.throws(() => backoffDelay(-1, Math.random), RangeError);
});
