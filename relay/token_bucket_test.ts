/** Unit tests of the token bucket with a fake clock. */
import assert from "assert";
import { TokenBucket } from "./token_bucket.ts";

Deno.test("TokenBucket allows a burst, then refills at the rate", () => {
  let now = 0;
  const bucket = new TokenBucket({ rate: 10, burst: 3, now: () => now });
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [
    true,
    true,
    true,
    false,
  ]);
  now += 100; // one token at 10/s
  assert.equal(bucket.take(), true);
  assert.equal(bucket.take(), false);
  now += 10_000; // refills only up to the burst
  assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [
    true,
    true,
    true,
    false,
  ]);
});

Deno.test("TokenBucket rejects nonsense options with what it received", () => {
  assert.throws(
    () => new TokenBucket({ rate: -3, burst: 1, now: () => 0 }),
    /'rate' must be a finite number > 0: received -3/,
  );
  assert.throws(
    () => new TokenBucket({ rate: 1, burst: 0, now: () => 0 }),
    /'burst' must be a finite number >= 1: received 0/,
  );
});
