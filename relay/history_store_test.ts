/** Unit tests of the history tables: an older file indexed on open, pruning in bounded steps, words. */
import assert from "assert";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { hashKey } from "./keys.ts";
import { Store } from "./store.ts";
import { changesOf, summaryOf, tallyOf } from "./history_words.ts";

function frame(seq: number, ops: unknown[], at = 1000): { seq: number; frame: string } {
  return { seq, frame: JSON.stringify({ type: "edit", seq, by: "p", id: seq, ops, at }) };
}
const put = (id: string, properties: Record<string, unknown> = {}) => ({
  op: "put",
  feature: { type: "Feature", id, geometry: null, properties },
});

Deno.test("HistoryTables: a file written before history is indexed once on open (idempotent)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-history-store-" });
  const path = join(dir, "old.sqlite");
  try {
    // The schema of the relay before history, with a journal already in it.
    const raw = new DatabaseSync(path);
    raw.exec(`
      CREATE TABLE maps (id TEXT PRIMARY KEY, title TEXT NOT NULL, edit_hash BLOB NOT NULL,
        view_hash BLOB NOT NULL, created_at INTEGER NOT NULL,
        snapshot_seq INTEGER NOT NULL DEFAULT 0, snapshot TEXT, epoch TEXT) WITHOUT ROWID;
      CREATE TABLE edits (map_id TEXT NOT NULL, seq INTEGER NOT NULL, frame TEXT NOT NULL,
        PRIMARY KEY (map_id, seq)) WITHOUT ROWID;
    `);
    raw.prepare("INSERT INTO maps VALUES ('m1', 'Old', ?, ?, 1, 0, NULL, 'e')").run(
      hashKey("a"),
      hashKey("b"),
    );
    const rows = [
      frame(1, [put("a", { name: "Dam" }), put("b")]),
      frame(2, [{ op: "del", fid: "a" }]),
      frame(3, [put("a")]),
      frame(4, [put("a"), { op: "props", fid: "b", set: { x: 1 } }]),
    ];
    for (const r of rows) {
      raw.prepare("INSERT INTO edits VALUES ('m1', ?, ?)").run(r.seq, r.frame);
    }
    raw.close();
    for (let open = 0; open < 2; open++) {
      const store = new Store({ path });
      try {
        const h = store.history;
        assert.deepEqual(h.page("m1", 99, 10, "a").map((r) => r.seq), [4, 3, 2, 1]);
        assert.deepEqual(h.page("m1", 99, 10, "b").map((r) => r.seq), [4, 1]);
        assert.deepEqual(h.touch("m1", "a", 1), { was: false, title: "Dam" });
        assert.deepEqual(h.touch("m1", "a", 2), { was: true, title: "Dam" });
        assert.equal(h.touch("m1", "a", 3).was, false, "deleted at 2: put again at 3 is an add");
        assert.equal(h.touch("m1", "a", 4).was, true, "and at 4 a replace");
        store.appendBatches([{ mapId: "m1", entries: [frame(5, [{ op: "del", fid: "b" }])] }]);
        assert.equal(h.page("m1", 99, 10, "b")[0].seq, 5);
      } finally {
        store.close();
      }
      // The second open finds it indexed and appends continue from 6.
      if (open === 0) {
        const db = new DatabaseSync(path);
        db.prepare("DELETE FROM edits WHERE seq = 5").run();
        db.prepare("DELETE FROM edit_fids WHERE seq = 5").run();
        db.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Store.pruneHistory deletes at most its budget a call, oldest first, keeping the journal whole", () => {
  const store = new Store({ path: ":memory:" });
  try {
    store.createMap({
      id: "m1",
      title: "T",
      editHash: hashKey("a"),
      viewHash: hashKey("b"),
      createdAt: 1,
    });
    const entries = Array.from({ length: 30 }, (_, i) => frame(i + 1, [put(`f${i % 4}`)], 100));
    store.appendBatches([{ mapId: "m1", entries: entries.slice(0, 10) }]);
    store.saveSnapshot("m1", 10, "[]");
    store.appendBatches([{ mapId: "m1", entries: entries.slice(10) }]);
    store.saveSnapshot("m1", 30, "[]");
    // Everything is old; the latest snapshot (30) becomes the base of what is kept.
    assert.equal(store.pruneHistory(500, 12), 12);
    assert.equal(store.history.oldest("m1"), 13);
    assert.equal(store.loadMap("m1", 100)?.snapshotSeq, 30, "still loads: no gap");
    assert.equal(store.pruneHistory(500, 12), 12);
    assert.equal(store.pruneHistory(500, 12), 6);
    assert.equal(store.history.oldest("m1"), null);
    assert.equal(store.pruneHistory(500, 12), 0);
    assert.deepEqual(store.history.page("m1", 99, 10, "f1"), []);
    assert.equal(store.history.baseAt("m1", 30)?.seq, 30);
    assert.equal(store.history.baseAt("m1", 29), null, "older kept snapshots went with the edits");
    assert.deepEqual(store.checkJournals().damaged, []);
    // Newer than the cutoff: nothing goes.
    store.appendBatches([{ mapId: "m1", entries: [frame(31, [put("x")], 9999)] }]);
    assert.equal(store.pruneHistory(5000, 12), 0);
  } finally {
    store.close();
  }
});

Deno.test("summaryOf: the words of an edit, a label winning", () => {
  type Known = { was: boolean; title: string | null };
  const none = (): Known => ({ was: false, title: null });
  const existed = (): Known => ({ was: true, title: "Dam" });
  const say = (ops: unknown[], indexed = none) =>
    summaryOf(
      tallyOf(changesOf({ ops } as Parameters<typeof changesOf>[0], indexed, () => undefined)),
    );
  assert.equal(say([put("a", { name: "Dam" })]), "added 'Dam'");
  assert.equal(say([put("a")]), "added a feature");
  assert.equal(say([put("a"), put("b")]), "added 2 features");
  assert.equal(say([put("a")], existed), "replaced 'Dam'");
  assert.equal(
    say([{ op: "props", fid: "a", set: { fill: "red" } }], existed),
    "changed 'fill' of 'Dam'",
  );
  assert.equal(
    say([{ op: "props", fid: "a", set: { x: 1 } }, { op: "props", fid: "b", set: { x: 2 } }]),
    "changed properties of 2 features",
  );
  assert.equal(say([{ op: "del", fid: "a" }], existed), "deleted 'Dam'");
  assert.equal(summaryOf([], "Imported rivers.csv"), "imported rivers.csv");
  assert.equal(summaryOf([], "QGIS sync"), "QGIS sync");
});
