/** Unit tests of Imports: admission bounds, and parsing on a real worker thread. */
import assert from "assert";
import { mixedImport } from "./_import_fixture.ts";
import { Imports } from "./imports.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const LIMITS = { maxVertices: 100_000, maxPropsBytes: 65_536, maxFrameBytes: 4 << 20 };

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

Deno.test("Imports: a worker parses and validates; the features come back whole, a bad body as 400/422", async () => {
  const imports = new Imports();
  const features = Array.from({ length: 2500 }, (_, i) => ({
    type: "Feature",
    id: `f${i}`,
    geometry: { type: "Point", coordinates: [i % 180, 0] },
    properties: { i },
  }));
  const parsed = await imports.parse(encode({ type: "FeatureCollection", features }), LIMITS);
  assert.ok(parsed.ok);
  assert.equal(parsed.features.length, 2500);
  const last = parsed.features[2499];
  assert.deepEqual(
    { type: "Feature", id: last.id, geometry: last.geometry, properties: last.properties },
    features[2499],
  );
  const bad = await imports.parse(new TextEncoder().encode("{"), LIMITS);
  assert.deepEqual(bad, { ok: false, status: 400, message: "body is not valid JSON" });
  const invalid = await imports.parse(encode({ type: "FeatureCollection", features: 1 }), LIMITS);
  assert.equal(invalid.ok, false);
  assert.equal(!invalid.ok && invalid.status, 422);
});

Deno.test("Imports: on the worker, bad features are skipped with their index, id and reason", async () => {
  const file = mixedImport();
  const parsed = await new Imports().parse(new TextEncoder().encode(file.text), LIMITS);
  assert.ok(parsed.ok);
  assert.equal(parsed.total, 8);
  assert.deepEqual(parsed.features.map((f) => f.id), file.kept);
  assert.deepEqual(parsed.skipped, file.skipped);
});
