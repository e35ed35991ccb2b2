/** Unit tests of the comments table: written with the turn's commit, read back in order, reopened. */
import assert from "assert";
import { join } from "node:path";
import { Store } from "./store.ts";

const record = {
  id: "gKR-RWWd2WN6oQ0O",
  title: "t",
  editHash: new Uint8Array(32),
  viewHash: new Uint8Array(32).fill(1),
  createdAt: 0,
};

Deno.test("Store: comments and settings commit with the turn's edits, update in place, survive reopening", () => {
  const dir = Deno.makeTempDirSync({ prefix: "duplexmap-comments-" });
  try {
    const path = join(dir, "db.sqlite");
    const store = new Store({ path });
    store.createMap(record);
    assert.deepEqual(store.loadComments(record.id), { rows: [], settings: null });
    store.appendBatches([{
      mapId: record.id,
      entries: [],
      comments: [
        { n: 1, id: "c1", record: '{"id":"c1","resolved":false}' },
        { n: 2, id: "c2", record: '{"id":"c2"}' },
      ],
      settings: '{"viewersMayComment":true}',
    }]);
    store.appendBatches([{
      mapId: record.id,
      entries: [],
      comments: [{ n: 1, id: "c1", record: '{"id":"c1","resolved":true}' }],
    }]);
    store.close();
    // Opening again runs the schema again: the tables exist, nothing is lost or doubled.
    const again = new Store({ path });
    assert.deepEqual(again.loadComments(record.id), {
      rows: [
        { n: 1, id: "c1", record: '{"id":"c1","resolved":true}' },
        { n: 2, id: "c2", record: '{"id":"c2"}' },
      ],
      settings: '{"viewersMayComment":true}',
    });
    assert.deepEqual(again.loadComments("other"), { rows: [], settings: null });
    again.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("Store: a batch whose edits do not continue the journal writes none of its comments", () => {
  const store = new Store({ path: ":memory:" });
  store.createMap(record);
  assert.throws(() =>
    store.appendBatches([{
      mapId: record.id,
      entries: [{ seq: 5, frame: "{}" }],
      comments: [{ n: 1, id: "c1", record: "{}" }],
    }])
  );
  assert.deepEqual(store.loadComments(record.id).rows, []);
  store.close();
});
