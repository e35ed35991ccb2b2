/** End-to-end: presence, view/cursor fan-out, ping/pong and batched frames against a real relay. */
import assert from "assert";
import { createMap, startRelay } from "./_relay.ts";
import { connect, join, RawWsClient } from "./_ws.ts";

Deno.test("presence: joined/left and view/cursor fan-out between 2 and 3 peers", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url, "Presence");

  const { peer: a, welcome: wa } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "Ann",
    color: "#ff0000",
  });
  await using _a = a;
  assert.equal(wa.type, "welcome");
  assert.equal(wa.you.name, "Ann");
  assert.equal(wa.you.color, "#ff0000");
  assert.equal(wa.you.role, "editor");
  assert.equal(typeof wa.you.peer, "string");
  assert.deepEqual(wa.peers, [], "the first peer sees nobody else");
  assert.equal(typeof wa.seq, "number");
  assert.ok(wa.features, "a fresh join carries a full snapshot");
  assert.equal(wa.features.type, "FeatureCollection");
  assert.deepEqual(wa.features.features, []);
  assert.deepEqual(wa.map, { id: map.id, title: "Presence" }, "welcome.map (extension)");

  const { peer: b, welcome: wb } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "Bob",
    color: "#00ff00",
  });
  await using _b = b;
  assert.notEqual(wb.you.peer, wa.you.peer, "peers get distinct ids");
  assert.deepEqual(
    wb.peers.map((p) => [p.peer, p.name, p.color]),
    [[wa.you.peer, "Ann", "#ff0000"]],
    "the second peer sees the first",
  );
  const joinedB = await a.nextOf("joined");
  assert.equal(joinedB.peer, wb.you.peer);
  assert.equal(joinedB.name, "Bob");
  assert.equal(joinedB.color, "#00ff00");

  // view and cursor go to the others, tagged with the sender, and not back to the sender.
  a.send({ type: "view", bbox: [-1, -2, 3, 4], zoom: 7 });
  const viewAtB = await b.nextOf("view");
  assert.equal(viewAtB.peer, wa.you.peer);
  assert.deepEqual(viewAtB.bbox, [-1, -2, 3, 4]);
  assert.equal(viewAtB.zoom, 7);
  b.send({ type: "cursor", at: [12.5, 41.9] });
  const cursorAtA = await a.nextOf("cursor");
  assert.equal(cursorAtA.peer, wb.you.peer);
  assert.deepEqual(cursorAtA.at, [12.5, 41.9]);
  a.send({ type: "cursor", at: [1, 2] });
  const cursorAtB = await b.nextOf("cursor");
  assert.deepEqual([cursorAtB.peer, cursorAtB.at], [wa.you.peer, [1, 2]]);
  await a.sync();
  await b.sync();
  assert.equal(a.all("view").length, 0, "a peer does not get its own view back");
  assert.equal(a.all("cursor").filter((c) => c.peer === wa.you.peer).length, 0);
  assert.equal(b.all("cursor").filter((c) => c.peer === wb.you.peer).length, 0);

  // A third peer sees both, with their last view and cursor.
  const { peer: c, welcome: wc } = await join(relay.wsUrl, map.id, map.editKey, {
    name: "Cy",
    color: "#0000ff",
  });
  await using _c = c;
  const others = new Map(wc.peers.map((p) => [p.peer, p]));
  assert.equal(others.size, 2);
  assert.equal(others.get(wa.you.peer)?.name, "Ann");
  assert.equal(others.get(wb.you.peer)?.name, "Bob");
  assert.equal(
    JSON.stringify(others.get(wa.you.peer)).includes("[-1,-2,3,4]"),
    true,
    `welcome.peers carries Ann's last view: ${JSON.stringify(others.get(wa.you.peer))}`,
  );
  assert.equal(
    JSON.stringify(others.get(wb.you.peer)).includes("[12.5,41.9]"),
    true,
    `welcome.peers carries Bob's last cursor: ${JSON.stringify(others.get(wb.you.peer))}`,
  );
  assert.equal((await a.nextOf("joined")).peer, wc.you.peer);
  assert.equal((await b.nextOf("joined")).peer, wc.you.peer);

  // Fan-out to two others at once; a null cursor means "left the map".
  c.send({ type: "cursor", at: null });
  for (const p of [a, b]) {
    const m = await p.nextOf("cursor", (m) => m.peer === wc.you.peer);
    assert.equal(m.at, null);
  }
  c.send({ type: "view", bbox: [170, -10, -170, 10], zoom: 3 });
  for (const p of [a, b]) {
    const m = await p.nextOf("view", (m) => m.peer === wc.you.peer);
    assert.deepEqual(m.bbox, [170, -10, -170, 10]);
  }

  // Leaving is announced to the ones who stay.
  await b.close();
  assert.equal((await a.nextOf("left")).peer, wb.you.peer);
  assert.equal((await c.nextOf("left")).peer, wb.you.peer);
  a.send({ type: "cursor", at: [0, 0] });
  assert.equal((await c.nextOf("cursor", (m) => m.peer === wa.you.peer)).peer, wa.you.peer);
});

Deno.test("presence: peers on another map see nothing", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const one = await createMap(relay.url);
  const two = await createMap(relay.url);
  const { peer: a } = await join(relay.wsUrl, one.id, one.editKey, { name: "A" });
  await using _a = a;
  const { peer: b, welcome: wb } = await join(relay.wsUrl, two.id, two.editKey, { name: "B" });
  await using _b = b;
  assert.deepEqual(wb.peers, []);
  b.send({ type: "cursor", at: [5, 5] });
  b.send({ type: "edit", id: 1, ops: [{ op: "put", feature: point5() }] });
  await b.nextOf("edit");
  await a.sync();
  assert.deepEqual(
    a.messages.filter((m) => m.type !== "welcome" && m.type !== "pong"),
    [],
    "nothing from another map",
  );
});

function point5() {
  return {
    type: "Feature",
    id: "p",
    geometry: { type: "Point", coordinates: [5, 5] },
    properties: {},
  };
}

Deno.test("ping is answered by pong with the same t", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer } = await join(relay.wsUrl, map.id, map.viewKey, { name: "pinger" });
  await using _p = peer;
  peer.send({ type: "ping", t: 42 });
  assert.equal((await peer.nextOf("pong")).t, 42);
  peer.send({ type: "ping", t: 1.5e12 });
  assert.equal((await peer.nextOf("pong")).t, 1.5e12);
  peer.send({ type: "ping", t: "abc" });
  assert.equal((await peer.nextOf("pong")).t, "abc");
  peer.send({ type: "ping" });
  const bare = await peer.nextOf("pong");
  assert.equal(bare.t, undefined, "no t in, no t out");
});

Deno.test("a client frame holding a JSON array is handled in order", async () => {
  await using relay = await startRelay({ args: ["--memory"] });
  const map = await createMap(relay.url);
  const { peer: b, welcome: wb } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
  await using _b = b;
  const a = await connect(relay.wsUrl, map.id, { label: "A" });
  await using _a = a;
  // hello first, then messages that are only valid after it, all in one frame.
  a.send([
    { type: "hello", key: map.editKey, name: "A", color: "#123456" },
    { type: "cursor", at: [0.5, 0.5] },
    { type: "edit", id: "e1", ops: [{ op: "put", feature: point5() }] },
    { type: "edit", id: "e2", ops: [{ op: "props", fid: "p", set: { n: 2 } }] },
    { type: "ping", t: "after" },
  ]);
  const welcome = await a.nextOf("welcome");
  assert.equal((await a.nextOf("pong")).t, "after");
  const e1 = await a.nextOf("edit", (m) => m.id === "e1");
  const e2 = await a.nextOf("edit", (m) => m.id === "e2");
  assert.ok(e2.seq > e1.seq, "the second edit (which needs the first) is ordered after it");
  assert.deepEqual(a.all("error"), [], "no hello_required: the frame was handled in order");
  assert.deepEqual(a.all("rejected"), []);
  const cursor = await b.nextOf("cursor");
  assert.deepEqual([cursor.peer, cursor.at], [welcome.you.peer, [0.5, 0.5]]);
  assert.equal((await b.nextOf("edit", (m) => m.id === "e2")).seq, e2.seq);
  assert.notEqual(welcome.you.peer, wb.you.peer);
});

Deno.test("a peer that stops answering WebSocket pings is dropped and the others see it leave", async () => {
  await using relay = await startRelay({ args: ["--memory", "--idle-timeout", "1"] });
  const map = await createMap(relay.url);
  const { peer: b } = await join(relay.wsUrl, map.id, map.editKey, { name: "B" });
  await using _b = b;
  // A hand-made client: it joins, then reads but never answers a ping, like a peer whose
  // network vanished without a FIN.
  using x = await RawWsClient.open(relay.url, `/ws/${map.id}`, {
    "Sec-WebSocket-Protocol": "duplexmap.v1",
  });
  assert.equal(x.answer.status, 101);
  await x.sendText(
    JSON.stringify({ type: "hello", key: map.editKey, name: "X", color: "#112233" }),
  );
  const joined = await b.nextOf("joined", (m) => m.name === "X");
  const left = await b.nextOf("left", (m) => m.peer === joined.peer, 15_000);
  assert.equal(left.peer, joined.peer);
  const ended = await x.readUntilClose(15_000);
  assert.ok(ended.frames > 0, "the relay pinged the silent peer");
  assert.equal(ended.close?.code, 1001, "closed as going away, with the reason in the frame");
  const closes = relay.logs.filter((l) => l.event === "close");
  assert.equal(closes.length, 1, "one close logged, for X");
  // B, who answers pings, is still here and served.
  b.send({ type: "ping", t: 7 });
  assert.equal((await b.nextOf("pong")).t, 7);
});
