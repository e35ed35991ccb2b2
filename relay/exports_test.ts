/** Exports written on a worker thread, a bounded few at once. */
import assert from "assert";
import { exportFeatures } from "./export_formats.ts";
import { Exports } from "./exports.ts";
import type { StoredFeature } from "./protocol.ts";

const FEATURES: StoredFeature[] = [
  {
    type: "Feature",
    id: "a",
    geometry: { type: "Point", coordinates: [1, 2] },
    properties: { n: 1 },
  },
  { type: "Feature", id: "b", geometry: null, properties: { n: 2 } },
];

Deno.test("Exports writes on a worker the same file as in process", async () => {
  const exports = new Exports();
  for (const format of ["csv", "kml", "gpx"] as const) {
    const worker = await exports.write({ featuresJson: JSON.stringify(FEATURES), format });
    assert.deepEqual(worker, await exportFeatures(FEATURES, format), format);
  }
  const shp = await exports.write({ featuresJson: JSON.stringify(FEATURES), format: "shp" });
  assert.ok(shp && shp.body instanceof Uint8Array && shp.body.length > 0);
  assert.equal(shp.skipped, 1);
});

Deno.test("Exports refuses an export past maxConcurrent instead of queueing it", async () => {
  const exports = new Exports(1);
  const first = exports.write({ featuresJson: JSON.stringify(FEATURES), format: "csv" });
  assert.equal(await exports.write({ featuresJson: "[]", format: "csv" }), null);
  assert.ok(await first);
  assert.ok(await exports.write({ featuresJson: "[]", format: "csv" }), "a slot is free again");
  assert.throws(() => new Exports(0), /'maxConcurrent' must be a whole number >= 1: received 0/);
});
