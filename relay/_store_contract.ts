/** The one test suite every {@link MapStore} passes (SQLite in store_contract_test.ts, PostgreSQL in pg_store_test.ts). */
import assert from "assert";
import type { MapStore } from "./map_store.ts";
import type { HistoryReader } from "./history_reader.ts";
import { StoreDamagedError } from "./store.ts";
import type { MapRecord } from "./store.ts";

/** One empty database for one step, and the ways a test reaches it. */
export interface StoreDatabase {
  /** Opens another store instance on this database (a second relay, or a restart). */
  open(): Promise<MapStore>;
  /** Deletes a journal row behind the store's back (a bad restore), to check damage is found. */
  removeEdit(mapId: string, seq: number): Promise<void>;
  /** Deletes the database. Every store opened on it is closed by then. */
  dispose(): Promise<void>;
  /** Where `store`'s pages and past states are read (as the relay reads them). */
  reader(store: MapStore): HistoryReader;
}

/** Makes a fresh, empty database for each step. */
export type StoreDatabaseFactory = () => Promise<StoreDatabase>;

/** A map record with distinct key hashes. */
export function record(id: string, title = `Map ${id}`): MapRecord {
  return {
    id,
    title,
    editHash: new Uint8Array(32).fill(id.charCodeAt(0)),
    viewHash: new Uint8Array(32).fill(id.charCodeAt(1) ^ 0xff),
    createdAt: 1_796_212_800_000,
  };
}

/** An edit frame at `seq`, as the room writes it. */
export function frame(seq: number, by = "p1"): string {
  return JSON.stringify({ type: "edit", seq, by, id: `e${seq}`, ops: [] });
}

/** Journal entries `from..to`, each with its author's client id and edit id. */
export function entries(from: number, to: number, client = "c1") {
  const list = [];
  for (let seq = from; seq <= to; seq++) {
    list.push({ seq, frame: frame(seq), client, id: `${client}-${seq}` });
  }
  return list;
}

/** Journal rows as seq and frame (a store may add the author's client and edit id). */
function rows(list: { seq: number; frame: string }[] | undefined) {
  return (list ?? []).map(({ seq, frame }) => ({ seq, frame }));
}

/** Runs the shared steps on databases made by `fresh`. */
export async function storeContract(t: Deno.TestContext, fresh: StoreDatabaseFactory) {
  const step = stepper(t, fresh);

  await step("a created map loads with its record, no snapshot and no journal", async (_, s) => {
    await s.createMap(record("m1abcdefgh"));
    assert.deepEqual(await s.loadRecord("m1abcdefgh"), record("m1abcdefgh"));
    const map = await s.loadMap("m1abcdefgh", 10);
    assert.ok(map);
    assert.deepEqual(map.record, record("m1abcdefgh"));
    assert.equal(map.snapshotSeq, 0);
    assert.equal(map.snapshot, null);
    assert.deepEqual(map.tail, []);
    assert.deepEqual(map.history, []);
    assert.match(map.epoch ?? "", /^[0-9a-f]{32}$/);
    assert.equal(await s.loadRecord("unknown123"), null);
    assert.equal(await s.loadMap("unknown123", 10), null);
    assert.equal(await s.countMaps(), 1);
    // An id is a map's identity: a second map under it is refused.
    await assert.rejects(async () => await s.createMap(record("m1abcdefgh", "Other")));
  });

  await step("batches append in order, several maps in one commit", async (_, s) => {
    await s.createMap(record("m1abcdefgh"));
    await s.createMap(record("m2abcdefgh"));
    await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 3) }]);
    await s.appendBatches([
      { mapId: "m1abcdefgh", entries: entries(4, 5) },
      { mapId: "m2abcdefgh", entries: entries(1, 1) },
    ]);
    const m1 = await s.loadMap("m1abcdefgh", 10);
    assert.deepEqual(rows(m1?.tail), [1, 2, 3, 4, 5].map((seq) => ({ seq, frame: frame(seq) })));
    assert.deepEqual(rows((await s.loadMap("m2abcdefgh", 10))?.tail), [{
      seq: 1,
      frame: frame(1),
    }]);
    assert.deepEqual(await s.checkJournals(), { maps: 2, edits: 6, damaged: [] });
  });

  await step("a batch that leaves a gap or repeats a seq is refused whole", async (_, s) => {
    await s.createMap(record("m1abcdefgh"));
    await s.createMap(record("m2abcdefgh"));
    await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 2) }]);
    await assert.rejects(
      async () => await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(4, 4) }]),
      /journal of map m1abcdefgh is at seq 2; refusing edits from seq 4/,
    );
    await assert.rejects(
      async () => await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(2, 3) }]),
      /refusing edits from seq 2/,
    );
    // All or nothing: m2's good batch goes with m1's refused one.
    await assert.rejects(async () =>
      await s.appendBatches([
        { mapId: "m2abcdefgh", entries: entries(1, 1) },
        { mapId: "m1abcdefgh", entries: entries(5, 5) },
      ])
    );
    assert.deepEqual((await s.loadMap("m1abcdefgh", 10))?.tail.map((e) => e.seq), [1, 2]);
    assert.deepEqual((await s.loadMap("m2abcdefgh", 10))?.tail, []);
    await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(3, 3) }]);
    assert.equal((await s.loadMap("m1abcdefgh", 10))?.tail.length, 3);
  });

  await step("a snapshot keeps the tail after it and the journal before it", async (_, s) => {
    await s.createMap(record("m1abcdefgh"));
    await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 6) }]);
    await s.saveSnapshot("m1abcdefgh", 4, '[{"id":"f1"}]', 2);
    const map = await s.loadMap("m1abcdefgh", 10);
    assert.equal(map?.snapshotSeq, 4);
    assert.equal(map?.snapshot, '[{"id":"f1"}]');
    assert.deepEqual(map?.tail.map((e) => e.seq), [5, 6]);
    // The journal is the map's history: a snapshot prunes nothing (`keep` is no longer used).
    assert.deepEqual(map?.history.map((e) => e.seq), [1, 2, 3, 4]);
    // The history handed to a room is bounded by its limit, newest kept.
    assert.deepEqual((await s.loadMap("m1abcdefgh", 1))?.history.map((e) => e.seq), [4]);
    // An older snapshot never replaces a newer one.
    await s.saveSnapshot("m1abcdefgh", 3, "[]", 2);
    assert.equal((await s.loadMap("m1abcdefgh", 10))?.snapshot, '[{"id":"f1"}]');
    // The journal goes on after the snapshot.
    await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(7, 7) }]);
    assert.deepEqual((await s.loadMap("m1abcdefgh", 10))?.tail.map((e) => e.seq), [5, 6, 7]);
  });

  await step("everything written is there after the store is closed and opened", async (db, s) => {
    await s.createMap(record("m1abcdefgh"));
    await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 5) }]);
    await s.saveSnapshot("m1abcdefgh", 3, "[]", 10);
    const before = await s.loadMap("m1abcdefgh", 10);
    const again = await db.open();
    try {
      assert.deepEqual(await again.loadMap("m1abcdefgh", 10), before);
      await again.appendBatches([{ mapId: "m1abcdefgh", entries: entries(6, 6) }]);
      assert.equal((await again.loadMap("m1abcdefgh", 10))?.tail.length, 3);
    } finally {
      await again.close();
    }
  });

  await step(
    "two store instances appending the same seq: one commits, the other is refused",
    async (db, s) => {
      const other = await db.open();
      try {
        await s.createMap(record("m1abcdefgh"));
        await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 1) }]);
        const mine = [{ seq: 2, frame: frame(2, "mine"), client: "a", id: "a-2" }];
        const theirs = [{ seq: 2, frame: frame(2, "theirs"), client: "b", id: "b-2" }];
        const results = await Promise.allSettled([
          (async () => await s.appendBatches([{ mapId: "m1abcdefgh", entries: mine }]))(),
          (async () => await other.appendBatches([{ mapId: "m1abcdefgh", entries: theirs }]))(),
        ]);
        const won = results.filter((r) => r.status === "fulfilled").length;
        assert.equal(won, 1, JSON.stringify(results));
        const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        assert.match(String(refused.reason), /refusing edits from seq 2/);
        const tail = (await other.loadMap("m1abcdefgh", 10))?.tail ?? [];
        assert.deepEqual(tail.map((e) => e.seq), [1, 2]);
        const winner = results[0].status === "fulfilled" ? mine : theirs;
        assert.equal(tail[1].frame, winner[0].frame);
      } finally {
        await other.close();
      }
    },
  );

  await step("a journal with a gap is found by the check and refused on load", async (db, s) => {
    await s.createMap(record("m1abcdefgh"));
    await s.createMap(record("m2abcdefgh"));
    await s.appendBatches([
      { mapId: "m1abcdefgh", entries: entries(1, 5) },
      { mapId: "m2abcdefgh", entries: entries(1, 2) },
    ]);
    await db.removeEdit("m1abcdefgh", 3);
    const check = await s.checkJournals();
    assert.deepEqual(check.damaged, [{ mapId: "m1abcdefgh", missing: [[3, 3]] }]);
    assert.equal(check.edits, 6);
    await assert.rejects(async () => await s.loadMap("m1abcdefgh", 10), StoreDamagedError);
    assert.equal((await s.loadMap("m2abcdefgh", 10))?.tail.length, 2);
  });
}

/** Steps on comments, history, named versions and retention, which both stores keep. */
export async function historyContract(t: Deno.TestContext, fresh: StoreDatabaseFactory) {
  const step = stepper(t, fresh);

  await step(
    "comments and settings are written with the turn's edits, all or nothing",
    async (db, s) => {
      await s.createMap(record("m1abcdefgh"));
      const c1 = { n: 1, id: "k1", record: '{"id":"k1","text":"Here?"}' };
      await s.appendBatches([{ mapId: "m1abcdefgh", entries: entries(1, 1), comments: [c1] }]);
      // A batch of comments and settings alone (no edit that turn).
      const c1b = { ...c1, record: '{"id":"k1","text":"Here?","resolved":true}' };
      const c2 = { n: 2, id: "k2", record: '{"id":"k2","text":"Yes"}' };
      await s.appendBatches([{
        mapId: "m1abcdefgh",
        entries: [],
        comments: [c1b, c2],
        settings: '{"viewersMayComment":true}',
      }]);
      // A batch refused for its edits (a gap) writes none of its comments either.
      const c3 = { n: 3, id: "k3", record: '{"id":"k3","text":"lost"}' };
      await assert.rejects(async () =>
        await s.appendBatches([{
          mapId: "m1abcdefgh",
          entries: entries(5, 5),
          comments: [c3],
          settings: '{"viewersMayComment":false}',
        }])
      );
      const expected = { rows: [c1b, c2], settings: '{"viewersMayComment":true}' };
      assert.deepEqual(await s.loadComments("m1abcdefgh"), expected);
      assert.deepEqual(await s.loadComments("m2abcdefgh"), { rows: [], settings: null });
      const again = await db.open();
      try {
        assert.deepEqual(await again.loadComments("m1abcdefgh"), expected);
      } finally {
        await again.close();
      }
    },
  );
}

/** An edit frame as the room journals it: author, time and ops. */
function edit(seq: number, at: number, ops: unknown[], by = "p1"): string {
  return JSON.stringify({ type: "edit", seq, by, id: `e${seq}`, at, name: "Ann", ops });
}

/** A point feature named `name`. */
function pointFeature(id: string, name: string, x: number) {
  return {
    type: "Feature",
    id,
    geometry: { type: "Point", coordinates: [x, 0] },
    properties: { name },
  };
}

const DAY = 24 * 60 * 60 * 1000;
const T0 = 1_796_212_800_000;

/** Six edits of two features, a day apart from T0: puts, a rename, a move, a delete. */
function sixEdits() {
  const frames = [
    edit(1, T0, [{ op: "put", feature: pointFeature("dam", "Dam", 1) }]),
    edit(2, T0 + DAY, [{ op: "put", feature: pointFeature("well", "Well", 2) }]),
    edit(3, T0 + 2 * DAY, [{ op: "props", fid: "dam", set: { name: "Old dam" } }]),
    edit(4, T0 + 3 * DAY, [{
      op: "geom",
      fid: "well",
      geometry: { type: "Point", coordinates: [5, 5] },
    }]),
    edit(5, T0 + 4 * DAY, [{ op: "del", fid: "dam" }]),
    edit(6, T0 + 5 * DAY, [{ op: "props", fid: "well", set: { depth: 9 } }]),
  ];
  return frames.map((frame, i) => ({ seq: i + 1, frame }));
}

/** The features after `upTo` of {@link sixEdits}, replayed here by hand. */
function stateAfter(upTo: number) {
  const dam = pointFeature("dam", "Dam", 1);
  const well = pointFeature("well", "Well", 2);
  const states: unknown[][] = [
    [],
    [dam],
    [dam, well],
    [{ ...dam, properties: { name: "Old dam" } }, well],
    [{ ...dam, properties: { name: "Old dam" } }, {
      ...well,
      geometry: { type: "Point", coordinates: [5, 5] },
    }],
    [{ ...well, geometry: { type: "Point", coordinates: [5, 5] } }],
    [{
      ...well,
      geometry: { type: "Point", coordinates: [5, 5] },
      properties: { name: "Well", depth: 9 },
    }],
  ];
  return states[upTo];
}

/** Steps on history, named versions and retention, which both stores keep. */
export async function historyStepsContract(t: Deno.TestContext, fresh: StoreDatabaseFactory) {
  const step = stepper(t, fresh);

  await step(
    "every edit is history: pages newest first, by feature, with what changed",
    async (db, s) => {
      await s.createMap(record("m1abcdefgh"));
      const six = sixEdits();
      await s.appendBatches([{ mapId: "m1abcdefgh", entries: six.slice(0, 3) }]);
      await s.saveSnapshot("m1abcdefgh", 3, JSON.stringify(stateAfter(3)), 0);
      await s.appendBatches([{ mapId: "m1abcdefgh", entries: six.slice(3) }]);
      const reader = db.reader(s);
      const page = await reader.page("m1abcdefgh", { before: 7, limit: 4 });
      assert.deepEqual(page.entries.map((e) => e.seq), [6, 5, 4, 3]);
      assert.equal(page.next, 3);
      assert.equal(page.oldest, 1, "a snapshot prunes nothing");
      assert.deepEqual([page.entries[0].at, page.entries[0].name, page.entries[0].by], [
        T0 + 5 * DAY,
        "Ann",
        "p1",
      ]);
      const rest = await reader.page("m1abcdefgh", { before: 3, limit: 4 });
      assert.deepEqual(rest.entries.map((e) => e.seq), [2, 1]);
      assert.equal(rest.next, null);
      // By feature: only the edits that touched it, each knowing the feature existed before.
      const dam = await reader.page("m1abcdefgh", { before: 7, limit: 10, fid: "dam" });
      assert.deepEqual(dam.entries.map((e) => e.seq), [5, 3, 1]);
      assert.deepEqual(
        dam.entries.map((e) => e.changes.map((c) => [c.fid, c.kind, c.title ?? null])),
        [[["dam", "del", "Old dam"]], [["dam", "props", "Old dam"]], [["dam", "add", "Dam"]]],
      );
      assert.equal(await s.history?.oldest("m1abcdefgh"), 1);
    },
  );

  await step(
    "one commit of several maps indexes each map's edits apart, even under the same feature ids",
    async (db, s) => {
      await s.createMap(record("m1abcdefgh"));
      await s.createMap(record("m2abcdefgh"));
      const six = sixEdits();
      await s.appendBatches([
        { mapId: "m1abcdefgh", entries: six.slice(0, 3) },
        { mapId: "m2abcdefgh", entries: six.slice(0, 1) },
      ]);
      // The second commit's first map knows "dam" from its own map's first commit only.
      await s.appendBatches([
        { mapId: "m2abcdefgh", entries: [{ seq: 2, frame: six[2].frame }] },
        { mapId: "m1abcdefgh", entries: six.slice(3) },
      ]);
      const reader = db.reader(s);
      const dam1 = await reader.page("m1abcdefgh", { before: 7, limit: 10, fid: "dam" });
      assert.deepEqual(dam1.entries.map((e) => e.seq), [5, 3, 1]);
      const dam2 = await reader.page("m2abcdefgh", { before: 7, limit: 10, fid: "dam" });
      assert.deepEqual(
        dam2.entries.map((e) => [e.seq, e.changes.map((c) => [c.kind, c.title ?? null])]),
        [[2, [["props", "Old dam"]]], [1, [["add", "Dam"]]]],
      );
      const well2 = await reader.page("m2abcdefgh", { before: 7, limit: 10, fid: "well" });
      assert.deepEqual(well2.entries, [], "map 2 never had map 1's well");
      const all2 = await reader.page("m2abcdefgh", { before: 9, limit: 10 });
      assert.deepEqual(all2.entries.map((e) => e.seq), [2, 1]);
    },
  );

  await step("an edit touching 30 000 features (an import) is indexed whole", async (db, s) => {
    await s.createMap(record("m1abcdefgh"));
    const ops = [];
    for (let i = 0; i < 30_000; i++) {
      ops.push({ op: "put", feature: pointFeature(`f${i}`, i === 29_999 ? "Last" : "", i % 90) });
    }
    await s.appendBatches([{
      mapId: "m1abcdefgh",
      entries: [{ seq: 1, frame: edit(1, T0, ops) }],
    }]);
    const props = edit(2, T0, [{ op: "props", fid: "f29999", set: { n: 1 } }]);
    await s.appendBatches([{ mapId: "m1abcdefgh", entries: [{ seq: 2, frame: props }] }]);
    const page = await db.reader(s).page("m1abcdefgh", { before: 3, limit: 5, fid: "f29999" });
    assert.deepEqual(page.entries.map((e) => e.seq), [2, 1]);
    assert.deepEqual(page.entries[0].changes.map((c) => [c.kind, c.title ?? null]), [[
      "props",
      "Last",
    ]]);
  });

  await step(
    "the map at any seq: kept snapshots plus the journal replayed; named versions",
    async (db, s) => {
      await s.createMap(record("m1abcdefgh"));
      const six = sixEdits();
      for (const e of six) {
        await s.appendBatches([{ mapId: "m1abcdefgh", entries: [e] }]);
        if (e.seq === 2 || e.seq === 4) {
          await s.saveSnapshot("m1abcdefgh", e.seq, JSON.stringify(stateAfter(e.seq)), 0);
        }
      }
      const reader = db.reader(s);
      for (let at = 0; at <= 6; at++) {
        const json = await reader.featuresAt("m1abcdefgh", at);
        assert.deepEqual(JSON.parse(json ?? "null"), stateAfter(at), `the map at seq ${at}`);
      }
      const version = {
        mapId: "m1abcdefgh",
        seq: 3,
        name: "Before the trip",
        at: T0,
        author: "Ann",
      };
      await s.addVersion({ ...version, featuresJson: JSON.stringify(stateAfter(3)) });
      const { mapId: _, ...info } = version;
      assert.deepEqual(await s.history?.versions("m1abcdefgh"), [info]);
      assert.deepEqual(await s.history?.versions("m2abcdefgh"), []);
      const again = await db.open();
      try {
        assert.deepEqual(await again.history?.versions("m1abcdefgh"), [info]);
      } finally {
        await again.close();
      }
    },
  );

  await step(
    "retention prunes only edits older than the cutoff and in a snapshot",
    async (db, s) => {
      await s.createMap(record("m1abcdefgh"));
      const six = sixEdits();
      await s.appendBatches([{ mapId: "m1abcdefgh", entries: six.slice(0, 4) }]);
      await s.saveSnapshot("m1abcdefgh", 4, JSON.stringify(stateAfter(4)), 0);
      await s.appendBatches([{ mapId: "m1abcdefgh", entries: six.slice(4) }]);
      await s.addVersion({
        mapId: "m1abcdefgh",
        seq: 2,
        name: "Two",
        at: T0,
        author: "Ann",
        featuresJson: JSON.stringify(stateAfter(2)),
      });
      // Nothing is older than the first edit.
      assert.equal(await s.pruneHistory(T0, 100), 0);
      // Edits 1-5 are older than this cutoff, but 5 is after the snapshot: 1-4 go.
      assert.equal(await s.pruneHistory(T0 + 4 * DAY + 1, 100), 4);
      const reader = db.reader(s);
      assert.equal(await s.history?.oldest("m1abcdefgh"), 5);
      assert.equal(await reader.featuresAt("m1abcdefgh", 3), null, "pruned");
      assert.deepEqual(
        JSON.parse((await reader.featuresAt("m1abcdefgh", 2))!),
        stateAfter(2),
        "named",
      );
      for (const at of [4, 5, 6]) {
        assert.deepEqual(JSON.parse((await reader.featuresAt("m1abcdefgh", at))!), stateAfter(at));
      }
      const page = await reader.page("m1abcdefgh", { before: 7, limit: 10 });
      assert.deepEqual(page.entries.map((e) => e.seq), [6, 5]);
      // The map still loads with everything after its snapshot.
      const map = await s.loadMap("m1abcdefgh", 10);
      assert.deepEqual(map?.tail.map((e) => e.seq), [5, 6]);
      assert.deepEqual((await s.checkJournals()).damaged, []);
      assert.equal(await s.pruneHistory(T0 + 100 * DAY, 100), 0, "never past the snapshot");
    },
  );
}

function stepper(t: Deno.TestContext, fresh: StoreDatabaseFactory) {
  return (name: string, body: (db: StoreDatabase, store: MapStore) => Promise<void>) =>
    t.step(name, async () => {
      const db = await fresh();
      const store = await db.open();
      try {
        await body(db, store);
      } finally {
        await store.close();
        await db.dispose();
      }
    });
}
