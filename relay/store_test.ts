/** Unit tests of the SQLite store: maps, the edit journal, snapshots, durability across reopen. */
import assert from "assert";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { hashKey } from "./keys.ts";
import { Store } from "./store.ts";
import type { MapRecord } from "./store.ts";

function record(id: string, title = "Survey"): MapRecord {
  return {
    id,
    title,
    editHash: hashKey(`edit-${id}`),
    viewHash: hashKey(`view-${id}`),
    createdAt: 1_700_000_000_000,
  };
}

function frame(seq: number): { seq: number; frame: string } {
  return { seq, frame: JSON.stringify({ type: "edit", seq, by: "p", id: seq, ops: [] }) };
}

/** A temporary directory removed when the test is done. */
async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "duplexmap-store-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}

Deno.test("Store creates a map and loads it back, keys only as hashes", async () => {
  await using dir = await tempDir();
  const store = new Store({ path: join(dir.path, "maps.db") });
  try {
    store.createMap(record("map-aaaaaaaa", "Field survey"));
    const loaded = store.loadMap("map-aaaaaaaa", 100);
    assert.ok(loaded);
    assert.deepEqual(loaded.record, record("map-aaaaaaaa", "Field survey"));
    assert.equal(loaded.snapshotSeq, 0);
    assert.equal(loaded.snapshot, null);
    assert.deepEqual(loaded.tail, []);
    assert.deepEqual(loaded.history, []);
    assert.equal(store.loadMap("map-unknown1", 100), null);
    assert.equal(store.countMaps(), 1);
  } finally {
    store.close();
  }
});

Deno.test("Store refuses a second map with the same id", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    assert.throws(() => store.createMap(record("map-aaaaaaaa")));
    assert.equal(store.countMaps(), 1);
  } finally {
    store.close();
  }
});

Deno.test("Store appends edits in a transaction; the tail comes back in seq order", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    store.createMap(record("map-bbbbbbbb"));
    store.transaction(() => {
      store.appendEdits("map-aaaaaaaa", [frame(1), frame(2)]);
      store.appendEdits("map-bbbbbbbb", [frame(1)]);
    });
    store.transaction(() => store.appendEdits("map-aaaaaaaa", [frame(3)]));
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, [frame(1), frame(2), frame(3)]);
    assert.deepEqual(store.loadMap("map-bbbbbbbb", 100)?.tail, [frame(1)]);
  } finally {
    store.close();
  }
});

Deno.test("Store.transaction rolls back everything when it throws", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    assert.throws(
      () =>
        store.transaction(() => {
          store.appendEdits("map-aaaaaaaa", [frame(1), frame(2)]);
          throw new Error("disk on fire");
        }),
      /disk on fire/,
    );
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, []);
    // A duplicate seq fails the insert: the whole batch is undone, not just the failing row.
    store.transaction(() => store.appendEdits("map-aaaaaaaa", [frame(1)]));
    assert.throws(() =>
      store.transaction(() => store.appendEdits("map-aaaaaaaa", [frame(2), frame(1)]))
    );
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, [frame(1)]);
    // The store is still usable afterwards.
    store.transaction(() => store.appendEdits("map-aaaaaaaa", [frame(2)]));
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, [frame(1), frame(2)]);
  } finally {
    store.close();
  }
});

Deno.test("Store.transaction: a nested call joins the outer transaction", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    assert.throws(() =>
      store.transaction(() => {
        store.transaction(() => store.appendEdits("map-aaaaaaaa", [frame(1)]));
        throw new Error("outer fails");
      })
    );
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, []);
  } finally {
    store.close();
  }
});

Deno.test("Store: a snapshot prunes nothing (the journal is history); reload gives the snapshot, the tail and recent history", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    store.transaction(() => store.appendEdits("map-aaaaaaaa", [1, 2, 3, 4, 5, 6, 7, 8].map(frame)));
    const features = JSON.stringify([{ type: "Feature", id: "a", geometry: null, properties: {} }]);
    // Snapshot at 6: the load replays only 7 and 8, but every row stays in the journal.
    store.saveSnapshot("map-aaaaaaaa", 6, features, 2);
    const loaded = store.loadMap("map-aaaaaaaa", 100);
    assert.ok(loaded);
    assert.equal(loaded.snapshotSeq, 6);
    assert.equal(loaded.snapshot, features);
    assert.deepEqual(loaded.tail, [frame(7), frame(8)]);
    assert.deepEqual(loaded.history, [1, 2, 3, 4, 5, 6].map(frame));
    assert.equal(store.history.oldest("map-aaaaaaaa"), 1);
    // The history limit keeps the newest rows.
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 1)?.history, [frame(6)]);
  } finally {
    store.close();
  }
});

Deno.test("Store: an older snapshot never replaces a newer one", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    store.transaction(() => store.appendEdits("map-aaaaaaaa", [1, 2, 3].map(frame)));
    store.saveSnapshot("map-aaaaaaaa", 3, "[3]", 10);
    store.saveSnapshot("map-aaaaaaaa", 2, "[2]", 10);
    const loaded = store.loadMap("map-aaaaaaaa", 10);
    assert.equal(loaded?.snapshotSeq, 3);
    assert.equal(loaded?.snapshot, "[3]");
  } finally {
    store.close();
  }
});

Deno.test("Store: a second Store on the same file sees committed data (durable across reopen)", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "maps.db");
  const first = new Store({ path });
  try {
    first.createMap(record("map-aaaaaaaa"));
    first.transaction(() => first.appendEdits("map-aaaaaaaa", [frame(1), frame(2)]));
    first.saveSnapshot("map-aaaaaaaa", 1, "[]", 0);
    // Seen while the first is still open (another process would see the same).
    const second = new Store({ path });
    try {
      const loaded = second.loadMap("map-aaaaaaaa", 10);
      assert.equal(loaded?.snapshotSeq, 1);
      assert.deepEqual(loaded?.tail, [frame(2)]);
    } finally {
      second.close();
    }
  } finally {
    first.close();
  }
  const reopened = new Store({ path });
  try {
    const loaded = reopened.loadMap("map-aaaaaaaa", 10);
    assert.deepEqual(loaded?.record, record("map-aaaaaaaa"));
    assert.equal(loaded?.snapshot, "[]");
    assert.deepEqual(loaded?.tail, [frame(2)]);
    assert.deepEqual(loaded?.history, [frame(1)]);
    // And it keeps working: the journal continues after the reopen.
    reopened.transaction(() => reopened.appendEdits("map-aaaaaaaa", [frame(3)]));
    assert.deepEqual(reopened.loadMap("map-aaaaaaaa", 10)?.tail, [frame(2), frame(3)]);
  } finally {
    reopened.close();
  }
});

Deno.test("Store: an uncommitted transaction is invisible to a second Store", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "maps.db");
  const writer = new Store({ path });
  const reader = new Store({ path });
  try {
    writer.createMap(record("map-aaaaaaaa"));
    writer.transaction(() => {
      writer.appendEdits("map-aaaaaaaa", [frame(1)]);
      assert.deepEqual(reader.loadMap("map-aaaaaaaa", 10)?.tail, []);
    });
    assert.deepEqual(reader.loadMap("map-aaaaaaaa", 10)?.tail, [frame(1)]);
  } finally {
    reader.close();
    writer.close();
  }
});

Deno.test("Store: a bad path option says what it received; close is idempotent", () => {
  assert.throws(
    () => new Store({ path: "" }),
    /'path' must be a non-empty string: received ""/,
  );
  const store = new Store({ path: ":memory:" });
  store.close();
  store.close();
});

Deno.test("Store: edits that do not continue a map's journal are refused, so no gap is ever stored", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    store.createMap(record("map-bbbbbbbb"));
    store.appendBatches([{ mapId: "map-aaaaaaaa", entries: [frame(1), frame(2)] }]);
    // Edit 3 was lost with a failed commit; 4 must not be stored on its own. The whole batch
    // (the other map's edit too) is refused, like any failed commit.
    assert.throws(
      () =>
        store.appendBatches([
          { mapId: "map-bbbbbbbb", entries: [frame(1)] },
          { mapId: "map-aaaaaaaa", entries: [frame(4)] },
        ]),
      /journal of map map-aaaaaaaa is at seq 2; refusing edits from seq 4/,
    );
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, [frame(1), frame(2)]);
    assert.deepEqual(store.loadMap("map-bbbbbbbb", 100)?.tail, []);
    // After a snapshot (and whatever retention pruned), the journal continues after the snapshot.
    store.saveSnapshot("map-aaaaaaaa", 2, "[]", 0);
    assert.throws(() => store.appendBatches([{ mapId: "map-aaaaaaaa", entries: [frame(2)] }]));
    store.appendBatches([{ mapId: "map-aaaaaaaa", entries: [frame(3)] }]);
    assert.deepEqual(store.loadMap("map-aaaaaaaa", 100)?.tail, [frame(3)]);
  } finally {
    store.close();
  }
});

Deno.test("Store.loadRecord reads a map's record without its journal, which may not even parse", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("m1"));
    store.transaction(() => store.appendEdits("m1", [{ seq: 1, frame: "not json" }]));
    assert.deepEqual(store.loadRecord("m1"), record("m1"));
    assert.equal(store.loadRecord("nope"), null);
  } finally {
    store.close();
  }
});

Deno.test("Store: every map gets an epoch of its own, the same on every load, new on renewEpochs", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap(record("map-aaaaaaaa"));
    store.createMap(record("map-bbbbbbbb"));
    const epochOf = (id: string) => store.loadMap(id, 10)?.epoch;
    const [a, b] = [epochOf("map-aaaaaaaa"), epochOf("map-bbbbbbbb")];
    assert.match(a ?? "", /^[0-9a-f]{32}$/);
    assert.match(b ?? "", /^[0-9a-f]{32}$/);
    assert.notEqual(a, b);
    assert.equal(epochOf("map-aaaaaaaa"), a, "loading does not change it");
    assert.equal(store.renewEpochs(), 2);
    assert.notEqual(epochOf("map-aaaaaaaa"), a);
    assert.notEqual(epochOf("map-bbbbbbbb"), b);
  } finally {
    store.close();
  }
});

Deno.test("Store: a database from before epochs is migrated on open, its maps and journals intact", async () => {
  await using dir = await tempDir();
  const path = join(dir.path, "old.db");
  // The schema as the relay wrote it before epochs.
  const old = new DatabaseSync(path);
  old.exec(`
    CREATE TABLE maps (
      id TEXT PRIMARY KEY, title TEXT NOT NULL, edit_hash BLOB NOT NULL, view_hash BLOB NOT NULL,
      created_at INTEGER NOT NULL, snapshot_seq INTEGER NOT NULL DEFAULT 0, snapshot TEXT
    ) WITHOUT ROWID;
    CREATE TABLE edits (
      map_id TEXT NOT NULL, seq INTEGER NOT NULL, frame TEXT NOT NULL, PRIMARY KEY (map_id, seq)
    ) WITHOUT ROWID;
  `);
  const insert = old.prepare(
    "INSERT INTO maps (id, title, edit_hash, view_hash, created_at) VALUES (?, ?, ?, ?, ?)",
  );
  for (const id of ["map-aaaaaaaa", "map-bbbbbbbb"]) {
    const r = record(id);
    insert.run(r.id, r.title, r.editHash, r.viewHash, r.createdAt);
  }
  old.prepare("INSERT INTO edits (map_id, seq, frame) VALUES (?, ?, ?)")
    .run("map-aaaaaaaa", 1, frame(1).frame);
  old.close();

  const store = new Store({ path });
  let epoch: string | undefined;
  try {
    const a = store.loadMap("map-aaaaaaaa", 10);
    assert.deepEqual(a?.record, record("map-aaaaaaaa"));
    assert.deepEqual(a?.tail, [frame(1)]);
    epoch = a?.epoch;
    assert.match(epoch ?? "", /^[0-9a-f]{32}$/);
    assert.notEqual(store.loadMap("map-bbbbbbbb", 10)?.epoch, epoch);
    // The journal goes on, and new maps get an epoch too.
    store.transaction(() => store.appendEdits("map-aaaaaaaa", [frame(2)]));
    store.createMap(record("map-cccccccc"));
    assert.match(store.loadMap("map-cccccccc", 10)?.epoch ?? "", /^[0-9a-f]{32}$/);
  } finally {
    store.close();
  }
  // A second open finds it migrated and keeps the epochs.
  const again = new Store({ path });
  try {
    assert.equal(again.loadMap("map-aaaaaaaa", 10)?.epoch, epoch);
    assert.deepEqual(again.loadMap("map-aaaaaaaa", 10)?.tail, [frame(1), frame(2)]);
  } finally {
    again.close();
  }
});
