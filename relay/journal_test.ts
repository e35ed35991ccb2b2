/** Unit tests of the worker journal: writes on its own thread are durable and ordered. */
import assert from "assert";
import { join } from "node:path";
import { WorkerJournal } from "./journal.ts";
import { Store } from "./store.ts";

Deno.test("WorkerJournal: appends, snapshots and new maps are in the file when they resolve", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-journal-" });
  const path = join(dir, "db.sqlite");
  const reader = new Store({ path });
  const journal = new WorkerJournal({ path });
  try {
    await journal.createMap({
      id: "map-0001",
      title: "T",
      editHash: new Uint8Array(32),
      viewHash: new Uint8Array(32).fill(1),
      createdAt: 5,
    });
    const frames = [1, 2, 3].map((seq) => ({ seq, frame: JSON.stringify({ type: "edit", seq }) }));
    await Promise.all([
      journal.append([{ mapId: "map-0001", entries: frames.slice(0, 2) }]),
      journal.append([{ mapId: "map-0001", entries: frames.slice(2) }]),
    ]);
    const loaded = reader.loadMap("map-0001", 10);
    assert.deepEqual(loaded?.tail.map((e) => e.seq), [1, 2, 3]);
    await journal.snapshot("map-0001", 3, "[]", 1);
    const after = reader.loadMap("map-0001", 10);
    assert.equal(after?.snapshotSeq, 3);
    // Nothing is pruned by a snapshot: the journal is the map's history.
    assert.deepEqual(after?.history.map((e) => e.seq), [1, 2, 3]);
  } finally {
    await journal.close();
    reader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WorkerJournal: a failed write rejects with the reason; a closed journal refuses", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-journal-" });
  const path = join(dir, "db.sqlite");
  const reader = new Store({ path });
  const journal = new WorkerJournal({ path });
  try {
    const record = {
      id: "map-0002",
      title: "T",
      editHash: new Uint8Array(32),
      viewHash: new Uint8Array(32),
      createdAt: 1,
    };
    await journal.createMap(record);
    await assert.rejects(journal.createMap(record), /UNIQUE|constraint/i);
    await journal.close();
    await assert.rejects(journal.createMap(record), /journal is closed/);
  } finally {
    await journal.close();
    reader.close();
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(() => new WorkerJournal({ path: ":memory:" }), /must name a database file/);
});
