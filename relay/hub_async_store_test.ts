/** Unit tests of the hub on an asynchronous store (as PostgreSQL is): joins and reads wait for one load. */
import assert from "assert";
import { Hub } from "./hub.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import type { Limits } from "./limits.ts";
import { DuplicateEditError } from "./map_store.ts";
import type { MapStore } from "./map_store.ts";
import { Room } from "./room.ts";
import { Store } from "./store.ts";
import type { JournalBatch, MapRecord } from "./store.ts";
import type { NewVersion } from "./history_store.ts";
import { FakeSocket } from "./_fake_socket.ts";
import { FakeTimers } from "./_fake_timers.ts";

/** An in-memory SQLite store behind promises; each map load waits until the test releases it. */
class GatedStore implements MapStore {
  readonly kind = "postgres";
  readonly inner = new Store({ path: ":memory:" });
  loads = 0;
  /**
   * When set, the next append leaves out the first batch as PostgreSQL does when its unique
   * (client, edit id) index refuses a re-sent edit, and writes the others.
   */
  duplicate: { client: string; id: string } | null = null;
  #gates: (() => void)[] = [];
  /** Lets every load waiting so far finish. */
  release(): void {
    for (const open of this.#gates.splice(0)) open();
  }
  createMap(record: MapRecord) {
    return Promise.resolve(this.inner.createMap(record));
  }
  async loadRecord(id: string) {
    await Promise.resolve();
    return this.inner.loadRecord(id);
  }
  async loadMap(id: string, historyLimit: number) {
    this.loads++;
    await new Promise<void>((resolve) => this.#gates.push(resolve));
    return this.inner.loadMap(id, historyLimit);
  }
  appendBatches(batches: readonly JournalBatch[]) {
    const dupe = this.duplicate;
    this.duplicate = null;
    if (!dupe) return Promise.resolve(this.inner.appendBatches(batches));
    const [refused, ...rest] = batches;
    this.inner.appendBatches(rest);
    return Promise.resolve({
      fenced: [],
      duplicates: [new DuplicateEditError(refused.mapId, [dupe])],
    });
  }
  saveSnapshot(mapId: string, seq: number, featuresJson: string, keep: number) {
    return Promise.resolve(this.inner.saveSnapshot(mapId, seq, featuresJson, keep));
  }
  loadComments(mapId: string) {
    return Promise.resolve(this.inner.loadComments(mapId));
  }
  addVersion(version: NewVersion) {
    return Promise.resolve(this.inner.addVersion(version));
  }
  pruneHistory(cutoff: number, budget: number) {
    return Promise.resolve(this.inner.pruneHistory(cutoff, budget));
  }
  readonly history = null;
  countMaps() {
    return Promise.resolve(this.inner.countMaps());
  }
  checkJournals() {
    return Promise.resolve(this.inner.checkJournals());
  }
  close() {
    this.inner.close();
  }
}

type Msg = Record<string, unknown> & { type: string };

function received(socket: FakeSocket): Msg[] {
  return socket.sent.flatMap((text) => {
    const json = JSON.parse(text);
    return Array.isArray(json) ? json : [json];
  });
}

/** Lets the promise callbacks of the store, the registry and the commit run. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

async function setup(limits: Partial<Limits> = {}) {
  const store = new GatedStore();
  const timers = new FakeTimers();
  let ids = 0;
  const hub = new Hub({
    store,
    limits: { ...DEFAULT_LIMITS, ...limits },
    timers,
    ids: () => `p${++ids}`,
  });
  const map = await hub.api.createMap("Async");
  const connect = (name: string, mapId = map.id) => {
    const socket = new FakeSocket(name);
    const conn = hub.accept(socket, { mapId, addr: "192.0.2.1", transport: "test" });
    const send = (m: unknown) => conn.receive(JSON.stringify(m));
    return { socket, conn, send };
  };
  /** Lets the map loads asked for so far finish, and everything they released settle. */
  const loaded = async () => {
    await turns();
    store.release();
    await turns();
    await hub.settled();
  };
  return {
    store,
    hub,
    timers,
    map,
    connect,
    loaded,
    async [Symbol.asyncDispose]() {
      await hub.close();
      store.close();
    },
  };
}

const edit = (id: string) => ({
  type: "edit",
  id,
  ops: [{
    op: "put",
    feature: { type: "Feature", id: `f-${id}`, geometry: { type: "Point", coordinates: [1, 2] } },
  }],
});

Deno.test("hub on an async store: messages sent right after hello are handled after the welcome, in order", async () => {
  await using t = await setup();
  const a = t.connect("a");
  a.send({ type: "hello", key: t.map.editKey, name: "a", color: "#aabbcc", client: "ca" });
  // The client does not wait for its welcome: these arrive while the map is still loading.
  a.send(edit("e1"));
  a.send([edit("e2"), { type: "ping", t: 7 }]);
  await turns();
  assert.deepEqual(received(a.socket), [], "nothing is answered before the map is loaded");
  t.store.release();
  await turns();
  await t.hub.settled();
  const got = received(a.socket);
  assert.deepEqual(got.map((m) => m.type), ["welcome", "edit", "edit", "pong"]);
  assert.deepEqual(got.slice(1, 3).map((m) => [m.id, m.seq]), [["e1", 1], ["e2", 2]]);
  assert.deepEqual(t.store.inner.loadMap(t.map.id, 10)?.tail.map((e) => e.seq), [1, 2]);
});

Deno.test("hub on an async store: a join whose map does not load in time is told to try again (1013)", async () => {
  // A database that hangs (stopped, or a network that drops packets) answers nothing at all: the
  // peer must not wait in silence for ever, and a later join must work once the store answers.
  await using t = await setup();
  const a = t.connect("a");
  a.send({ type: "hello", key: t.map.editKey, name: "a", color: "#aabbcc" });
  await turns();
  t.timers.advance(DEFAULT_LIMITS.helloTimeoutMs - 1);
  assert.deepEqual(a.socket.closes, [], "still within the time a hello may take");
  t.timers.advance(1);
  assert.deepEqual(a.socket.closes.map((c) => c.code), [1013]);
  assert.match(a.socket.closes[0].reason, /try again/);
  t.store.release();
  await turns();
  assert.deepEqual(received(a.socket), [], "no welcome after the close");
  assert.equal(t.hub.stats().peers, 0);
  const b = t.connect("b");
  b.send({ type: "hello", key: t.map.editKey, name: "b", color: "#aabbcc" });
  await turns();
  assert.equal(received(b.socket)[0].type, "welcome");
});

Deno.test("hub on an async store: joins and an HTTP read of the same map share one load", async () => {
  await using t = await setup();
  const a = t.connect("a");
  const b = t.connect("b");
  a.send({ type: "hello", key: t.map.editKey, name: "a", color: "#aabbcc" });
  b.send({ type: "hello", key: t.map.viewKey, name: "b", color: "#aabbcc" });
  const read = t.hub.api.readFeatures(t.map.id, t.map.viewKey);
  await turns();
  t.store.release();
  const features = await read;
  await turns();
  await t.hub.settled();
  assert.equal(t.store.loads, 1);
  assert.deepEqual(features, { ok: true, value: '{"type":"FeatureCollection","features":[]}' });
  assert.equal(received(a.socket)[0].type, "welcome");
  assert.equal((received(b.socket)[0].you as Msg).role, "viewer");
  assert.equal(t.hub.stats().peers, 2);
});

Deno.test("hub on an async store: a peer that leaves while its map loads is never counted", async () => {
  // One map per address: a peer counted by mistake would keep this address off every other map.
  await using t = await setup({ maxMapsPerAddr: 1 });
  const other = await t.hub.api.createMap("Other");
  const a = t.connect("a");
  a.send({ type: "hello", key: t.map.editKey, name: "a", color: "#aabbcc" });
  await turns();
  a.conn.closed(1001, "gone");
  t.store.release();
  await turns();
  assert.equal(t.hub.stats().peers, 0);
  assert.deepEqual(received(a.socket), []);
  const c = t.connect("c", other.id);
  c.send({ type: "hello", key: other.editKey, name: "c", color: "#aabbcc" });
  await t.loaded();
  assert.equal(received(c.socket)[0]?.type, "welcome", JSON.stringify(c.socket.closes));
  // A wrong key is refused after the record is read, without loading the map.
  const b = t.connect("b");
  b.send({ type: "hello", key: "wrong-key", name: "b", color: "#aabbcc" });
  await turns();
  assert.equal(b.socket.closes[0]?.code, 1008);
  assert.equal(t.store.loads, 2);
});

Deno.test("hub on an async store: a map moved out while it loads is moved out once loaded, never served", async () => {
  // Its lease goes (handed over, lost, or self-fenced) before the load ends: kept in memory, it
  // would be sequenced by this relay while another one holds the lease.
  await using t = await setup();
  const a = t.connect("a");
  a.send({ type: "hello", key: t.map.editKey, name: "a", color: "#aabbcc" });
  await turns();
  const moved = t.hub.moveOut(t.map.id, "handoff");
  await turns();
  t.store.release();
  await moved;
  await turns();
  await t.hub.settled();
  assert.deepEqual(a.socket.closes.map((c) => c.code), [1012]);
  assert.match(a.socket.closes[0].reason, /moved/);
  assert.equal(t.hub.stats().maps, 0, "the map is not kept in memory");
  a.send(edit("late"));
  await turns();
  assert.equal(t.store.inner.loadMap(t.map.id, 10)?.tail.length, 0, "nothing was sequenced");
});

Deno.test("hub on an async store: an edit the store already holds is answered duplicate to its author", async () => {
  await using t = await setup();
  const a = t.connect("a");
  const b = t.connect("b");
  a.send({ type: "hello", key: t.map.editKey, name: "a", color: "#aabbcc", client: "ca" });
  b.send({ type: "hello", key: t.map.editKey, name: "b", color: "#aabbcc", client: "cb" });
  await t.loaded();
  // Re-sent after a crash, older than anything the room remembers: only the store knows it.
  t.store.duplicate = { client: "ca", id: "e1" };
  a.send(edit("e1"));
  await turns();
  const last = received(a.socket).at(-1);
  assert.deepEqual(
    { type: last?.type, id: last?.id, code: last?.code },
    { type: "rejected", id: "e1", code: "duplicate" },
  );
  assert.equal(a.socket.closes[0]?.code, 1011);
  // Everyone else on the map reconnects as after any failed commit, without that answer.
  assert.equal(b.socket.closes[0]?.code, 1011);
  assert.ok(!received(b.socket).some((m) => m.type === "rejected"));
});

Deno.test("hub on an async store: a re-sent edit the store refuses fails only its own map's commit, not the other maps of the turn", async () => {
  await using t = await setup();
  const other = await t.hub.api.createMap("Other");
  const a = t.connect("a");
  const c = t.connect("c", other.id);
  a.send({ type: "hello", key: t.map.editKey, name: "a", color: "#aabbcc", client: "ca" });
  c.send({ type: "hello", key: other.editKey, name: "c", color: "#aabbcc", client: "cc" });
  await t.loaded();
  // One turn, one commit of both maps: a's re-send (the store already has it) comes first.
  t.store.duplicate = { client: "ca", id: "e1" };
  a.send(edit("e1"));
  c.send(edit("e9"));
  await turns();
  await t.hub.settled();
  assert.equal(received(a.socket).at(-1)?.code, "duplicate");
  assert.equal(a.socket.closes[0]?.code, 1011);
  const echo = received(c.socket).find((m) => m.type === "edit" && m.id === "e9");
  assert.equal(echo?.seq, 1, "the other map's edit is written and acknowledged");
  assert.deepEqual(c.socket.closes, [], "and its peers stay connected");
  const stored = await t.store.inner.loadMap(other.id, 10);
  assert.equal(stored?.tail.length, 1);
});

Deno.test("room: edits loaded with their author's client and id are recognised when re-sent", () => {
  const frame = JSON.stringify({ type: "edit", seq: 1, by: "p9", id: "e1", ops: [] });
  const room = new Room({
    record: {
      id: "m1abcdefgh",
      title: "",
      editHash: new Uint8Array(),
      viewHash: new Uint8Array(),
      createdAt: 0,
    },
    limits: { ...DEFAULT_LIMITS },
    stored: {
      record: {
        id: "m1abcdefgh",
        title: "",
        editHash: new Uint8Array(),
        viewHash: new Uint8Array(),
        createdAt: 0,
      },
      snapshotSeq: 0,
      snapshot: null,
      tail: [{ seq: 1, frame, client: "ca", id: "e1" }],
      history: [],
    },
  });
  const again = room.edit("p1", "e1", [], "ca");
  assert.equal(again.ok ? "applied" : again.code, "duplicate");
  assert.ok(room.edit("p1", "e1", [], "cb").ok, "another client's e1 is its own edit");
});
