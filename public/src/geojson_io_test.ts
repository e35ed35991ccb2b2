/** Tests for GeoJSON import (valid features kept, the rest reported, split into edits) and export. */
import assert from "assert";
import { DEFAULT_IMPORT_LIMITS, exportText, importOps } from "./geojson_io.ts";

const options = () => {
  let n = 0;
  return { existing: new Set(["taken"]), newId: () => `new-${++n}` };
};

Deno.test("a FeatureCollection becomes one put per feature; clashing or missing ids are replaced", () => {
  const text = JSON.stringify({
    type: "FeatureCollection",
    features: [
      {
        type: "Feature",
        id: "keep",
        geometry: { type: "Point", coordinates: [1, 2] },
        properties: { a: 1 },
      },
      {
        type: "Feature",
        id: "taken",
        geometry: { type: "Point", coordinates: [3, 4] },
        properties: null,
      },
      {
        type: "Feature",
        geometry: { type: "LineString", coordinates: [[0, 0], [1, 1]] },
      },
    ],
  });
  const result = importOps(text, options());
  assert.ok(result.ok);
  assert.deepEqual(
    result.batches.flat().map((op) => op.op === "put" ? op.feature.id : ""),
    ["keep", "new-1", "new-2"],
  );
  const round = JSON.parse(
    exportText(
      result.batches.flat().flatMap((op) =>
        op.op === "put" ? [{ ...op.feature, properties: op.feature.properties ?? {} }] : []
      ),
    ),
  );
  assert.equal(round.features.length, 3);
  assert.deepEqual(round.features[0].properties, { a: 1 });
});

Deno.test("bad files are refused with a message that says what is wrong; bad features are skipped", () => {
  const o = options();
  assert.deepEqual(importOps("nope", o), {
    ok: false,
    message: "The file is not JSON, so it cannot be GeoJSON.",
  });
  const some = importOps(
    JSON.stringify({
      type: "FeatureCollection",
      features: [
        { type: "Feature", geometry: { type: "Point", coordinates: [1, 2] } },
        { type: "Feature", id: "far", geometry: { type: "Point", coordinates: [500, 2] } },
      ],
    }),
    o,
  );
  assert.ok(some.ok);
  assert.equal(some.count, 1);
  assert.deepEqual(some.skipped, [{
    index: 1,
    id: "far",
    reason: "bad geometry: coordinates: longitude 500 is outside -180..180",
  }]);
  const none = importOps(
    JSON.stringify({ type: "Feature", geometry: { type: "Point", coordinates: [500, 2] } }),
    o,
  );
  assert.match(none.ok ? "" : none.message, /^The feature cannot be imported: .*longitude/);
  assert.equal(
    importOps('{"type":"FeatureCollection","features":[]}', o).ok,
    false,
  );
});

Deno.test("export writes a map holding a property nested 20 000 levels deep", () => {
  let deep: unknown = "bottom";
  for (let i = 0; i < 20_000; i++) deep = { down: deep };
  const features = [{
    type: "Feature" as const,
    id: "deep",
    geometry: { type: "Point" as const, coordinates: [1, 2] },
    properties: { deep },
  }];
  const parsed = JSON.parse(exportText(features));
  assert.equal(parsed.type, "FeatureCollection");
  let v = parsed.features[0].properties.deep;
  let levels = 0;
  while (typeof v === "object") {
    v = v.down;
    levels++;
  }
  assert.deepEqual([levels, v], [20_000, "bottom"]);
});

Deno.test("a file whose properties nest deeper than the relay accepts is refused before anything is sent", () => {
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = { down: deep };
  const text = JSON.stringify({
    type: "Feature",
    geometry: { type: "Point", coordinates: [1, 2] },
    properties: { deep },
  });
  const result = importOps(text, options());
  assert.equal(result.ok, false);
  assert.match(result.ok ? "" : result.message, /nested more than 32 levels deep/);
});

Deno.test("a file over the relay's limits is split into edits under them: 10 001 points", () => {
  const features = Array.from({ length: 10_001 }, (_, i) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: [(i % 360) - 180, (i % 170) - 85] },
    properties: { i, label: `point number ${i}` },
  }));
  const result = importOps(JSON.stringify({ type: "FeatureCollection", features }), {
    ...options(),
    limits: { ...DEFAULT_IMPORT_LIMITS, maxFrameBytes: 200_000 },
  });
  assert.ok(result.ok);
  assert.equal(result.count, 10_001);
  assert.ok(result.batches.length > 1);
  for (const batch of result.batches) {
    assert.ok(batch.length <= DEFAULT_IMPORT_LIMITS.maxOps);
    const frame = JSON.stringify({ type: "edit", id: "c-123456", ops: batch });
    assert.ok(new TextEncoder().encode(frame).length <= 200_000, `${frame.length}`);
  }
});

Deno.test("exportText: leaves out who last changed each feature (meta); style properties stay", () => {
  const parsed = JSON.parse(exportText([{
    type: "Feature",
    id: "a",
    geometry: { type: "Point", coordinates: [1, 2] },
    properties: { "marker-color": "#00aa55", fill: "#ff8800" },
    meta: { by: "Ann", color: "#e11d48", at: 1 },
  }]));
  assert.deepEqual(parsed.features, [{
    type: "Feature",
    id: "a",
    geometry: { type: "Point", coordinates: [1, 2] },
    properties: { "marker-color": "#00aa55", fill: "#ff8800" },
  }]);
});
