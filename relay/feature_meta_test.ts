/** Hub tests of the `meta` extension: who last changed each feature and when, kept across restarts. */
import assert from "assert";
import { Hub } from "./hub.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { Store } from "./store.ts";
import { FakeSocket } from "./_fake_socket.ts";
import { FakeTimers } from "./_fake_timers.ts";

type Msg = Record<string, unknown> & { type: string };
type Feature = { id: string; properties: Record<string, unknown>; meta?: unknown };

/** A fake connection named `name` (its hello name) on `hub`. */
function connect(hub: Hub, mapId: string, name: string, key: string, color = "#AA0000") {
  const socket = new FakeSocket(name);
  const conn = hub.accept(socket, { mapId, addr: "192.0.2.1", transport: "test" });
  const send = (m: unknown) => conn.receive(JSON.stringify(m));
  send({ type: "hello", key, name, color });
  const all = (): Msg[] =>
    socket.sent.flatMap((t) => {
      const json = JSON.parse(t);
      return Array.isArray(json) ? json : [json];
    });
  const welcomeFeatures = (): Feature[] => {
    const w = all().find((m) => m.type === "welcome");
    return (w?.features as { features: Feature[] }).features;
  };
  return { send, all, welcomeFeatures };
}

const put = (id: string, fid: string) => ({
  type: "edit",
  id,
  ops: [{
    op: "put",
    feature: { type: "Feature", id: fid, geometry: { type: "Point", coordinates: [1, 2] } },
  }],
});

/** Ann puts f1 at t0, Bob puts f2 and renames f1 at t0 + 60 s; returns the map. */
async function twoAuthors(hub: Hub, timers: FakeTimers) {
  const map = await hub.api.createMap("Meta");
  const ann = connect(hub, map.id, "Ann", map.editKey, "#AA0000");
  const bob = connect(hub, map.id, "Bob", map.editKey, "#0000bb");
  ann.send(put("a1", "f1"));
  await hub.settled();
  timers.advance(60_000);
  bob.send(put("b1", "f2"));
  bob.send({ type: "edit", id: "b2", ops: [{ op: "props", fid: "f1", set: { name: "Pier" } }] });
  await hub.settled();
  return { map, ann, bob };
}

Deno.test("feature meta: each accepted edit names its author and time; a newcomer's welcome has them per feature", async () => {
  const store = new Store({ path: ":memory:" });
  const timers = new FakeTimers(1_000_000);
  const hub = new Hub({ store, limits: { ...DEFAULT_LIMITS }, timers });
  try {
    const { map, ann } = await twoAuthors(hub, timers);
    const echo = ann.all().find((m) => m.type === "edit" && m.id === "b2");
    assert.deepEqual(
      { name: echo?.name, color: echo?.color, at: echo?.at },
      { name: "Bob", color: "#0000bb", at: 1_060_000 },
    );
    const carol = connect(hub, map.id, "Carol", map.viewKey);
    await hub.settled();
    const byId = new Map(carol.welcomeFeatures().map((f) => [f.id, f]));
    assert.deepEqual(byId.get("f1")?.meta, { by: "Bob", color: "#0000bb", at: 1_060_000 });
    assert.deepEqual(byId.get("f2")?.meta, { by: "Bob", color: "#0000bb", at: 1_060_000 });
    assert.deepEqual(byId.get("f1")?.properties, { name: "Pier" }, "meta is not a property");
  } finally {
    await hub.close();
    store.close();
  }
});

Deno.test("feature meta: the features API and exports leave it out; an API import is stamped as such", async () => {
  const store = new Store({ path: ":memory:" });
  const timers = new FakeTimers(2_000_000);
  const hub = new Hub({ store, limits: { ...DEFAULT_LIMITS }, timers });
  try {
    const { map } = await twoAuthors(hub, timers);
    const read = await hub.api.readFeatures(map.id, map.viewKey);
    assert.ok(read.ok);
    const fc = JSON.parse(read.value) as { features: Feature[] };
    assert.equal(fc.features.length, 2);
    for (const f of fc.features) assert.equal("meta" in f, false, `${f.id} has no meta`);
    // The `?format=` exports (GeoJSON as it is, the others written from it) read the same.
    const exported = await hub.api.readForExport(map.id, map.viewKey);
    assert.ok(exported.ok);
    const features = JSON.parse(exported.value.featuresJson) as Feature[];
    assert.equal(features.length, 2);
    for (const f of features) assert.equal("meta" in f, false, `${f.id} exported without meta`);
    const imported = await hub.api.importFeatures(map.id, map.editKey, {
      features: [{ id: "g", geometry: { type: "Point", coordinates: [0, 0] } }],
      skipped: [],
    });
    assert.ok(imported.ok);
    const dave = connect(hub, map.id, "Dave", map.viewKey);
    await hub.settled();
    const g = dave.welcomeFeatures().find((f) => f.id === "g");
    assert.deepEqual(g?.meta, { by: "API import", color: "#64748b", at: 2_060_000 });
  } finally {
    await hub.close();
    store.close();
  }
});

Deno.test("feature meta: survives a restart, from the journal's tail and from a snapshot", async () => {
  const store = new Store({ path: ":memory:" });
  const timers = new FakeTimers(3_000_000);
  const first = new Hub({ store, limits: { ...DEFAULT_LIMITS }, timers });
  const want = { by: "Bob", color: "#0000bb", at: 3_060_000 };
  try {
    const { map } = await twoAuthors(first, timers);
    // A second relay on the same store before any snapshot: the map replays from the tail.
    const fromTail = new Hub({ store, limits: { ...DEFAULT_LIMITS }, timers });
    const viaTail = connect(fromTail, map.id, "Eve", map.viewKey);
    await fromTail.settled();
    assert.deepEqual(viaTail.welcomeFeatures().find((f) => f.id === "f1")?.meta, want);
    await fromTail.close();
    // Closing snapshots the map; the next relay loads the snapshot with no tail.
    await first.close();
    assert.deepEqual(store.loadMap(map.id, 10)?.tail, []);
    const fromSnapshot = new Hub({ store, limits: { ...DEFAULT_LIMITS }, timers });
    const viaSnapshot = connect(fromSnapshot, map.id, "Eve", map.viewKey);
    await fromSnapshot.settled();
    assert.deepEqual(viaSnapshot.welcomeFeatures().find((f) => f.id === "f1")?.meta, want);
    await fromSnapshot.close();
  } finally {
    await first.close();
    store.close();
  }
});
