/** Unit tests of AddressBuckets with a fake clock. */
import assert from "assert";
import { AddressBuckets } from "./address_limits.ts";

Deno.test("AddressBuckets: each address has its own burst, refilled at the rate", () => {
  let now = 0;
  const buckets = new AddressBuckets({ rate: 1 / 6, burst: 2, now: () => now });
  assert.equal(buckets.take("a"), true);
  assert.equal(buckets.take("a"), true);
  assert.equal(buckets.take("a"), false);
  assert.equal(buckets.take("b"), true, "another address is not affected");
  assert.equal(buckets.retryAfterSeconds, 6);
  now += 6000;
  assert.equal(buckets.take("a"), true);
  assert.equal(buckets.take("a"), false);
});

Deno.test("AddressBuckets: the table is bounded; the least recently seen address is forgotten", () => {
  const buckets = new AddressBuckets({ rate: 1, burst: 1, now: () => 0, maxAddresses: 3 });
  for (const addr of ["a", "b", "c"]) assert.equal(buckets.take(addr), true);
  assert.equal(buckets.take("a"), false, "a is now the most recent");
  for (let i = 0; i < 100; i++) buckets.take(`x${i}`);
  assert.equal(buckets.size, 3);
});

Deno.test("AddressBuckets: bad options are refused with what was received", () => {
  assert.throws(
    () => new AddressBuckets({ rate: 1, burst: 1, now: Date.now, maxAddresses: 0 }),
    /maxAddresses.*received 0/,
  );
  assert.throws(() => new AddressBuckets({ rate: 0, burst: 1, now: Date.now }), /rate/);
});
