/** Unit tests of the history reader: the worker rebuilds what the inline reader does, and lets go of the file. */
import assert from "assert";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { hashKey } from "./keys.ts";
import { InlineHistoryReader, WorkerHistoryReader } from "./history_reader.ts";
import { Store } from "./store.ts";

Deno.test("WorkerHistoryReader rebuilds the same states as the inline reader, and closes its connection", async () => {
  const dir = await Deno.makeTempDir({ prefix: "duplexmap-history-reader-" });
  const path = join(dir, "db.sqlite");
  const store = new Store({ path });
  const worker = new WorkerHistoryReader({ path });
  try {
    store.createMap({
      id: "m1",
      title: "T",
      editHash: hashKey("a"),
      viewHash: hashKey("b"),
      createdAt: 1,
    });
    const entries = Array.from({ length: 30 }, (_, i) => ({
      seq: i + 1,
      frame: JSON.stringify({
        type: "edit",
        seq: i + 1,
        by: "p",
        id: i + 1,
        ops: [
          i % 7 === 6 ? { op: "del", fid: `f${i - 1}` } : {
            op: "put",
            feature: { type: "Feature", id: `f${i}`, geometry: null, properties: { n: i } },
          },
        ],
      }),
    }));
    store.appendBatches([{ mapId: "m1", entries }]);
    store.saveSnapshot("m1", 12, await new InlineHistoryReader(store).featuresAt("m1", 12) ?? "");
    const inline = new InlineHistoryReader(store);
    for (const at of [0, 5, 12, 13, 29, 30]) {
      const expected = await inline.featuresAt("m1", at);
      assert.ok(expected !== null);
      assert.equal(await worker.featuresAt("m1", at), expected, `at=${at}`);
    }
    assert.equal(JSON.parse((await worker.featuresAt("m1", 5))!).length, 5);
    for (const query of [{ before: 31, limit: 10 }, { before: 9, limit: 50, fid: "f5" }]) {
      assert.deepEqual(await worker.page("m1", query), await inline.page("m1", query));
    }
    assert.equal((await worker.page("m1", { before: 31, limit: 10 })).next, 21);
    await worker.close();
    // Nothing holds the file any more: a checkpoint that needs every reader gone goes through.
    const raw = new DatabaseSync(path);
    try {
      const row = raw.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
      assert.equal(row?.busy, 0);
    } finally {
      raw.close();
    }
  } finally {
    await worker.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
