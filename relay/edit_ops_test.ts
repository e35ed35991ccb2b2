/** Unit tests of the edit ops shared by the relay and the client: apply, limits, inverse. */
import assert from "assert";
import { applyOp, applyOps, type FeatureMap, inverseOps } from "./edit_ops.ts";
import type { EditOp, Geometry, StoredFeature } from "./protocol.ts";

const LIMITS = { maxFeatures: 100, maxVertices: 1000, maxPropsBytes: 1024 };
const NO_LIMITS = { maxFeatures: Infinity, maxVertices: Infinity, maxPropsBytes: Infinity };

const point = (lng = 1, lat = 2): Geometry => ({ type: "Point", coordinates: [lng, lat] });
const put = (id: string, properties: Record<string, unknown> = {}, geometry = point()): EditOp => ({
  op: "put",
  feature: { type: "Feature", id, geometry, properties },
});
const feature = (
  id: string,
  x: number,
  properties: Record<string, unknown> = {},
): StoredFeature => ({
  type: "Feature",
  id,
  geometry: { type: "Point", coordinates: [x, 0] },
  properties,
});

Deno.test("applyOps applies put, geom, props and del in order without touching the input", () => {
  const before = new Map<string, StoredFeature>();
  const result = applyOps(before, [
    put("a", { name: "A", n: 1 }),
    put("b"),
    { op: "geom", fid: "a", geometry: point(5, 5) },
    { op: "props", fid: "a", set: { n: 2, x: true }, unset: ["name"] },
    { op: "del", fid: "b" },
  ], LIMITS);
  assert.ok(result.ok);
  assert.deepEqual(result.changes.get("a"), {
    type: "Feature",
    id: "a",
    geometry: point(5, 5),
    properties: { n: 2, x: true },
  });
  assert.equal(result.changes.get("b"), null);
  assert.equal(before.size, 0);
});

Deno.test("applyOps: an op on a deleted or unknown feature says which", () => {
  const result = applyOps(
    new Map(),
    [put("a"), { op: "geom", fid: "zz", geometry: point() }],
    LIMITS,
  );
  assert.ok(!result.ok);
  assert.equal(result.code, "unknown_feature");
  assert.match(result.message, /ops\[1\]: no feature "zz"/);
});

Deno.test("limits: too many vertices or property bytes is too_large", () => {
  const limits = { ...LIMITS, maxVertices: 4, maxPropsBytes: 20 };
  const line = (n: number): Geometry => ({
    type: "LineString",
    coordinates: Array.from({ length: n }, (_, i) => [i, 0]),
  });
  assert.ok(applyOps(new Map(), [put("a", {}, line(4))], limits).ok);
  const big = applyOps(new Map(), [put("a", {}, line(5))], limits);
  assert.ok(!big.ok);
  assert.equal(big.code, "too_large");
  assert.match(big.message, /5 positions; the limit is 4/);
  const existing = new Map([["a", {
    type: "Feature",
    id: "a",
    geometry: point(),
    properties: {},
  }]]) as Map<
    string,
    StoredFeature
  >;
  const geom = applyOps(existing, [{ op: "geom", fid: "a", geometry: line(5) }], limits);
  assert.ok(!geom.ok && geom.code === "too_large");
  const props = applyOps(existing, [{ op: "props", fid: "a", set: { s: "x".repeat(20) } }], limits);
  assert.ok(!props.ok && props.code === "too_large");
  assert.match(props.message, /the limit is 20/);
});

Deno.test("inverse ops undo an edit, including several ops on one feature", () => {
  const before: FeatureMap = new Map([[
    "a",
    feature("a", 1, { keep: 1, gone: 2 }),
  ]]);
  const ops: EditOp[] = [
    { op: "props", fid: "a", set: { keep: 5, added: 3 }, unset: ["gone"] },
    { op: "geom", fid: "a", geometry: { type: "Point", coordinates: [9, 9] } },
    { op: "put", feature: feature("b", 2) },
    { op: "del", fid: "a" },
  ];
  const inverse = inverseOps(before, ops);
  assert.ok(inverse);
  const after: FeatureMap = new Map(before);
  for (const op of ops) applyOp(after, op);
  for (const op of inverse) applyOp(after, op);
  assert.deepEqual(after, before);
  assert.equal(inverseOps(before, [{ op: "del", fid: "nope" }]), null);
});

/**
 * Runs `fn` with the `Object.prototype.__proto__` accessor that browsers have (Annex B) and Deno
 * leaves out, so `obj["__proto__"] = x` behaves as it does in the page.
 */
function withBrowserProto(fn: () => void): void {
  Object.defineProperty(Object.prototype, "__proto__", {
    get(this: object) {
      return Object.getPrototypeOf(this);
    },
    set(this: object, proto: object | null) {
      if (typeof proto === "object") Object.setPrototypeOf(this, proto);
    },
    configurable: true,
  });
  try {
    fn();
  } finally {
    delete (Object.prototype as { __proto__?: unknown }).__proto__;
  }
}

Deno.test("__proto__, constructor and prototype are ordinary keys: applied, undone, never a prototype", () =>
  withBrowserProto(() => {
    const odd = JSON.parse('{"__proto__":{"x":1},"constructor":"c","prototype":[1]}');
    const before: FeatureMap = new Map([["a", feature("a", 1, odd)]]);
    const ops: EditOp[] = [
      { op: "props", fid: "a", set: JSON.parse('{"__proto__":2,"constructor":3}') },
      { op: "props", fid: "a", set: {}, unset: ["prototype"] },
    ];
    const inverse = inverseOps(before, ops);
    assert.ok(inverse);
    const after: FeatureMap = new Map(before);
    for (const op of ops) applyOp(after, op);
    assert.deepEqual(Object.entries(after.get("a")!.properties), [["__proto__", 2], [
      "constructor",
      3,
    ]]);
    for (const op of inverse) applyOp(after, op);
    const props = after.get("a")!.properties;
    assert.deepEqual(Object.entries(props).sort(), Object.entries(odd).sort());
    assert.equal(Object.getPrototypeOf(props), Object.prototype);
    for (const op of inverse) {
      if (op.op === "props") assert.equal(Object.getPrototypeOf(op.set), Object.prototype);
    }
    assert.equal(({} as Record<string, unknown>).x, undefined);
  }));

/** The features as JSON in id order (the relay and the client may hold them in different orders). */
function byId(features: FeatureMap): string {
  return JSON.stringify([...features.keys()].sort().map((fid) => features.get(fid)));
}

Deno.test("the relay's applyOps and the client's applyOp make the same features, byte for byte", () => {
  const edits: EditOp[][] = [
    [put("a", { name: "A", n: 1 }), put("b", JSON.parse('{"__proto__":{"x":1},"prototype":[1]}'))],
    [{ op: "geom", fid: "a", geometry: point(5, 5) }, { op: "props", fid: "a", set: { n: 2 } }],
    [{
      op: "props",
      fid: "b",
      set: JSON.parse('{"constructor":3,"__proto__":2}'),
      unset: ["prototype"],
    }],
    [{ op: "del", fid: "a" }, put("a", { again: true }), {
      op: "props",
      fid: "a",
      set: {},
      unset: ["again"],
    }],
  ];
  const relay: FeatureMap = new Map();
  const client: FeatureMap = new Map();
  for (const ops of edits) {
    const result = applyOps(relay, ops, NO_LIMITS);
    assert.ok(result.ok);
    for (const [fid, f] of result.changes) {
      if (f === null) relay.delete(fid);
      else relay.set(fid, f);
    }
    for (const op of ops) assert.ok(applyOp(client, op));
    assert.equal(byId(client), byId(relay));
  }
  assert.equal(
    byId(relay),
    '[{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}},' +
      '{"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[1,2]},' +
      '"properties":{"__proto__":2,"constructor":3}}]',
  );
  assert.equal(applyOp(client, { op: "geom", fid: "ghost", geometry: point() }), false);
  assert.equal(client.has("ghost"), false);
});

Deno.test("a feature without geometry: no vertex limit applies; undoing a geom op on it puts it back whole", () => {
  const row: StoredFeature = { type: "Feature", id: "row", geometry: null, properties: { a: 1 } };
  const applied = applyOps(new Map(), [{ op: "put", feature: row }], {
    maxFeatures: 10,
    maxVertices: 0,
    maxPropsBytes: 100,
  });
  assert.ok(applied.ok);
  const before: FeatureMap = new Map([["row", row]]);
  const geom: EditOp = { op: "geom", fid: "row", geometry: { type: "Point", coordinates: [1, 2] } };
  assert.deepEqual(inverseOps(before, [geom]), [{ op: "put", feature: row }]);
});
