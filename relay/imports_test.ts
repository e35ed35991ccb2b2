/** Unit tests of Imports: admission bounds, and parsing on a real worker thread. */
import assert from "assert";
import { Imports } from "./imports.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

Deno.test("Imports: one per map, one per address, maxConcurrent in all; release frees the slot", () => {
  const imports = new Imports({ maxConcurrent: 2 });
  const a = imports.begin("m1", "203.0.113.1");
  assert.ok(a.ok);
  assert.deepEqual(imports.begin("m1", "203.0.113.2"), { ok: false, reason: "map" });
  assert.deepEqual(imports.begin("m2", "203.0.113.1"), { ok: false, reason: "addr" });
  const b = imports.begin("m2", "203.0.113.2");
  assert.ok(b.ok);
  assert.deepEqual(imports.begin("m3", "203.0.113.3"), { ok: false, reason: "relay" });
  a.release();
  a.release();
  assert.ok(imports.begin("m3", "203.0.113.3").ok);
  assert.throws(() => new Imports({ maxConcurrent: 0 }), /maxConcurrent.*received 0/);
});

Deno.test("Imports: a worker parses and validates; the features come back whole, errors as 400/422", async () => {
  const imports = new Imports();
  const features = Array.from({ length: 2500 }, (_, i) => ({
    type: "Feature",
    id: `f${i}`,
    geometry: { type: "Point", coordinates: [i % 180, 0] },
    properties: { i },
  }));
  const parsed = await imports.parse(encode({ type: "FeatureCollection", features }));
  assert.ok(parsed.ok);
  assert.equal(parsed.features.length, 2500);
  assert.deepEqual(parsed.features[2499], features[2499]);
  const bad = await imports.parse(new TextEncoder().encode("{"));
  assert.deepEqual(bad, { ok: false, status: 400, message: "body is not valid JSON" });
  const invalid = await imports.parse(encode({ type: "FeatureCollection", features: [{}] }));
  assert.equal(invalid.ok, false);
  assert.equal(!invalid.ok && invalid.status, 422);
});
