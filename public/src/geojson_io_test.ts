/** Tests for GeoJSON import (all or nothing, clear messages) and export. */
import assert from "assert";
import { exportText, importOps } from "./geojson_io.ts";

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
    result.ops.map((op) => op.op === "put" ? op.feature.id : ""),
    ["keep", "new-1", "new-2"],
  );
  const round = JSON.parse(
    exportText(
      result.ops.flatMap((op) =>
        op.op === "put" ? [{ ...op.feature, properties: op.feature.properties ?? {} }] : []
      ),
    ),
  );
  assert.equal(round.features.length, 3);
  assert.deepEqual(round.features[0].properties, { a: 1 });
});

Deno.test("bad files are refused with a message that says what is wrong", () => {
  const o = options();
  assert.deepEqual(importOps("nope", o), {
    ok: false,
    message: "The file is not JSON, so it cannot be GeoJSON.",
  });
  const bad = importOps(
    JSON.stringify({
      type: "FeatureCollection",
      features: [
        { type: "Feature", geometry: { type: "Point", coordinates: [1, 2] } },
        { type: "Feature", geometry: { type: "Point", coordinates: [500, 2] } },
      ],
    }),
    o,
  );
  assert.equal(bad.ok, false);
  assert.match(
    bad.ok ? "" : bad.message,
    /^Feature 2 has a bad geometry: .*longitude/,
  );
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
