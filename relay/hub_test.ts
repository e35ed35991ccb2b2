/** Unit tests of the hub with fake sockets and an in-memory store: joining, limits, durability. */
import assert from "assert";
import { Hub } from "./hub.ts";
import type { Connection } from "./hub.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import type { Limits } from "./limits.ts";
import type { Logger } from "./log.ts";
import { Store } from "./store.ts";
import { FakeSocket } from "./_fake_socket.ts";
import { FakeTimers } from "./_fake_timers.ts";

/** A store that logs its commits and can be made to fail. */
class TestStore extends Store {
  failAppends = false;
  /** Makes loading a map fail, as a damaged page or an unreplayable journal does. */
  failLoads = false;
  loads = 0;
  constructor(readonly events: string[]) {
    super({ path: ":memory:" });
  }
  override appendEdits(mapId: string, edits: readonly { seq: number; frame: string }[]): void {
    if (this.failAppends) throw new Error("disk full");
    super.appendEdits(mapId, edits);
    this.events.push(`append ${edits.map((e) => e.seq).join(",")}`);
  }
  override loadMap(id: string, historyLimit: number) {
    this.loads++;
    if (this.failLoads) throw new Error("database disk image is malformed");
    return super.loadMap(id, historyLimit);
  }
  override transaction<T>(fn: () => T): T {
    const result = super.transaction(fn);
    this.events.push("commit");
    return result;
  }
}

type Msg = Record<string, unknown> & { type: string };

/** One fake client connection. */
class Client {
  readonly socket: FakeSocket;
  readonly conn: Connection;
  #read = 0;
  constructor(hub: Hub, mapId: string, name: string, events: string[]) {
    this.socket = new FakeSocket(name, events);
    this.conn = hub.accept(this.socket, { mapId, addr: "192.0.2.1", transport: "test" });
  }
  send(message: unknown): void {
    this.conn.receive(JSON.stringify(message));
  }
  hello(key: string, extra: Record<string, unknown> = {}): void {
    this.send({ type: "hello", key, name: this.socket.name, color: "#AABBCC", ...extra });
  }
  /** Every message received so far, arrays unpacked. */
  all(): Msg[] {
    return this.socket.sent.flatMap((text) => {
      const json = JSON.parse(text);
      return Array.isArray(json) ? json : [json];
    });
  }
  /** Messages received since the last call. */
  take(): Msg[] {
    const all = this.all();
    const fresh = all.slice(this.#read);
    this.#read = all.length;
    return fresh;
  }
  /** The close codes the hub used on this socket, in order. */
  closes(): number[] {
    return this.socket.closes.map((c) => c.code);
  }
  get closed(): { code: number; reason: string } | undefined {
    return this.socket.closes[0];
  }
}

/** A hub on an in-memory store with fake timers (time moves only in `advance`); disposing closes both. */
async function setup(limits: Partial<Limits> = {}, logger?: Logger) {
  const events: string[] = [];
  const store = new TestStore(events);
  let peerIds = 0;
  const timers = new FakeTimers();
  const hub = new Hub({
    store,
    limits: { ...DEFAULT_LIMITS, ...limits },
    timers,
    ids: () => `p${++peerIds}`,
    logger,
  });
  const map = await hub.api.createMap("Survey");
  return {
    hub,
    store,
    events,
    map,
    client: (name: string, mapId = map.id) => new Client(hub, mapId, name, events),
    /** Moves the hub's clock on, running its timers that fall due. */
    advance: (ms: number) => timers.advance(ms),
    async [Symbol.asyncDispose]() {
      await hub.close();
      store.close();
      assert.equal(timers.pending, 0, "close() leaves no timer running");
    },
  };
}

const point = { type: "Point", coordinates: [1, 2] };
const putEdit = (id: string | number, fid = `f-${id}`) => ({
  type: "edit",
  id,
  ops: [{ op: "put", feature: { type: "Feature", id: fid, geometry: point, properties: {} } }],
});

Deno.test("hub: hello joins with the role of the key; others see joined", async () => {
  await using t = await setup();
  const a = t.client("a");
  a.hello(t.map.editKey, { client: "tab-1" });
  await t.hub.settled();
  const [welcome] = a.take();
  assert.equal(welcome.type, "welcome");
  assert.deepEqual(welcome.you, { peer: "p1", name: "a", color: "#aabbcc", role: "editor" });
  assert.deepEqual(welcome.map, { id: t.map.id, title: "Survey" });
  assert.deepEqual(welcome.features, { type: "FeatureCollection", features: [] });
  const b = t.client("b");
  b.hello(t.map.viewKey);
  await t.hub.settled();
  assert.equal((b.take()[0].you as Msg).role, "viewer");
  assert.deepEqual(a.take(), [{
    type: "joined",
    peer: "p2",
    name: "b",
    color: "#aabbcc",
    role: "viewer",
  }]);
  assert.deepEqual(t.hub.stats(), { connections: 2, peers: 2, maps: 1 });
});

Deno.test("hub: anything but hello first closes with 1008", async () => {
  await using t = await setup();
  const ping = t.client("ping");
  ping.send({ type: "ping" });
  assert.equal(ping.closed?.code, 1008);
  assert.deepEqual(ping.all().map((m) => m.code), ["hello_required"]);
  const edit = t.client("edit");
  edit.send(putEdit(1));
  assert.equal(edit.closed?.code, 1008);
  const badHello = t.client("bad");
  badHello.send({ type: "hello", key: t.map.editKey, name: "x", color: "blue" });
  assert.equal(badHello.closed?.code, 1008);
  assert.equal(badHello.all()[0].code, "bad_message");
  assert.match(String(badHello.all()[0].message), /color/);
  assert.deepEqual(t.hub.stats(), { connections: 0, peers: 0, maps: 0 });
});

Deno.test("hub: a wrong key and an unknown map close with the same 1008 reason", async () => {
  await using t = await setup();
  const wrongKey = t.client("w");
  wrongKey.hello("not-the-key");
  const unknownMap = t.client("u", "AAAAAAAAAAAAAAAA");
  unknownMap.hello(t.map.editKey);
  const junkMap = t.client("j", "../../etc");
  junkMap.hello(t.map.editKey);
  const emptyKey = t.client("e");
  emptyKey.hello("");
  await t.hub.settled();
  const closes = [wrongKey, unknownMap, junkMap, emptyKey].map((c) => c.closed);
  assert.equal(closes[0]?.code, 1008);
  for (const close of closes) assert.deepEqual(close, closes[0]);
  for (const c of [wrongKey, unknownMap, junkMap, emptyKey]) {
    assert.deepEqual(c.all(), [], "nothing tells which of the two was wrong");
  }
});

Deno.test("hub: a viewer's edit is rejected as forbidden and not applied", async () => {
  await using t = await setup();
  const viewer = t.client("v");
  viewer.hello(t.map.viewKey);
  viewer.send(putEdit("e1"));
  await t.hub.settled();
  const [, rejected] = viewer.take();
  assert.deepEqual({ ...rejected, message: undefined }, {
    type: "rejected",
    id: "e1",
    code: "forbidden",
    message: undefined,
  });
  assert.equal(viewer.closed, undefined, "a forbidden edit does not close the connection");
  const read = await t.hub.api.readFeatures(t.map.id, t.map.viewKey);
  assert.ok(read.ok);
  assert.deepEqual(JSON.parse(read.value).features, []);
});

Deno.test("hub: an edit is echoed to every peer, author included, only after the store committed", async () => {
  await using t = await setup();
  const a = t.client("a");
  const b = t.client("b");
  a.hello(t.map.editKey);
  b.hello(t.map.viewKey);
  await t.hub.settled();
  a.take();
  b.take();
  t.events.length = 0;
  a.send(putEdit("e1"));
  assert.deepEqual(t.events, [], "nothing is written or sent while the frame is handled");
  await t.hub.settled();
  assert.deepEqual(t.events.slice(0, 2), ["append 1", "commit"]);
  assert.deepEqual(t.events.slice(2).sort(), ["send a", "send b"]);
  // The author's name, colour and the relay's time ride along (the `meta` extension).
  const echo = { ...putEdit("e1"), seq: 1, by: "p1", name: "a", color: "#aabbcc", at: 1_000_000 };
  assert.deepEqual(a.take(), [echo]);
  assert.deepEqual(b.take(), [echo]);
  const stored = t.store.loadMap(t.map.id, 10);
  assert.deepEqual(stored?.tail.map((e) => JSON.parse(e.frame)), [echo]);
});

Deno.test("hub: when the store fails, the author gets 1011 and no echo; the edit is not kept", async () => {
  await using t = await setup();
  const a = t.client("a");
  const b = t.client("b");
  a.hello(t.map.editKey);
  b.hello(t.map.editKey);
  a.send(putEdit("ok"));
  await t.hub.settled();
  a.take();
  b.take();
  t.store.failAppends = true;
  a.send(putEdit("lost"));
  await t.hub.settled();
  assert.deepEqual(a.closes(), [1011]);
  assert.deepEqual(b.closes(), [1011]);
  assert.ok(!a.all().some((m) => m.type === "edit" && m.id === "lost"), "no echo to the author");
  assert.ok(!b.all().some((m) => m.type === "edit" && m.id === "lost"), "no echo to others");
  // The room reloads from the store: without the edit that was never durable.
  t.store.failAppends = false;
  const c = t.client("c");
  c.hello(t.map.editKey);
  await t.hub.settled();
  const [welcome] = c.take();
  assert.equal(welcome.seq, 1);
  const ids = (welcome.features as { features: { id: string }[] }).features.map((f) => f.id);
  assert.deepEqual(ids, ["f-ok"]);
  // And the sequence goes on from the durable state.
  c.send(putEdit("next"));
  await t.hub.settled();
  assert.deepEqual(c.take().map((m) => [m.id, m.seq]), [["next", 2]]);
});

Deno.test("hub: a GET of the features never reports an edit whose commit failed", async () => {
  await using t = await setup();
  const a = t.client("a");
  a.hello(t.map.editKey);
  await t.hub.settled();
  t.store.failAppends = true;
  a.send(putEdit("lost"));
  // Asked while the edit is applied in memory but not yet committed.
  const read = t.hub.api.readFeatures(t.map.id, t.map.viewKey);
  await t.hub.settled();
  const result = await read;
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.reason, "not_saved");
  t.store.failAppends = false;
  const again = await t.hub.api.readFeatures(t.map.id, t.map.viewKey);
  assert.ok(again.ok);
  assert.deepEqual(JSON.parse(again.value).features, [], "the map without the lost edit");
});

Deno.test("hub: a store failure while closing a connection closes each socket once", async () => {
  await using t = await setup();
  const a = t.client("a");
  a.hello(t.map.editKey);
  await t.hub.settled();
  t.store.failAppends = true;
  // The edit is still unsaved when the binary frame makes the hub close the connection.
  a.send(putEdit("lost"));
  a.conn.receive(new Uint8Array([1, 2, 3]));
  assert.equal(a.socket.closes.length, 1, JSON.stringify(a.socket.closes));
  assert.equal(t.hub.metrics.closes.get(1011) + t.hub.metrics.closes.get(1003), 1);
  assert.ok(!a.all().some((m) => m.type === "edit"));
});

Deno.test("hub: too many edits are rejected rate_limited, a flood closes with 1008", async () => {
  await using t = await setup({ rate: 1, rateBurst: 2 });
  const a = t.client("a");
  a.hello(t.map.editKey);
  for (const id of [1, 2, 3]) a.send(putEdit(id));
  a.send({ type: "ping", t: 1 });
  await t.hub.settled();
  const replies = a.take().slice(1);
  assert.deepEqual(replies.map((m) => [m.type, m.id ?? null, m.code ?? null]), [
    ["edit", 1, null],
    ["edit", 2, null],
    ["rejected", 3, "rate_limited"],
    ["error", null, "rate_limited"],
  ]);
  assert.equal(a.closed, undefined, "being rate limited is not fatal");
  // Ten times the allowed rate of anything (here: cursors, burst 20) is a flood.
  let sent = 5;
  while (!a.closed && sent < 100) {
    a.send({ type: "cursor", at: [0, 0] });
    sent++;
  }
  assert.equal(a.closed?.code, 1008);
  assert.equal(sent, 21);
  assert.equal(a.all().at(-1)?.code, "rate_limited");
  // Time refills the buckets for a new connection's edits.
  t.advance(1000);
  const b = t.client("b");
  b.hello(t.map.editKey);
  b.send(putEdit(4));
  await t.hub.settled();
  assert.equal(b.take()[1].type, "edit");
});

Deno.test("hub: rate limits count messages, not frames", async () => {
  await using t = await setup({ rate: 1, rateBurst: 2 });
  const a = t.client("a");
  a.conn.receive(JSON.stringify([
    { type: "hello", key: t.map.editKey, name: "a", color: "#000000" },
    putEdit(1),
    putEdit(2),
    putEdit(3),
  ]));
  await t.hub.settled();
  // The welcome goes out at once; the echoes wait for their commit, and the rejection queued
  // after them waits with them: two frames, in order.
  assert.equal(a.socket.sent.length, 2);
  assert.deepEqual(a.take().map((m) => m.type), ["welcome", "edit", "edit", "rejected"]);
});

Deno.test("hub: a binary frame closes with 1003, bad JSON too", async () => {
  await using t = await setup();
  const a = t.client("a");
  a.hello(t.map.editKey);
  a.conn.receive(new Uint8Array([123, 125]));
  assert.equal(a.closed?.code, 1003);
  assert.equal(a.all().at(-1)?.code, "bad_message");
  const b = t.client("b");
  b.hello(t.map.editKey);
  b.conn.receive("{not json");
  assert.equal(b.closed?.code, 1003);
  assert.equal(b.all().at(-1)?.code, "bad_json");
  const c = t.client("c");
  c.conn.receive(new ArrayBuffer(4));
  assert.equal(c.closed?.code, 1003);
});

Deno.test("hub: a frame over maxFrameBytes closes with 1009, counting UTF-8 bytes", async () => {
  await using t = await setup({ maxFrameBytes: 256 });
  const a = t.client("a");
  a.hello(t.map.editKey);
  a.send({ type: "ping", t: "x".repeat(200) });
  await t.hub.settled();
  assert.equal(a.closed, undefined);
  a.send({ type: "ping", t: "x".repeat(300) });
  assert.equal(a.closed?.code, 1009);
  // 150 characters, 450 bytes.
  const b = t.client("b");
  b.hello(t.map.editKey);
  b.send({ type: "ping", t: "€".repeat(150) });
  assert.equal(b.closed?.code, 1009);
});

Deno.test("hub: a peer too slow to read is closed with 1013 while others keep receiving", async () => {
  await using t = await setup({ maxBufferedBytes: 4096 });
  const [a, slow, c] = ["a", "slow", "c"].map((n) => t.client(n));
  for (const x of [a, slow, c]) x.hello(t.map.editKey);
  await t.hub.settled();
  for (const x of [a, slow, c]) x.take();
  slow.socket.buffered = 4097;
  a.send(putEdit("e1"));
  await t.hub.settled();
  assert.equal(slow.closed?.code, 1013);
  assert.deepEqual(slow.take(), []);
  await t.hub.settled();
  a.send(putEdit("e2"));
  await t.hub.settled();
  for (const x of [a, c]) {
    const got = x.take();
    assert.deepEqual(
      got.filter((m) => m.type === "edit").map((m) => m.id),
      ["e1", "e2"],
      x.socket.name,
    );
    assert.ok(got.some((m) => m.type === "left" && m.peer === "p2"), x.socket.name);
    assert.equal(x.closed, undefined);
  }
});

Deno.test("hub: presence is dropped for a peer above half its buffer limit, not edits", async () => {
  await using t = await setup({ maxBufferedBytes: 4096 });
  const [a, b] = ["a", "b"].map((n) => t.client(n));
  for (const x of [a, b]) x.hello(t.map.editKey);
  await t.hub.settled();
  b.take();
  b.socket.buffered = 3000;
  a.send({ type: "cursor", at: [1, 1] });
  a.send(putEdit("e1"));
  await t.hub.settled();
  assert.deepEqual(b.take().map((m) => m.type), ["edit"]);
  assert.equal(t.hub.metrics.presenceDrops, 1);
});

Deno.test("hub: no hello within helloTimeoutMs closes with 1008", async () => {
  await using t = await setup({ helloTimeoutMs: 5 });
  const silent = t.client("silent");
  const prompt = t.client("prompt");
  prompt.hello(t.map.editKey);
  t.advance(4);
  assert.equal(silent.closed, undefined, "not before helloTimeoutMs");
  t.advance(1);
  assert.equal(silent.closed?.code, 1008);
  assert.match(silent.closed?.reason ?? "", /no hello/);
  assert.equal(prompt.closed, undefined, "a peer that said hello is not timed out");
});

Deno.test("hub: view and cursor reach the others coalesced; ping gets pong", async () => {
  await using t = await setup();
  const [a, b] = ["a", "b"].map((n) => t.client(n));
  for (const x of [a, b]) x.hello(t.map.editKey);
  await t.hub.settled();
  a.take();
  b.take();
  for (let i = 0; i < 5; i++) a.send({ type: "cursor", at: [i, i] });
  a.send({ type: "view", bbox: [0, 0, 1, 1], zoom: 2 });
  a.send({ type: "ping", t: "x" });
  await t.hub.settled();
  assert.deepEqual(a.take(), [{ type: "pong", t: "x" }]);
  assert.deepEqual(b.take().sort((x, y) => x.type.localeCompare(y.type)), [
    { type: "cursor", peer: "p1", at: [4, 4] },
    { type: "view", peer: "p1", bbox: [0, 0, 1, 1], zoom: 2 },
  ]);
});

Deno.test("hub: a second hello is an error; an invalid edit is rejected with its id", async () => {
  await using t = await setup();
  const a = t.client("a");
  a.hello(t.map.editKey);
  a.hello(t.map.editKey);
  a.send({
    type: "edit",
    id: "bad-geom",
    ops: [{ op: "geom", fid: "x", geometry: { type: "Point", coordinates: [0, 100] } }],
  });
  a.send({ type: "edit", id: "bad-op", ops: [] });
  a.send({ type: "edit", id: "ghost", ops: [{ op: "del", fid: "ghost" }] });
  a.send({ type: "whatever" });
  await t.hub.settled();
  const replies = a.take().slice(1);
  assert.deepEqual(replies.map((m) => [m.type, m.id ?? null, m.code]), [
    ["error", null, "already_joined"],
    ["rejected", "bad-geom", "invalid_geometry"],
    ["rejected", "bad-op", "invalid_edit"],
    ["rejected", "ghost", "unknown_feature"],
    ["error", null, "bad_message"],
  ]);
  assert.equal(a.closed, undefined);
});

Deno.test("hub: hello with since catches up with exactly the missed edits", async () => {
  await using t = await setup();
  const a = t.client("a");
  a.hello(t.map.editKey);
  for (const id of [1, 2, 3]) a.send(putEdit(id));
  await t.hub.settled();
  const b = t.client("b");
  b.hello(t.map.viewKey, { since: 1 });
  await t.hub.settled();
  const [welcome] = b.take();
  assert.equal(welcome.seq, 3);
  assert.equal(welcome.features, undefined);
  assert.deepEqual((welcome.ops as Msg[]).map((m) => m.id), [2, 3]);
});

Deno.test("hub: a full map answers 1013", async () => {
  await using t = await setup({ maxPeersPerMap: 1 });
  const a = t.client("a");
  a.hello(t.map.editKey);
  const b = t.client("b");
  b.hello(t.map.editKey);
  assert.equal(a.closed, undefined);
  assert.equal(b.closed?.code, 1013);
});

Deno.test("hub: snapshots are written every snapshotEvery edits", async () => {
  await using t = await setup({ snapshotEvery: 2, recentEdits: 1 });
  const a = t.client("a");
  a.hello(t.map.editKey);
  for (const id of [1, 2, 3]) {
    a.send(putEdit(id));
    await t.hub.settled();
  }
  const stored = t.store.loadMap(t.map.id, 10);
  assert.equal(stored?.snapshotSeq, 2);
  assert.deepEqual(JSON.parse(stored?.snapshot ?? "[]").map((f: { id: string }) => f.id), [
    "f-1",
    "f-2",
  ]);
  assert.deepEqual(stored?.tail.map((e) => e.seq), [3]);
});

Deno.test("hub: close() flushes, sends 1001 to everyone, refuses newcomers, and is idempotent", async () => {
  const events: string[] = [];
  const store = new TestStore(events);
  try {
    const hub = new Hub({ store, limits: { ...DEFAULT_LIMITS } });
    const map = await hub.api.createMap("Survey");
    const [a, b] = ["a", "b"].map((n) => new Client(hub, map.id, n, events));
    const waiting = new Client(hub, map.id, "waiting", events);
    for (const x of [a, b]) x.hello(map.editKey);
    a.send(putEdit("last"));
    await hub.close();
    for (const x of [a, b]) {
      assert.deepEqual(x.socket.closes.map((c) => c.code), [1001]);
      assert.ok(
        x.all().some((m) => m.type === "edit" && m.id === "last"),
        "queued echo went first",
      );
    }
    assert.deepEqual(waiting.socket.closes.map((c) => c.code), [1001]);
    assert.equal(hub.closing, true);
    const sends = a.socket.sent.length;
    await hub.close();
    assert.equal(a.socket.sent.length, sends);
    assert.equal(a.socket.closes.length, 1);
    const late = new Client(hub, map.id, "late", events);
    assert.deepEqual(late.socket.closes.map((c) => c.code), [1001]);
    // Everything is durable and the map was snapshotted on the way out.
    const stored = store.loadMap(map.id, 10);
    assert.equal(stored?.snapshotSeq, 1);
    assert.deepEqual(stored?.tail, []);
  } finally {
    store.close();
  }
});

Deno.test("hub: a map reloads after close from its snapshot", async () => {
  const store = new TestStore([]);
  try {
    const first = new Hub({ store, limits: { ...DEFAULT_LIMITS } });
    const map = await first.api.createMap("Survey");
    const edits = await first.api.importFeatures(map.id, map.editKey, {
      features: [{ id: "x", geometry: { type: "Point", coordinates: [3, 4] } }],
      skipped: [],
    });
    assert.ok(edits.ok);
    const before = await first.api.readFeatures(map.id, map.viewKey);
    await first.close();
    const second = new Hub({ store, limits: { ...DEFAULT_LIMITS } });
    try {
      const after = await second.api.readFeatures(map.id, map.viewKey);
      assert.deepEqual(after, before);
    } finally {
      await second.close();
    }
  } finally {
    store.close();
  }
});

const featureIds = (welcome: Msg) =>
  (welcome.features as { features: { id: string }[] }).features.map((f) => f.id);

Deno.test("hub: an empty map leaves memory evictAfterMs after its last peer left, and reloads whole", async () => {
  // The sweep runs every 50 ms of the injected clock.
  await using t = await setup({ evictAfterMs: 100 });
  const a = t.client("a");
  a.hello(t.map.editKey);
  a.send(putEdit(1));
  a.send(putEdit(2));
  await t.hub.settled();
  a.conn.closed(1000, "bye");
  t.advance(99);
  assert.equal(t.hub.stats().maps, 1, "kept until evictAfterMs has passed");
  t.advance(50);
  assert.equal(t.hub.stats().maps, 0, "the empty map left memory by the next sweep");
  const b = t.client("b");
  b.hello(t.map.viewKey);
  await t.hub.settled();
  const [welcome] = b.take();
  assert.equal(welcome.seq, 2);
  assert.deepEqual(featureIds(welcome), ["f-1", "f-2"]);
  assert.equal(t.hub.stats().maps, 1);
});

Deno.test("hub: a map with peers stays in memory however long it lives", async () => {
  await using t = await setup({ evictAfterMs: 100 });
  const a = t.client("a");
  a.hello(t.map.viewKey);
  t.advance(3_600_000);
  assert.equal(t.hub.stats().maps, 1);
  a.send({ type: "ping", t: 1 });
  await t.hub.settled();
  assert.deepEqual(a.take().map((m) => m.type), ["welcome", "pong"]);
});

Deno.test("hub: at maxMaps an empty map makes room; when every map has peers a join gets 1013", async () => {
  await using t = await setup({ maxMaps: 1 });
  const second = await t.hub.api.createMap("Second");
  const a = t.client("a");
  a.hello(t.map.editKey);
  a.send(putEdit(1));
  await t.hub.settled();

  const b = t.client("b", second.id);
  b.hello(second.editKey);
  assert.deepEqual(b.closes(), [1013]);
  assert.match(b.closed?.reason ?? "", /capacity/);
  assert.equal(a.closed, undefined, "the busy map and its peer are untouched");

  a.conn.closed(1000, "bye");
  const c = t.client("c", second.id);
  c.hello(second.editKey);
  await t.hub.settled();
  assert.equal(c.take()[0]?.type, "welcome");
  assert.equal(t.hub.stats().maps, 1);

  // The map that made room comes back with its edit once there is room again.
  c.conn.closed(1000, "bye");
  const d = t.client("d");
  d.hello(t.map.viewKey);
  await t.hub.settled();
  const [welcome] = d.take();
  assert.equal(welcome.seq, 1);
  assert.deepEqual(featureIds(welcome), ["f-1"]);
});

Deno.test("hub: profile (extension) renames a peer in place: the others get joined again, newcomers see the new name", async () => {
  await using t = await setup();
  const a = t.client("a");
  const b = t.client("b");
  a.hello(t.map.editKey);
  b.hello(t.map.viewKey);
  a.send({ type: "view", bbox: [0, 0, 1, 1], zoom: 5 });
  await t.hub.settled();
  a.take();
  b.take();
  a.send({ type: "profile", name: "  Ada  ", color: "#FF8800" });
  await t.hub.settled();
  assert.deepEqual(b.take(), [
    { type: "joined", peer: "p1", name: "Ada", color: "#ff8800", role: "editor" },
  ]);
  assert.deepEqual(a.take(), [], "the author already knows");
  const c = t.client("c");
  c.hello(t.map.viewKey);
  await t.hub.settled();
  const [welcome] = c.take();
  const peers = welcome.peers as { peer: string; name: string; color: string; view?: unknown }[];
  const ada = peers.find((p) => p.peer === "p1");
  assert.equal(ada?.name, "Ada");
  assert.equal(ada?.color, "#ff8800");
  assert.deepEqual(ada?.view, { bbox: [0, 0, 1, 1], zoom: 5 }, "presence is kept");
  // A bad one is answered and changes nothing; the connection stays.
  a.take();
  b.take();
  a.send({ type: "profile", name: "", color: "red" });
  await t.hub.settled();
  const [error] = a.take();
  assert.equal(error.type, "error");
  assert.equal(error.code, "bad_message");
  assert.equal(a.closed, undefined);
  assert.deepEqual(b.take(), []);
});

Deno.test("hub: at maxMaps, the map whose peers were idle longest makes room; an active one does not", async () => {
  await using t = await setup({ maxMaps: 2, evictAfterMs: 1000 });
  const second = await t.hub.api.createMap("Second");
  const third = await t.hub.api.createMap("Third");
  const a = t.client("a");
  a.hello(t.map.editKey);
  const b = t.client("b", second.id);
  b.hello(second.editKey);
  await t.hub.settled();
  t.advance(2000);
  // A moves its cursor; B's peer only stays connected (joining is no activity).
  a.send({ type: "cursor", at: [1, 1] });
  const c = t.client("c", third.id);
  c.hello(third.editKey);
  await t.hub.settled();
  assert.equal(c.take()[0]?.type, "welcome");
  assert.deepEqual(b.closes(), [1013]);
  assert.match(b.closed?.reason ?? "", /make room/);
  assert.equal(a.closed, undefined);
  assert.equal(t.hub.stats().maps, 2);
  // Now both maps in memory were active within evictAfterMs: a newcomer is told the server is full.
  const d = t.client("d", second.id);
  d.hello(second.editKey);
  assert.deepEqual(d.closes(), [1013]);
  assert.match(d.closed?.reason ?? "", /capacity/);
});

Deno.test("hub: one address has peers on at most maxMapsPerAddr maps; leaving frees a place", async () => {
  await using t = await setup({ maxMapsPerAddr: 1 });
  const second = await t.hub.api.createMap("Second");
  const a = t.client("a");
  a.hello(t.map.editKey);
  const a2 = t.client("a2");
  a2.hello(t.map.viewKey);
  const b = t.client("b", second.id);
  b.hello(second.editKey);
  await t.hub.settled();
  assert.equal(a2.take()[0]?.type, "welcome", "a second peer on a map it holds is fine");
  assert.deepEqual(b.closes(), [1013]);
  assert.match(b.closed?.reason ?? "", /already has peers on 1 maps/);
  a.conn.closed(1000, "bye");
  a2.conn.closed(1000, "bye");
  const b2 = t.client("b2", second.id);
  b2.hello(second.editKey);
  await t.hub.settled();
  assert.equal(b2.take()[0]?.type, "welcome");
});

Deno.test("hub: an exception while handling a frame closes only that connection (error internal, 1011) and is logged", async () => {
  const logs: { event: string; fields?: Record<string, unknown> }[] = [];
  const logger: Logger = {
    log(event, fields) {
      logs.push({ event, fields });
      // A bug somewhere in the hello path, after the peer joined the room.
      if (event === "connect" && fields?.peer === "p2") throw new RangeError("boom");
    },
  };
  await using t = await setup({}, logger);
  const a = t.client("a");
  a.hello(t.map.editKey);
  const b = t.client("b");
  b.hello(t.map.editKey);
  await t.hub.settled();
  assert.deepEqual(b.closes(), [1011]);
  const error = b.all().find((m) => m.type === "error");
  assert.equal(error?.code, "internal");
  const internal = logs.filter((l) => l.event === "internal_error");
  assert.equal(internal.length, 1);
  assert.deepEqual(
    { ...internal[0].fields },
    { where: "receive", map: t.map.id, peer: "p2", error: "RangeError: boom" },
  );
  // The other peer was not disturbed, and the failed one is gone from the map.
  a.send(putEdit("after"));
  a.send({ type: "ping", t: 1 });
  await t.hub.settled();
  assert.deepEqual(a.closes(), []);
  assert.ok(a.all().some((m) => m.type === "edit" && m.id === "after"));
  assert.ok(a.all().some((m) => m.type === "left" && m.peer === "p2"));
  assert.deepEqual(t.hub.stats(), { connections: 1, peers: 1, maps: 1 });
});

Deno.test("hub: a peer whose transport throws on send is closed 1011; the others get their frames", async () => {
  await using t = await setup();
  const a = t.client("a");
  const b = t.client("b");
  a.hello(t.map.editKey);
  b.hello(t.map.editKey);
  await t.hub.settled();
  b.socket.send = () => {
    throw new Error("socket broke");
  };
  a.send(putEdit("x"));
  await t.hub.settled();
  assert.deepEqual(b.closes(), [1011]);
  assert.deepEqual(a.closes(), []);
  assert.ok(a.all().some((m) => m.type === "edit" && m.id === "x"));
});

Deno.test("hub: a map that cannot be loaded answers a clear error to a right key, 404 to a wrong one, logged once", async () => {
  const logs: string[] = [];
  await using t = await setup({}, { log: (event) => logs.push(event) });
  t.store.failLoads = true;
  const wrong = t.client("w");
  wrong.hello("wrong-key");
  assert.equal(t.store.loads, 0, "a wrong key never loads the map");
  assert.deepEqual(wrong.closed, { code: 1008, reason: "unknown map or key" });
  for (let i = 0; i < 3; i++) {
    const c = t.client(`c${i}`);
    c.hello(t.map.editKey);
    assert.equal(c.closed?.code, 1011);
    assert.match(c.closed!.reason, /cannot be loaded/);
    assert.deepEqual(c.all().map((m) => m.code), ["internal"]);
    assert.match(String(c.all()[0].message), /contact the relay's operator/);
  }
  const read = await t.hub.api.readFeatures(t.map.id, t.map.viewKey);
  assert.equal(read.ok, false);
  assert.equal(!read.ok && read.reason, "unavailable");
  assert.deepEqual(await t.hub.api.readFeatures(t.map.id, "nope"), {
    ok: false,
    reason: "not_found",
    message: "unknown map or key",
  });
  assert.equal(t.store.loads, 1, "remembered, not loaded again on every request");
  assert.deepEqual(logs.filter((e) => e === "map_unavailable"), ["map_unavailable"]);
  // Once repaired, the map loads again after the retry period.
  t.store.failLoads = false;
  t.advance(60_000);
  const ok = t.client("ok");
  ok.hello(t.map.editKey);
  await t.hub.settled();
  assert.equal(ok.all()[0].type, "welcome");
});

Deno.test("hub: a transport that throws while the hub closes it is closed once", async () => {
  await using t = await setup();
  const a = t.client("a");
  a.hello(t.map.editKey);
  await t.hub.settled();
  a.socket.send = () => {
    throw new Error("socket broke");
  };
  a.conn.receive(new Uint8Array([1]));
  assert.deepEqual(a.closes(), [1011]);
  assert.deepEqual(t.hub.stats(), { connections: 0, peers: 0, maps: 1 });
});
