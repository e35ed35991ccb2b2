/** Unit tests of inbound frame parsing and import validation. */
import assert from "assert";
import * as v from "valibot";
import {
  ClientMessageSchema,
  createClientMessageSchema,
  MAX_PROPERTY_DEPTH,
  parseFrame,
  propertiesProblem,
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

Deno.test("parseFrame reads every message type as the whole schema does, extra keys dropped", () => {
  // parseFrame goes straight to the option for a message's `type`; it must accept, shape and
  // refuse exactly what the schema does.
  const messages: unknown[] = [
    hello,
    { ...hello, since: 3, epoch: "e1", client: "c1", comments: true, extra: 1 },
    { ...hello, color: "red" },
    { type: "view", bbox: [1, 2, 3, 4], zoom: 12, extra: true },
    { type: "view", bbox: [1, 2, 3], zoom: 12 },
    { type: "cursor", at: [1.5, 2.5] },
    { type: "cursor", at: null },
    { type: "cursor", at: [1] },
    { type: "cursor" },
    { type: "edit", id: "e1", ops: [put("f1")] },
    { type: "edit", id: "e1", ops: [] },
    { type: "edit", id: "e1", ops: [put("f1", { type: "Point", coordinates: [1] })] },
    { type: "ping" },
    { type: "ping", t: "x" },
    { type: "ping", t: {} },
    { type: "profile", name: "Bo", color: "#445566" },
    { type: "profile", name: "" },
    { type: "comment", ref: "r1", op: "add", text: "Hi", anchor: { at: [1, 2] } },
    { type: "comment", ref: "r1", op: "nope" },
    { type: "nonsense" },
    { type: 7 },
    { type: "constructor" },
    {},
    null,
    "cursor",
  ];
  for (const message of messages) {
    const [item] = items(parseFrame(JSON.stringify(message), ClientMessageSchema));
    const whole = v.safeParse(ClientMessageSchema, message);
    assert.equal(item.ok, whole.success, JSON.stringify(message));
    if (item.ok && whole.success) assert.deepEqual(item.message, whole.output);
  }
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

/** JSON text of an object holding arrays nested so that the deepest sits at level `levels`. */
function nested(levels: number, numericKey = true): string {
  const inner = "[".repeat(levels - 1) + "]".repeat(levels - 1);
  return `{${numericKey ? '"0":1,' : ""}"a":${inner}}`;
}

Deno.test("propertiesProblem: nesting up to MAX_PROPERTY_DEPTH levels passes, one more is refused", () => {
  assert.equal(MAX_PROPERTY_DEPTH, 32);
  assert.equal(propertiesProblem(JSON.parse(nested(32))), null);
  assert.equal(
    propertiesProblem(JSON.parse(nested(33))),
    "properties are nested more than 32 levels deep",
  );
  // Objects count like arrays; wide values are fine.
  let deepObject = "1";
  for (let i = 0; i < 40; i++) deepObject = `{"k":${deepObject}}`;
  assert.match(propertiesProblem(JSON.parse(deepObject)) ?? "", /nested more than 32/);
  const wide = { list: Array.from({ length: 100_000 }, (_, i) => ({ i })) };
  assert.equal(propertiesProblem(wide), null);
  assert.equal(propertiesProblem([]), "properties must be a JSON object");
  assert.equal(propertiesProblem(null), "properties must be a JSON object");
});

Deno.test("parseFrame: properties or geometry members nested far too deep are refused, never thrown", () => {
  for (const depth of [33, 10_000, 200_000]) {
    const properties = nested(depth);
    const putFrame = `{"type":"edit","id":"e","ops":[{"op":"put","feature":{"type":"Feature",` +
      `"id":"f","geometry":{"type":"Point","coordinates":[0,0]},"properties":${properties}}}]}`;
    assert.deepEqual(items(parseFrame(putFrame, ClientMessageSchema)), [{
      ok: false,
      error: "ops.0.feature.properties: properties are nested more than 32 levels deep",
      edit: { id: "e", code: "invalid_edit" },
    }]);
    const propsFrame =
      `{"type":"edit","id":"p","ops":[{"op":"props","fid":"f","set":${properties}}]}`;
    assert.equal(items(parseFrame(propsFrame, ClientMessageSchema))[0].ok, false);
    const geomFrame = `{"type":"edit","id":"g","ops":[{"op":"geom","fid":"f","geometry":` +
      `{"type":"Point","coordinates":[0,0],"bbox":${properties}}}]}`;
    const [geom] = items(parseFrame(geomFrame, ClientMessageSchema));
    assert.equal(!geom.ok && geom.edit?.code, "invalid_geometry");
  }
});

Deno.test("properties keep __proto__, constructor and prototype as own data, in both directions", () => {
  const odd = '{"__proto__":{"polluted":1},"constructor":"c","prototype":[1]}';
  const frame = `{"type":"edit","id":"e","ops":[{"op":"put","feature":{"type":"Feature","id":"f",` +
    `"geometry":{"type":"Point","coordinates":[0,0]},"properties":${odd}}},` +
    `{"op":"props","fid":"f","set":${odd}}]}`;
  const [item] = items(parseFrame(frame, ClientMessageSchema));
  assert.ok(item.ok && item.message.type === "edit");
  const [putOp, propsOp] = item.message.ops;
  assert.ok(putOp.op === "put" && propsOp.op === "props");
  const expected = Object.entries(JSON.parse(odd));
  assert.deepEqual(Object.entries(putOp.feature.properties), expected);
  assert.deepEqual(Object.entries(propsOp.set), expected);
  const echoed = v.parse(
    ServerMessageSchema,
    JSON.parse(
      `{"type":"edit","seq":1,"by":"p","id":"e","ops":${JSON.stringify(item.message.ops)}}`,
    ),
  );
  assert.ok(echoed.type === "edit" && echoed.ops[0].op === "put");
  assert.deepEqual(Object.entries(echoed.ops[0].feature.properties), expected);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("parseFrame: a ping whose t is not finite is refused (its pong could only say null)", () => {
  const [item] = items(parseFrame('{"type":"ping","t":1e999}', ClientMessageSchema));
  assert.equal(item.ok, false);
  const [ok] = items(parseFrame('{"type":"ping","t":-0}', ClientMessageSchema));
  assert.equal(ok.ok, true);
});

Deno.test("the depth caps limit what clients send, not what the relay sends: an older map still opens", () => {
  let deep: unknown = "bottom";
  for (let i = 0; i < MAX_PROPERTY_DEPTH + 8; i++) deep = [deep];
  const feature = {
    type: "Feature",
    id: "old",
    geometry: { type: "Point", coordinates: [1, 2], bbox: deep },
    properties: { deep },
  };
  const edit = { type: "edit", seq: 1, by: "p", id: "e", ops: [{ op: "put", feature }] };
  const welcome = {
    type: "welcome",
    you: { peer: "p", name: "A", color: "#123456", role: "editor" },
    peers: [],
    seq: 1,
    features: { type: "FeatureCollection", features: [feature] },
  };
  assert.ok(v.is(ServerMessageSchema, welcome), "a snapshot holding it is a valid welcome");
  assert.ok(v.is(ServerMessageSchema, edit), "a catch-up edit holding it is a valid edit frame");
  const sent = parseFrame(
    JSON.stringify({ type: "edit", id: "e", ops: [{ op: "put", feature }] }),
    ClientMessageSchema,
  );
  assert.ok(sent.ok && !sent.items[0].ok, "the same edit from a client is refused");
});

Deno.test("parseFrame: a put feature may have null geometry (extension); a geom op may not", () => {
  const frame = [
    { type: "edit", id: 1, ops: [put("row", null)] },
    { type: "edit", id: 2, ops: [{ op: "geom", fid: "row", geometry: null }] },
  ];
  const [row, geom] = items(parseFrame(JSON.stringify(frame), ClientMessageSchema));
  assert.ok(row.ok);
  assert.deepEqual(row.message, {
    type: "edit",
    id: 1,
    ops: [{
      op: "put",
      feature: { type: "Feature", id: "row", geometry: null, properties: { name: "row" } },
    }],
  });
  assert.ok(!geom.ok);
  assert.equal(geom.edit?.code, "invalid_geometry");
  // What the relay sends with it validates in a client.
  const echo = {
    type: "edit",
    seq: 1,
    by: "p",
    id: 1,
    ops: row.message.type === "edit" ? row.message.ops : [],
  };
  assert.ok(v.safeParse(ServerMessageSchema, echo).success);
});
