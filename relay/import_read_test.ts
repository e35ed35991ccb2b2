/** Unit tests of reading an import feature by feature: what RFC 7946 allows is kept, the rest reported. */
import assert from "assert";
import { mixedImport } from "./_import_fixture.ts";
import { parseImport, readFeatures, splitOps } from "./import_read.ts";
import type { EditOp } from "./protocol.ts";

const LIMITS = { maxVertices: 100_000, maxPropsBytes: 65_536, maxFrameBytes: 4 << 20 };

Deno.test("readFeatures keeps null geometry, empty coordinates, holes, antimeridian splits; reports the rest exactly", () => {
  const file = mixedImport();
  const parsed = parseImport(JSON.parse(file.text), LIMITS);
  assert.ok(parsed.ok);
  assert.equal(parsed.total, 8);
  assert.deepEqual(parsed.features.map((f) => f.id), file.kept);
  assert.deepEqual(parsed.skipped, file.skipped);
  const [row, empty, holed, split] = parsed.features;
  assert.equal(row.geometry, null);
  assert.deepEqual(row.properties, { name: "no place" });
  assert.equal(empty.geometry, null, "empty coordinates are read as null (RFC 7946 3.1)");
  // Rewound by the right-hand rule: outer counter-clockwise, hole clockwise.
  assert.deepEqual(holed.geometry, {
    type: "Polygon",
    coordinates: [file.holed.outer, file.holed.hole],
  });
  assert.equal(split.geometry?.type, "MultiPolygon");
});

Deno.test("readFeatures skips a feature over the relay's limits, saying which limit", () => {
  const big = {
    type: "Feature",
    id: "big",
    geometry: { type: "LineString", coordinates: Array.from({ length: 11 }, (_, i) => [i, 0]) },
  };
  const props = { type: "Feature", geometry: null, properties: { t: "x".repeat(200) } };
  const r = readFeatures([big, props, { ...big, id: 3.5 }], {
    maxVertices: 10,
    maxPropsBytes: 100,
    maxFrameBytes: 4 << 20,
  });
  assert.deepEqual(r.features, []);
  assert.deepEqual(r.skipped, [
    { index: 0, id: "big", reason: "geometry has 11 positions; the relay takes at most 10" },
    { index: 1, reason: "properties are 208 bytes as JSON; the relay takes at most 100" },
    {
      index: 2,
      reason: "bad id: it must be a non-empty string of at most 256 characters or an integer",
    },
  ]);
  const frame = readFeatures([big], { ...LIMITS, maxFrameBytes: 600 });
  assert.match(
    frame.skipped[0].reason,
    /one edit may be at most 1 KB \(the relay's --max-frame-bytes\)/,
  );
});

Deno.test("parseImport refuses only a body that is not a FeatureCollection", () => {
  assert.deepEqual(parseImport([], LIMITS), {
    ok: false,
    error: 'type must be "FeatureCollection"',
  });
  assert.deepEqual(parseImport({ type: "FeatureCollection" }, LIMITS), {
    ok: false,
    error: "features must be an array",
  });
});

Deno.test("splitOps keeps each edit under the ops and bytes limits, in order", () => {
  const ops: EditOp[] = Array.from({ length: 25 }, (_, i) => ({ op: "del", fid: `f${i}` }));
  const byOps = splitOps(ops, () => 10, { maxOps: 10, maxBytes: 1 << 20 });
  assert.deepEqual(byOps.map((b) => b.length), [10, 10, 5]);
  const byBytes = splitOps(ops, () => 100, { maxOps: 100, maxBytes: 512 + 1000 });
  assert.deepEqual(byBytes.map((b) => b.length), [10, 10, 5]);
  assert.deepEqual(byBytes.flat(), ops);
  // One op over the budget still goes alone (the reader has already skipped what cannot fit).
  assert.deepEqual(splitOps(ops.slice(0, 2), () => 5000, { maxOps: 10, maxBytes: 1000 }).length, 2);
});
