/** Unit tests of the presence tick: cursors and views batched per map on a fake clock, edits never held. */
import assert from "assert";
import { setImmediate } from "node:timers";
import { Hub } from "./hub.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { Store } from "./store.ts";
import { FakeSocket } from "./_fake_socket.ts";
import { FakeTimers } from "./_fake_timers.ts";
import type { LoadSignal } from "./load_probe.ts";

type Msg = Record<string, unknown> & { type: string };

/** A load signal the test sets by hand. */
interface FakeLoad extends LoadSignal {
  behind: boolean;
  stretch: number;
}

/**
 * A hub with a presence tick of `tickMs` on fake timers, and peers that joined one map. The relay
 * counts as behind (the tick batches) unless `load` says otherwise.
 */
async function setup(
  tickMs: number,
  names: string[],
  load: FakeLoad = { behind: true, stretch: 1, stop() {} },
) {
  const store = new Store({ path: ":memory:" });
  const timers = new FakeTimers();
  let ids = 0;
  const hub = new Hub({
    store,
    limits: { ...DEFAULT_LIMITS, presenceTickMs: tickMs },
    timers,
    ids: () => `p${++ids}`,
    presenceLoad: load,
  });
  const map = await hub.api.createMap("Tick");
  const peers = names.map((name) => {
    const socket = new FakeSocket(name);
    const conn = hub.accept(socket, { mapId: map.id, addr: "192.0.2.1", transport: "test" });
    conn.receive(JSON.stringify({ type: "hello", key: map.editKey, name, color: "#aabbcc" }));
    return { socket, conn, send: (m: unknown) => conn.receive(JSON.stringify(m)) };
  });
  await hub.settled();
  for (const p of peers) p.socket.sent = [];
  return {
    hub,
    timers,
    peers,
    async [Symbol.asyncDispose]() {
      await hub.close();
      store.close();
      assert.equal(timers.pending, 0, "close() leaves no timer running");
    },
  };
}

/** Lets the end-of-turn flush (a real setImmediate) and an inline commit run; the fake clock stays. */
async function endOfTurn(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The messages of one frame (a single message or an array). */
function messages(frame: string): Msg[] {
  const json = JSON.parse(frame);
  return Array.isArray(json) ? json : [json];
}

const byKind = (a: Msg, b: Msg) => `${a.peer}${a.type}`.localeCompare(`${b.peer}${b.type}`);

Deno.test("presence tick: in a busy map, moves within one tick reach each peer as one frame, newest wins", async () => {
  await using t = await setup(50, ["a", "b", "c"]);
  const [a, b, c] = t.peers;
  const idle = t.timers.pending;
  a.send({ type: "cursor", at: [9, 9] });
  await endOfTurn();
  assert.deepEqual(
    c.socket.sent.flatMap(messages),
    [{ type: "cursor", peer: "p1", at: [9, 9] }],
    "a map quiet for a tick sends at once",
  );
  c.socket.sent = [];
  a.socket.sent = [];
  b.socket.sent = [];
  t.timers.advance(10);
  for (let i = 0; i < 3; i++) a.send({ type: "cursor", at: [i, i] });
  await endOfTurn();
  t.timers.advance(10);
  b.send({ type: "cursor", at: [5, 5] });
  b.send({ type: "view", bbox: [0, 0, 1, 1], zoom: 3 });
  await endOfTurn();
  t.timers.advance(29);
  assert.deepEqual(c.socket.sent, [], "nothing before a tick has passed since the map last sent");
  t.timers.advance(1);
  assert.equal(c.socket.sent.length, 1, "one frame for everything that moved in the tick");
  assert.deepEqual(messages(c.socket.sent[0]).sort(byKind), [
    { type: "cursor", peer: "p1", at: [2, 2] },
    { type: "cursor", peer: "p2", at: [5, 5] },
    { type: "view", peer: "p2", bbox: [0, 0, 1, 1], zoom: 3 },
  ]);
  assert.deepEqual(messages(a.socket.sent[0]).sort(byKind).map((m) => `${m.peer} ${m.type}`), [
    "p2 cursor",
    "p2 view",
  ], "nobody gets its own presence back");
  assert.equal(b.socket.sent.length, 1);
  t.timers.advance(500);
  assert.equal(c.socket.sent.length, 1, "no tick runs while nobody moves");
  assert.equal(t.timers.pending, idle, "the tick timer stops when there is nothing to send");
  a.send({ type: "cursor", at: [7, 7] });
  await endOfTurn();
  assert.equal(c.socket.sent.length, 2, "after a quiet tick, the next move goes at once again");
});

Deno.test("presence tick: an edit is not held, and carries the presence waiting in its map", async () => {
  await using t = await setup(50, ["a", "b"]);
  const [a, b] = t.peers;
  a.send({ type: "cursor", at: [0, 0] });
  await endOfTurn();
  b.socket.sent = [];
  a.send({ type: "cursor", at: [1, 1] });
  await endOfTurn();
  assert.deepEqual(b.socket.sent, [], "a second move within the tick waits");
  a.send({
    type: "edit",
    id: "e1",
    ops: [{
      op: "put",
      feature: { type: "Feature", id: "f1", geometry: { type: "Point", coordinates: [1, 2] } },
    }],
  });
  await endOfTurn();
  assert.deepEqual(
    b.socket.sent.flatMap(messages).map((m) => m.type),
    ["edit", "cursor"],
    "the edit goes out at the end of its turn, the waiting cursor with it",
  );
  t.timers.advance(100);
  assert.equal(b.socket.sent.length, 1, "the tick has nothing left to send");
});

Deno.test("presence tick 0: presence goes out at the end of each turn", async () => {
  await using t = await setup(0, ["a", "b"]);
  const [a, b] = t.peers;
  const idle = t.timers.pending;
  a.send({ type: "cursor", at: [1, 1] });
  await endOfTurn();
  assert.deepEqual(b.socket.sent.flatMap(messages), [{ type: "cursor", peer: "p1", at: [1, 1] }]);
  assert.equal(t.timers.pending, idle, "no tick timer");
});

Deno.test("presence tick: each map keeps its own phase, so busy maps' frames spread over the tick instead of going out together", async () => {
  await using t = await setup(100, []);
  const maps = [];
  for (let m = 0; m < 4; m++) {
    const map = await t.hub.api.createMap(`Phase ${m}`);
    const peers = ["a", "b"].map((name) => {
      const socket = new FakeSocket(`${name}${m}`);
      const conn = t.hub.accept(socket, { mapId: map.id, addr: "192.0.2.1", transport: "test" });
      conn.receive(JSON.stringify({ type: "hello", key: map.editKey, name, color: "#aabbcc" }));
      return { socket, send: (msg: unknown) => conn.receive(JSON.stringify(msg)) };
    });
    maps.push(peers);
  }
  await t.hub.settled();
  // Each map's first move goes at once, 20 ms after the previous map's; then each moves again.
  for (const [a] of maps) {
    a.send({ type: "cursor", at: [0, 0] });
    await endOfTurn();
    t.timers.advance(20);
  }
  for (const [a] of maps) a.send({ type: "cursor", at: [1, 1] });
  await endOfTurn();
  for (const [, b] of maps) b.socket.sent = [];
  const sentAt: number[] = [];
  for (let ms = 81; ms <= 170; ms++) {
    t.timers.advance(1);
    maps.forEach(([, b], m) => {
      if (b.socket.sent.length > 0 && sentAt[m] === undefined) sentAt[m] = ms;
    });
  }
  assert.deepEqual(
    sentAt,
    [100, 120, 140, 160],
    "each map's waiting move goes out one tick after that map last sent",
  );
});

Deno.test("presence tick: a peer that leaves before the tick is not drawn after its left", async () => {
  await using t = await setup(50, ["a", "b"]);
  const [a, b] = t.peers;
  a.send({ type: "cursor", at: [0, 0] });
  await endOfTurn();
  b.socket.sent = [];
  a.send({ type: "cursor", at: [1, 1] });
  await endOfTurn();
  a.conn.closed(1000, "bye");
  await endOfTurn();
  t.timers.advance(50);
  assert.deepEqual(b.socket.sent.flatMap(messages).map((m) => m.type), ["left"]);
});

Deno.test("presence tick: while the relay keeps up a busy map's moves go out every turn; once it falls behind they wait for the tick", async () => {
  const load: FakeLoad = { behind: false, stretch: 1, stop() {} };
  await using t = await setup(50, ["a", "b"], load);
  const [a, b] = t.peers;
  for (let i = 0; i < 3; i++) {
    a.send({ type: "cursor", at: [i, i] });
    await endOfTurn();
    t.timers.advance(5);
  }
  assert.deepEqual(
    b.socket.sent.map((f) => messages(f).map((m) => m.at)),
    [[[0, 0]], [[1, 1]], [[2, 2]]],
    "keeping up: every turn's move at once, nothing waits for the tick",
  );
  b.socket.sent = [];
  load.behind = true;
  a.send({ type: "cursor", at: [3, 3] });
  await endOfTurn();
  a.send({ type: "cursor", at: [4, 4] });
  await endOfTurn();
  assert.deepEqual(b.socket.sent, [], "behind: moves in a busy map wait for the tick");
  t.timers.advance(50);
  assert.deepEqual(
    b.socket.sent.flatMap(messages),
    [{ type: "cursor", peer: "p1", at: [4, 4] }],
    "at the tick, the newest move in one frame",
  );
});

Deno.test("presence tick: while the relay stays short of CPU the tick stretches, and a map quiet for the stretched tick still sends at once", async () => {
  const load: FakeLoad = { behind: true, stretch: 4, stop() {} };
  await using t = await setup(50, ["a", "b"], load);
  const [a, b] = t.peers;
  a.send({ type: "cursor", at: [0, 0] });
  await endOfTurn();
  assert.equal(b.socket.sent.length, 1, "the leading edge goes at once");
  t.timers.advance(60);
  a.send({ type: "cursor", at: [1, 1] });
  await endOfTurn();
  t.timers.advance(139);
  assert.equal(b.socket.sent.length, 1, "a move 60 ms after the last waits: the tick is 4 x 50 ms");
  assert.equal(t.hub.presenceLoad().presenceTicks, 4, "/metrics shows the stretched tick");
  t.timers.advance(1);
  assert.deepEqual(messages(b.socket.sent[1]), [{ type: "cursor", peer: "p1", at: [1, 1] }]);
  t.timers.advance(150);
  a.send({ type: "cursor", at: [2, 2] });
  await endOfTurn();
  assert.equal(
    b.socket.sent.length,
    2,
    "150 ms after the last send is still inside the stretched tick",
  );
  t.timers.advance(50);
  assert.equal(b.socket.sent.length, 3);
  load.stretch = 1;
  t.timers.advance(60);
  a.send({ type: "cursor", at: [3, 3] });
  await endOfTurn();
  assert.equal(b.socket.sent.length, 4, "back to a 50 ms tick, 60 ms of quiet is a quiet tick");
});
