/** Unit tests of the worker journal: writes on its own thread are durable and ordered. */
import assert from "assert";
import { join } from "node:path";
import { WorkerJournal } from "./journal.ts";
import { Store } from "./store.ts";

/** Runs `test` on a worker journal over a new database file, and a reader of that file. */
async function withJournal(test: (journal: WorkerJournal, reader: Store) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-journal-" });
  const path = join(dir, "db.sqlite");
  const reader = new Store({ path });
  const journal = new WorkerJournal({ path });
  try {
    await test(journal, reader);
  } finally {
    await journal.close();
    reader.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("WorkerJournal: appends, snapshots and new maps are in the file when they resolve", async () => {
  await withJournal(async (journal, reader) => {
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
  });
});

Deno.test("WorkerJournal: a failed write rejects with the reason; a closed journal refuses", async () => {
  await withJournal(async (journal) => {
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
  });
  assert.throws(() => new WorkerJournal({ path: ":memory:" }), /must name a database file/);
});

Deno.test("WorkerJournal: appends made while one is being written go to the disk as one write, each caller settling in order", async () => {
  await withJournal(async (journal, reader) => {
    const record = (id: string) => ({
      id,
      title: "T",
      editHash: new Uint8Array(32),
      viewHash: new Uint8Array(32).fill(1),
      createdAt: 5,
    });
    await journal.createMap(record("map-000a"));
    await journal.createMap(record("map-000b"));
    const before = journal.appendWrites;
    const settled: number[] = [];
    const turns = Array.from({ length: 40 }, (_, i) =>
      journal.append([{
        mapId: i % 2 ? "map-000b" : "map-000a",
        entries: [{ seq: Math.floor(i / 2) + 1, frame: JSON.stringify({ type: "edit", i }) }],
      }]).then(() => settled.push(i)));
    // A snapshot behind them waits for them (it needs their seqs), and still settles.
    const snapshot = journal.snapshot("map-000a", 20, "[]", 1).then(() => settled.push(-1));
    await Promise.all([...turns, snapshot]);
    assert.deepEqual(settled, [...Array.from({ length: 40 }, (_, i) => i), -1], "in call order");
    assert.equal(journal.appendWrites - before, 2, "the first turn alone, the 39 behind it as one");
    assert.deepEqual(reader.loadMap("map-000a", 100)?.history.map((e) => e.seq).length, 20);
    assert.equal(reader.loadMap("map-000b", 100)?.tail.length, 20);
    assert.equal(reader.loadMap("map-000a", 100)?.snapshotSeq, 20);
  });
});
