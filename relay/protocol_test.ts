/** Unit tests of inbound frame parsing and import validation. */
import assert from "assert";
import * as v from "valibot";
import {
  ClientMessageSchema,
  createClientMessageSchema,
  parseFrame,
  parseImport,
  ServerMessageSchema,
} from "./protocol.ts";
import type { FrameItem, FrameResult } from "./protocol.ts";

const hello = { type: "hello", key: "k", name: "Ada", color: "#112233" };
const point = { type: "Point", coordinates: [1, 2] };
const put = (id: string, geometry: unknown = point) => ({
  op: "put",
  feature: { type: "Feature", id, geometry, properties: { name: id } },
});

function items(result: FrameResult): FrameItem[] {
  assert.ok(result.ok, "the frame should be readable");
  return result.items;
}

Deno.test("parseFrame reads one message object", () => {
  const [item] = items(parseFrame(JSON.stringify(hello), ClientMessageSchema));
  assert.deepEqual(item, { ok: true, message: hello });
});

Deno.test("parseFrame handles an array item by item, in order, keeping the good ones", () => {
  const frame = [
    { type: "ping", t: 1 },
    { type: "cursor", at: [500, 0] },
    { type: "nonsense" },
    { type: "cursor", at: null },
    "not an object",
  ];
  const result = items(parseFrame(JSON.stringify(frame), ClientMessageSchema));
  assert.equal(result.length, 5);
  assert.deepEqual(result.map((i) => i.ok), [true, false, false, true, false]);
  assert.deepEqual(result[0], { ok: true, message: { type: "ping", t: 1 } });
  assert.deepEqual(result[3], { ok: true, message: { type: "cursor", at: null } });
  for (const bad of [result[1], result[2], result[4]]) {
    assert.ok(!bad.ok);
    assert.equal(bad.edit, undefined, "only edits carry an id to reject");
    assert.ok(bad.error.length > 0);
  }
  assert.ok(
    !result[2].ok && /type must be one of/.test(result[2].error),
    JSON.stringify(result[2]),
  );
});

Deno.test("parseFrame: an empty array is a frame with no messages", () => {
  assert.deepEqual(parseFrame("[]", ClientMessageSchema), { ok: true, items: [] });
});

Deno.test("parseFrame reports bad JSON for the whole frame", () => {
  for (const text of ["{", "", "hello", '{"type":"ping"} trailing']) {
    const result = parseFrame(text, ClientMessageSchema);
    assert.equal(result.ok, false, text);
    assert.ok(!result.ok && /not valid JSON/.test(result.error));
  }
});

Deno.test("parseFrame: an edit with a bad geometry keeps its id with code invalid_geometry", () => {
  const cases = [
    { type: "edit", id: "e1", ops: [put("a"), put("b", { type: "Point", coordinates: [0, 95] })] },
    { type: "edit", id: 7, ops: [{ op: "geom", fid: "a", geometry: { type: "Blob" } }] },
  ];
  const result = items(parseFrame(JSON.stringify(cases), ClientMessageSchema));
  assert.ok(!result[0].ok);
  assert.deepEqual(result[0].edit, { id: "e1", code: "invalid_geometry" });
  assert.match(result[0].error, /^ops\.1\.feature\.geometry: .*latitude 95/);
  assert.ok(!result[1].ok);
  assert.deepEqual(result[1].edit, { id: 7, code: "invalid_geometry" });
  assert.match(result[1].error, /unknown geometry type "Blob"/);
});

Deno.test("parseFrame: an otherwise invalid edit keeps its id with code invalid_edit", () => {
  const cases = [
    { type: "edit", id: "no-ops", ops: [] },
    { type: "edit", id: "bad-op", ops: [{ op: "move", fid: "a" }] },
    { type: "edit", id: "empty-fid", ops: [{ op: "del", fid: "" }] },
    { type: "edit", id: "bad-set", ops: [{ op: "props", fid: "a", set: "x" }] },
    {
      type: "edit",
      id: "no-feature-type",
      ops: [{ op: "put", feature: { id: "x", geometry: point } }],
    },
  ];
  const result = items(parseFrame(JSON.stringify(cases), ClientMessageSchema));
  for (const [i, item] of result.entries()) {
    assert.ok(!item.ok);
    assert.deepEqual(item.edit, { id: cases[i].id, code: "invalid_edit" }, item.error);
  }
  assert.ok(!result[0].ok && /at least one op/.test(result[0].error));
  assert.ok(!result[1].ok && /op must be one of put, geom, props, del/.test(result[1].error));
  assert.ok(!result[2].ok && /feature id must not be empty/.test(result[2].error));
});

Deno.test("parseFrame: an edit whose id is itself invalid cannot be rejected by id", () => {
  const cases = [
    { type: "edit", id: "", ops: [put("a")] },
    { type: "edit", id: 1.5, ops: [put("a")] },
    { type: "edit", id: "x".repeat(129), ops: [put("a")] },
    { type: "edit", ops: [put("a")] },
  ];
  for (const item of items(parseFrame(JSON.stringify(cases), ClientMessageSchema))) {
    assert.ok(!item.ok);
    assert.equal(item.edit, undefined);
  }
});

Deno.test("parseFrame accepts every client message type with its optional fields", () => {
  const messages = [
    { ...hello, since: 12, client: "tab-1" },
    { type: "view", bbox: [170, -10, -170, 10], zoom: 3.5 },
    { type: "cursor", at: [-180, 90] },
    {
      type: "edit",
      id: "e",
      ops: [
        put("a"),
        { op: "geom", fid: "a", geometry: point },
        { op: "props", fid: "a", set: { x: 1 }, unset: ["name"] },
        { op: "del", fid: "a" },
      ],
    },
    { type: "ping" },
    { type: "ping", t: "abc" },
  ];
  const result = items(parseFrame(JSON.stringify(messages), ClientMessageSchema));
  assert.deepEqual(result.map((i) => i.ok), messages.map(() => true));
});

Deno.test("parseFrame accepts a put without properties and trims the hello name", () => {
  const frame = [
    { ...hello, name: "  Ada  " },
    {
      type: "edit",
      id: "e",
      ops: [{ op: "put", feature: { type: "Feature", id: "a", geometry: point } }],
    },
  ];
  const [h, e] = items(parseFrame(JSON.stringify(frame), ClientMessageSchema));
  assert.ok(h.ok && h.message.type === "hello");
  assert.equal(h.message.name, "Ada");
  assert.ok(e.ok && e.message.type === "edit" && e.message.ops[0].op === "put");
  assert.equal(e.message.ops[0].feature.id, "a");
});

Deno.test("parseFrame refuses bad hello fields and a south-of-north bbox", () => {
  const frame = [
    { ...hello, color: "red" },
    { ...hello, name: "   " },
    { ...hello, since: -1 },
    { type: "view", bbox: [0, 10, 1, 5], zoom: 1 },
    { type: "view", bbox: [0, 0, 1, 1], zoom: 31 },
  ];
  const result = items(parseFrame(JSON.stringify(frame), ClientMessageSchema));
  assert.deepEqual(result.map((i) => i.ok), [false, false, false, false, false]);
  assert.ok(!result[0].ok && /color must be #rrggbb/.test(result[0].error));
  assert.ok(!result[3].ok && /south must not be greater than north/.test(result[3].error));
});

Deno.test("createClientMessageSchema applies its limits", () => {
  const schema = createClientMessageSchema({ maxFeatureIdLength: 3, maxOpsPerEdit: 2 });
  const frame = [
    { type: "edit", id: 1, ops: [put("abcd")] },
    { type: "edit", id: 2, ops: [put("a"), put("b"), put("c")] },
    { type: "edit", id: 3, ops: [put("abc"), put("b")] },
  ];
  const result = items(parseFrame(JSON.stringify(frame), schema));
  assert.ok(!result[0].ok && /longer than 3/.test(result[0].error));
  assert.ok(!result[1].ok && /at most 2 ops/.test(result[1].error));
  assert.ok(result[2].ok);
});

Deno.test("parseImport accepts a FeatureCollection with optional ids and properties", () => {
  const result = parseImport({
    type: "FeatureCollection",
    features: [
      { type: "Feature", id: "a", geometry: point, properties: { n: 1 } },
      { type: "Feature", id: 5, geometry: point, properties: null },
      { type: "Feature", geometry: point },
    ],
  });
  assert.ok(result.ok);
  assert.equal(result.features.length, 3);
  assert.equal(result.features[1].id, 5);
  assert.equal(result.features[2].id, undefined);
});

Deno.test("parseImport gives the first problem with its path", () => {
  const cases: [unknown, RegExp][] = [
    [null, /./],
    [{ type: "Feature" }, /type must be "FeatureCollection"/],
    [{ type: "FeatureCollection" }, /features/],
    [
      {
        type: "FeatureCollection",
        features: [{ type: "Feature", geometry: point }, { type: "F" }],
      },
      /features\.1\.type: each feature needs type "Feature"/,
    ],
    [
      {
        type: "FeatureCollection",
        features: [{ type: "Feature", geometry: { type: "Point", coordinates: [181, 0] } }],
      },
      /features\.0\.geometry: .*longitude 181/,
    ],
    [
      { type: "FeatureCollection", features: [{ type: "Feature", id: "", geometry: point }] },
      /^features\.0\.id: /,
    ],
  ];
  for (const [input, expected] of cases) {
    const result = parseImport(input);
    assert.ok(!result.ok, JSON.stringify(input));
    assert.match(result.error, expected);
  }
});

Deno.test("parseFrame: properties must be an object; missing or null become {}", () => {
  const put = (extra: Record<string, unknown>) =>
    JSON.stringify({
      type: "edit",
      id: 1,
      ops: [{
        op: "put",
        feature: {
          type: "Feature",
          id: "a",
          geometry: { type: "Point", coordinates: [0, 0] },
          ...extra,
        },
      }],
    });
  const schema = createClientMessageSchema();
  for (const extra of [{}, { properties: null }]) {
    const frame = parseFrame(put(extra), schema);
    assert.ok(frame.ok && frame.items[0].ok);
    const msg = frame.items[0].message;
    assert.ok(msg.type === "edit" && msg.ops[0].op === "put");
    assert.deepEqual(msg.ops[0].feature.properties, {});
  }
  const array = parseFrame(put({ properties: [1, 2] }), schema);
  assert.ok(array.ok && !array.items[0].ok);
  assert.match(array.items[0].error, /properties must be a JSON object/);
  assert.deepEqual(array.items[0].edit, { id: 1, code: "invalid_edit" });
});

Deno.test("ServerMessageSchema accepts the relay's messages and refuses malformed ones", () => {
  const edit = {
    type: "edit",
    seq: 3,
    by: "p1",
    id: "c-1",
    ops: [{
      op: "put",
      feature: { type: "Feature", id: "a", geometry: { type: "Point", coordinates: [1, 2] } },
    }],
  };
  assert.ok(v.is(ServerMessageSchema, edit));
  assert.ok(v.is(ServerMessageSchema, { type: "cursor", peer: "p2", at: null }));
  assert.ok(v.is(ServerMessageSchema, { type: "pong", t: 5, later: "extra fields are fine" }));
  assert.ok(!v.is(ServerMessageSchema, { ...edit, ops: [{ op: "move", fid: "a" }] }));
  assert.ok(!v.is(ServerMessageSchema, { type: "cursor", peer: "p2", at: [200, 0] }));
  assert.ok(!v.is(ServerMessageSchema, { type: "rejected", id: 1, code: "nope", message: "" }));
  assert.ok(!v.is(ServerMessageSchema, { type: "gossip" }));
});
