/** Unit tests of the room: atomic ops, limits, catch-up on join, presence, rebuild from the store. */
import assert from "assert";
import { hashKey } from "./keys.ts";
import { FakeSocket } from "./_fake_socket.ts";
import { Peer } from "./peer.ts";
import type { EditOp, Geometry, StoredFeature } from "./protocol.ts";
import { Room } from "./room.ts";
import type { RoomLimits } from "./room.ts";
import type { MapRecord, StoredMap } from "./store.ts";

const LIMITS: RoomLimits = {
  maxFeatures: 100,
  maxVertices: 1000,
  maxPropsBytes: 1024,
  recentEdits: 10,
};

const RECORD: MapRecord = {
  id: "map-aaaaaaaa",
  title: "Survey",
  editHash: hashKey("edit"),
  viewHash: hashKey("view"),
  createdAt: 0,
};

const point = (lng = 1, lat = 2): Geometry => ({ type: "Point", coordinates: [lng, lat] });
const put = (id: string, properties: Record<string, unknown> = {}, geometry = point()): EditOp => ({
  op: "put",
  feature: { type: "Feature", id, geometry, properties },
});

function peer(id: string, role: "editor" | "viewer" = "editor"): Peer & { socket: FakeSocket } {
  const p = new Peer(id, new FakeSocket(), "127.0.0.1");
  p.name = `name-${id}`;
  p.color = "#123456";
  p.role = role;
  return p as Peer & { socket: FakeSocket };
}

type Msg = Record<string, unknown> & { type: string };

/** Flushes a peer and returns the messages it received in that flush, arrays unpacked. */
function drain(p: Peer & { socket: FakeSocket }): Msg[] {
  const before = p.socket.sent.length;
  p.flush(1 << 30);
  return p.socket.sent.slice(before).flatMap((text) => {
    const json = JSON.parse(text);
    return Array.isArray(json) ? json : [json];
  });
}

function features(room: Room): StoredFeature[] {
  return JSON.parse(room.featuresJson());
}

Deno.test("applyOps is atomic: one failing op leaves nothing applied", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  assert.ok(room.edit("p1", 1, [put("a", { v: 1 })]).ok);
  const json = room.featuresJson();
  const cases: [EditOp[], string][] = [
    [
      [put("b"), { op: "props", fid: "a", set: { v: 2 } }, { op: "del", fid: "ghost" }],
      "unknown_feature",
    ],
    [[{ op: "del", fid: "a" }, { op: "geom", fid: "a", geometry: point() }], "unknown_feature"],
    [[{ op: "props", fid: "a", set: { v: 3 } }, put("c", { big: "x".repeat(2000) })], "too_large"],
  ];
  for (const [ops, code] of cases) {
    const result = room.edit("p1", "x", ops);
    assert.ok(!result.ok);
    assert.equal(result.code, code);
    assert.equal(room.featuresJson(), json, "nothing of a rejected edit is applied");
    assert.equal(room.seq, 1, "a rejected edit takes no seq");
  }
  assert.deepEqual(room.takeUnsaved().map((e) => e.seq), [1]);
});

Deno.test("props: last writer wins per property, other properties survive", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  room.edit("p1", 1, [put("a", { name: "old", colour: "red", keep: 1 })]);
  room.edit("p1", 2, [{ op: "props", fid: "a", set: { name: "Alice's" } }]);
  room.edit("p2", 1, [{ op: "props", fid: "a", set: { colour: "blue" } }]);
  room.edit("p1", 3, [{ op: "props", fid: "a", set: { name: "final" }, unset: ["keep"] }]);
  assert.deepEqual(features(room)[0].properties, { name: "final", colour: "blue" });
  // A put replaces properties as a whole.
  room.edit("p2", 2, [put("a", { only: true })]);
  assert.deepEqual(features(room)[0].properties, { only: true });
});

Deno.test("limits: more features than allowed is too_many_features; shrinking still works", () => {
  const room = new Room({ record: RECORD, limits: { ...LIMITS, maxFeatures: 2 } });
  assert.ok(room.edit("p", 1, [put("a"), put("b")]).ok);
  const over = room.edit("p", 2, [put("c")]);
  assert.ok(!over.ok);
  assert.equal(over.code, "too_many_features");
  assert.match(over.message, /3 features; the limit is 2/);
  // Replacing a feature, or deleting one and adding another, stays within the limit.
  assert.ok(room.edit("p", 3, [put("a", { v: 2 })]).ok);
  assert.ok(room.edit("p", 4, [{ op: "del", fid: "a" }, put("c")]).ok);
  assert.deepEqual(features(room).map((f) => f.id).sort(), ["b", "c"]);
});

Deno.test("edit gives increasing seqs and queues the same echo on every peer, author included", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  const a = peer("a");
  const b = peer("b", "viewer");
  room.join(a, undefined);
  room.join(b, undefined);
  drain(a);
  drain(b);
  const first = room.edit("a", "e1", [put("f1")]);
  const second = room.edit("a", "e2", [{ op: "del", fid: "f1" }]);
  assert.ok(first.ok && second.ok);
  assert.deepEqual([first.seq, second.seq], [1, 2]);
  const expected = [JSON.parse(first.frame), JSON.parse(second.frame)];
  assert.deepEqual(expected[0], { type: "edit", seq: 1, by: "a", id: "e1", ops: [put("f1")] });
  assert.deepEqual(drain(a), expected);
  assert.deepEqual(drain(b), expected);
  assert.deepEqual(room.takeUnsaved(), [
    { seq: 1, frame: first.frame },
    { seq: 2, frame: second.frame },
  ]);
  assert.equal(room.hasUnsaved, false);
  assert.deepEqual(room.takeUnsaved(), []);
});

Deno.test("join: welcome with a snapshot, others are told who joined", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  room.edit("x", 1, [put("f1", { n: 1 })]);
  const a = peer("a");
  room.join(a, undefined);
  const [welcome] = drain(a);
  assert.deepEqual(welcome, {
    type: "welcome",
    you: { peer: "a", name: "name-a", color: "#123456", role: "editor" },
    peers: [],
    seq: 1,
    map: { id: RECORD.id, title: "Survey" },
    features: { type: "FeatureCollection", features: features(room) },
  });
  const b = peer("b", "viewer");
  a.view = { bbox: [0, 0, 1, 1], zoom: 3 };
  a.cursor = [0.5, 0.5];
  room.join(b, undefined);
  const [welcomeB] = drain(b);
  assert.deepEqual(welcomeB.peers, [{
    peer: "a",
    name: "name-a",
    color: "#123456",
    role: "editor",
    view: { bbox: [0, 0, 1, 1], zoom: 3 },
    cursor: [0.5, 0.5],
  }]);
  assert.deepEqual(drain(a), [{
    type: "joined",
    peer: "b",
    name: "name-b",
    color: "#123456",
    role: "viewer",
  }]);
  assert.equal(room.peerCount, 2);
});

Deno.test("join with since gives exactly the missed edit frames", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  const frames: string[] = [];
  for (let i = 1; i <= 5; i++) {
    const r = room.edit("x", i, [put(`f${i}`)]);
    assert.ok(r.ok);
    frames.push(r.frame);
  }
  for (const since of [0, 2, 4, 5]) {
    const p = peer(`p${since}`);
    room.join(p, since);
    const [welcome] = drain(p);
    assert.equal(welcome.seq, 5);
    assert.equal(welcome.features, undefined, `since ${since} needs no snapshot`);
    assert.deepEqual(welcome.ops, frames.slice(since).map((f) => JSON.parse(f)), `since ${since}`);
  }
});

Deno.test("join with since too old or in the future gives a snapshot instead", () => {
  const room = new Room({ record: RECORD, limits: { ...LIMITS, recentEdits: 3 } });
  for (let i = 1; i <= 20; i++) room.edit("x", i, [put(`f${i % 4}`, { i })]);
  for (const since of [0, 5, 21, 1000]) {
    const p = peer(`p${since}`);
    room.join(p, since);
    const [welcome] = drain(p);
    assert.equal(welcome.ops, undefined, `since ${since}`);
    assert.deepEqual(welcome.features, { type: "FeatureCollection", features: features(room) });
  }
  // The most recent edits are still there for a peer that is only a little behind.
  const p = peer("recent");
  room.join(p, 18);
  const [welcome] = drain(p);
  assert.deepEqual((welcome.ops as Msg[]).map((f) => f.seq), [19, 20]);
});

/** A room of map RECORD with five edits, loaded from the store under `epoch`. */
function roomWithEpoch(epoch: string | undefined): { room: Room; frames: string[] } {
  const source = new Room({ record: RECORD, limits: LIMITS });
  for (let i = 1; i <= 5; i++) source.edit("x", i, [put(`f${i}`, { i })]);
  const journal = source.takeUnsaved();
  const stored: StoredMap = {
    record: RECORD,
    snapshotSeq: 0,
    snapshot: null,
    tail: journal,
    history: [],
    ...(epoch === undefined ? {} : { epoch }),
  };
  return {
    room: new Room({ record: RECORD, limits: LIMITS, stored }),
    frames: journal.map((e) => e.frame),
  };
}

Deno.test("welcome carries the map's epoch; since with the same epoch gives the missed edits", () => {
  const { room, frames } = roomWithEpoch("e1");
  assert.equal(room.epoch, "e1");
  const fresh = peer("fresh");
  assert.equal(room.join(fresh, undefined), "snapshot");
  const [first] = drain(fresh);
  assert.equal(first.epoch, "e1");
  assert.equal(first.seq, 5);
  const back = peer("back");
  assert.equal(room.join(back, 3, "e1"), "ops");
  const [welcome] = drain(back);
  assert.equal(welcome.epoch, "e1");
  assert.equal(welcome.features, undefined);
  assert.deepEqual(welcome.ops, frames.slice(3).map((f) => JSON.parse(f)));
});

Deno.test("since from another epoch gets the whole map, never a catch-up", () => {
  const { room } = roomWithEpoch("e2");
  for (const since of [0, 3, 5, 9]) {
    const p = peer(`p${since}`);
    assert.equal(room.join(p, since, "e1"), "epoch_mismatch", `since ${since}`);
    const [welcome] = drain(p);
    assert.equal(welcome.ops, undefined, `since ${since}`);
    assert.equal(welcome.epoch, "e2");
    assert.deepEqual(welcome.features, { type: "FeatureCollection", features: features(room) });
  }
  // A map without an epoch (made by an older relay) is no history the client's epoch names.
  const { room: old } = roomWithEpoch(undefined);
  const p = peer("old");
  assert.equal(old.join(p, 3, "e1"), "epoch_mismatch");
  const [welcome] = drain(p);
  assert.equal("epoch" in welcome, false);
  assert.ok(welcome.features);
});

Deno.test("since without an epoch (an older client) is answered as before epochs", () => {
  const { room, frames } = roomWithEpoch("e3");
  const p = peer("older");
  assert.equal(room.join(p, 2), "ops");
  const [welcome] = drain(p);
  assert.deepEqual(welcome.ops, frames.slice(2).map((f) => JSON.parse(f)));
  // Past the head it is the whole map, as before.
  const ahead = peer("ahead");
  assert.equal(room.join(ahead, 6), "snapshot");
  assert.ok(drain(ahead)[0].features);
});

Deno.test("presence is coalesced: only the newest view and cursor of each peer is sent", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  const a = peer("a");
  const b = peer("b");
  const c = peer("c");
  for (const p of [a, b, c]) room.join(p, undefined);
  for (const p of [a, b, c]) drain(p);
  for (let i = 0; i < 10; i++) {
    a.cursor = [i, i];
    room.presence(a, "cursor");
    room.flushPresence();
  }
  a.view = { bbox: [0, 0, 2, 2], zoom: 4 };
  room.presence(a, "view");
  room.flushPresence();
  b.cursor = null;
  room.presence(b, "cursor");
  assert.equal(room.presencePending, true);
  room.flushPresence();
  assert.equal(room.presencePending, false);
  assert.deepEqual(drain(a), [{ type: "cursor", peer: "b", at: null }], "nobody sees themselves");
  const atB = drain(b);
  assert.equal(atB.length, 2);
  assert.deepEqual(atB.find((m) => m.type === "cursor"), { type: "cursor", peer: "a", at: [9, 9] });
  assert.deepEqual(atB.find((m) => m.type === "view"), {
    type: "view",
    peer: "a",
    bbox: [0, 0, 2, 2],
    zoom: 4,
  });
  assert.equal(drain(c).length, 3);
});

Deno.test("leave tells the others and forgets that peer's unsent presence", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  const a = peer("a");
  const b = peer("b");
  const c = peer("c");
  for (const p of [a, b, c]) room.join(p, undefined);
  for (const p of [a, b, c]) drain(p);
  a.cursor = [1, 1];
  room.presence(a, "cursor");
  c.cursor = [3, 3];
  room.presence(c, "cursor");
  room.flushPresence();
  room.leave(a, 1000);
  // Ordered messages go first in a flush, the coalesced presence after them.
  assert.deepEqual(drain(b), [
    { type: "left", peer: "a" },
    { type: "cursor", peer: "c", at: [3, 3] },
  ]);
  // Presence noted before leaving but not yet flushed is not sent either.
  b.cursor = [2, 2];
  room.presence(b, "cursor");
  room.leave(b, 2000);
  room.flushPresence();
  const atC = drain(c);
  assert.deepEqual(atC.filter((m) => m.type === "left").map((m) => m.peer), ["a", "b"]);
  assert.ok(!atC.some((m) => m.type === "cursor"), JSON.stringify(atC));
  assert.equal(room.emptySince, null);
  room.leave(c, 3000);
  assert.equal(room.emptySince, 3000);
  room.leave(c, 4000);
  assert.equal(room.emptySince, 3000, "leaving twice changes nothing");
});

Deno.test("a Room rebuilt from its StoredMap equals the original", () => {
  const original = new Room({ record: RECORD, limits: LIMITS });
  const journal: { seq: number; frame: string }[] = [];
  const editAndLog = (ops: EditOp[]) => {
    const r = original.edit("p", journal.length, ops);
    assert.ok(r.ok, JSON.stringify(r));
    journal.push(...original.takeUnsaved());
  };
  editAndLog([put("a", { n: 1 }), put("b"), put("c")]);
  editAndLog([{ op: "props", fid: "a", set: { m: 2 } }]);
  editAndLog([{ op: "del", fid: "b" }]);
  const snapshotSeq = original.seq;
  const snapshot = original.featuresJson();
  editAndLog([put("b", { back: true })]);
  editAndLog([{ op: "geom", fid: "c", geometry: point(9, 9) }]);
  editAndLog([{ op: "props", fid: "a", set: {}, unset: ["n"] }]);

  // From the snapshot and the tail.
  const stored: StoredMap = {
    record: RECORD,
    snapshotSeq,
    snapshot,
    tail: journal.filter((e) => e.seq > snapshotSeq),
    history: journal.filter((e) => e.seq <= snapshotSeq),
  };
  const fromSnapshot = new Room({ record: RECORD, limits: LIMITS, stored });
  // From the journal alone.
  const fromJournal = new Room({
    record: RECORD,
    limits: LIMITS,
    stored: { record: RECORD, snapshotSeq: 0, snapshot: null, tail: journal, history: [] },
  });
  for (const rebuilt of [fromSnapshot, fromJournal]) {
    assert.equal(rebuilt.seq, original.seq);
    assert.equal(rebuilt.featuresJson(), original.featuresJson());
    assert.equal(rebuilt.hasUnsaved, false, "replayed edits are already durable");
    // Catch-up works across the restart too.
    const p = peer("p");
    rebuilt.join(p, 1);
    const [welcome] = drain(p);
    assert.deepEqual(welcome.ops, journal.slice(1).map((e) => JSON.parse(e.frame)));
  }
  assert.equal(fromSnapshot.editsSinceSnapshot, 3);
  // New edits continue the sequence.
  const next = fromSnapshot.edit("p", "next", [put("d")]);
  assert.ok(next.ok);
  assert.equal(next.seq, original.seq + 1);
});

Deno.test("a journal that does not replay fails loudly", () => {
  const bad = JSON.stringify({
    type: "edit",
    seq: 1,
    by: "p",
    id: 1,
    ops: [{ op: "del", fid: "x" }],
  });
  assert.throws(
    () =>
      new Room({
        record: RECORD,
        limits: LIMITS,
        stored: {
          record: RECORD,
          snapshotSeq: 0,
          snapshot: null,
          tail: [{ seq: 1, frame: bad }],
          history: [],
        },
      }),
    /does not replay at seq 1/,
  );
});

Deno.test("featureCollectionJson is GeoJSON and featuresJson is cached until the next edit", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  room.edit("p", 1, [put("a")]);
  const first = room.featuresJson();
  assert.equal(room.featuresJson(), first);
  assert.deepEqual(JSON.parse(room.featureCollectionJson()), {
    type: "FeatureCollection",
    features: [{ type: "Feature", id: "a", geometry: point(), properties: {} }],
  });
  room.edit("p", 2, [{ op: "del", fid: "a" }]);
  assert.equal(room.featuresJson(), "[]");
});

Deno.test("a cursor move does not resend the unchanged view", () => {
  const room = new Room({ record: RECORD, limits: LIMITS });
  const a = peer("a");
  const b = peer("b");
  for (const p of [a, b]) room.join(p, undefined);
  a.view = { bbox: [0, 0, 1, 1], zoom: 3 };
  room.presence(a, "view");
  room.flushPresence();
  drain(b);
  a.cursor = [0.5, 0.5];
  room.presence(a, "cursor");
  room.flushPresence();
  assert.deepEqual(drain(b), [{ type: "cursor", peer: "a", at: [0.5, 0.5] }]);
});

Deno.test("the catch-up log is bounded in size too: a `since` behind big edits gets a snapshot", () => {
  const room = new Room({
    record: RECORD,
    limits: { ...LIMITS, recentEdits: 100, recentBytes: 4096 },
  });
  const big = "x".repeat(1000);
  for (let i = 1; i <= 10; i++) {
    const result = room.edit("p", i, [{
      op: "put",
      feature: {
        type: "Feature",
        id: `f${i}`,
        geometry: { type: "Point", coordinates: [0, 0] },
        properties: { big },
      },
    }]);
    assert.ok(result.ok);
  }
  const early = peer("early");
  room.join(early, 1);
  assert.ok("features" in drain(early)[0], "edits 2..10 no longer all fit: snapshot");
  const late = peer("late");
  room.join(late, 9);
  const welcome = drain(late)[0];
  assert.deepEqual((welcome.ops as Msg[]).map((m) => m.seq), [10]);

  // The same bound holds for a map loaded back from the store with that history.
  const journal = room.takeUnsaved();
  const reloaded = new Room({
    record: RECORD,
    limits: { ...LIMITS, recentEdits: 100, recentBytes: 4096 },
    stored: {
      record: RECORD,
      snapshotSeq: 10,
      snapshot: room.featuresJson(),
      tail: [],
      history: journal,
    },
  });
  const again = peer("again");
  reloaded.join(again, 1);
  assert.ok("features" in drain(again)[0], "the reloaded log was trimmed to its size too");
  const recent = peer("recent");
  reloaded.join(recent, 9);
  assert.deepEqual((drain(recent)[0].ops as Msg[]).map((m) => m.seq), [10]);
});
