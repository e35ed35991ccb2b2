/** Unit tests for the latency histogram. */
import assert from "assert";
import { Histogram } from "./histogram.ts";

Deno.test("Histogram answers quantiles within its precision", () => {
  const h = new Histogram();
  for (let i = 1; i <= 100_000; i++) h.record(i);
  for (const [q, want] of [[0.5, 50_000], [0.99, 99_000], [0.999, 99_900]]) {
    const got = h.quantile(q);
    assert.ok(Math.abs(got - want) / want < 0.02, `q${q}: got ${got}, want ~${want}`);
  }
  assert.equal(h.count, 100_000);
  assert.equal(h.max, 100_000);
});

Deno.test("Histogram is exact for small values and empty-safe", () => {
  const h = new Histogram();
  assert.ok(Number.isNaN(h.quantile(0.5)));
  h.record(3);
  h.record(3);
  h.record(7);
  assert.equal(h.quantile(0.5), 3);
  assert.equal(h.quantile(1), 7);
});

Deno.test("Histogram merge adds counts", () => {
  const a = new Histogram();
  const b = new Histogram();
  a.record(10);
  b.record(1000);
  a.merge(b);
  assert.equal(a.count, 2);
  assert.ok(Math.abs(a.quantile(1) - 1000) < 20);
});

Deno.test("Histogram rejects a bad shape", () => {
  assert.throws(() => new Histogram({ subBuckets: 1 }), /subBuckets/);
});

Deno.test("Histogram survives JSON between processes and merges", () => {
  const a = new Histogram();
  for (let i = 1; i <= 1000; i++) a.record(i * 10);
  const b = Histogram.fromJSON(JSON.parse(JSON.stringify(a)));
  assert.equal(b.count, 1000);
  assert.equal(b.quantile(0.5), a.quantile(0.5));
  b.merge(Histogram.fromJSON(JSON.parse(JSON.stringify(new Histogram()))));
  assert.equal(b.max, 10_000);
  assert.equal(b.quantile(0.99), a.quantile(0.99));
});
