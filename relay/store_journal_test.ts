/** Unit tests of the asynchronous store's journal: writes in call order, appends that waited sent as one (group commit). */
import assert from "assert";
import { StoreJournal } from "./store_journal.ts";
import { DuplicateEditError } from "./map_store.ts";
import type { AppendResult, JournalBatch, MapStore } from "./map_store.ts";

/** A store whose writes finish when the test says, recording what each received. */
function slowStore() {
  const calls: { op: string; batches?: JournalBatch[] }[] = [];
  const gates: PromiseWithResolvers<AppendResult | void>[] = [];
  const gate = async (op: string, batches?: JournalBatch[]) => {
    calls.push({ op, batches: batches?.map((b) => structuredClone(b)) });
    const g = Promise.withResolvers<AppendResult | void>();
    gates.push(g);
    return await g.promise;
  };
  const store = {
    kind: "postgres",
    appendBatches: (batches: readonly JournalBatch[]) => gate("append", [...batches]),
    saveSnapshot: (mapId: string) => gate(`snapshot ${mapId}`),
  } as unknown as MapStore;
  /** Lets the oldest write still waiting finish (or fail), with `result` when given. */
  const release = async (err?: Error, result?: AppendResult) => {
    while (gates.length === 0) await new Promise((r) => setTimeout(r, 0));
    const g = gates.shift()!;
    if (err) g.reject(err);
    else g.resolve(result);
    await new Promise((r) => setTimeout(r, 0));
  };
  return { store, calls, release };
}

const edits = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, frame: `e${from + i}` }));

Deno.test("store journal: appends queued behind a write in flight go to the store as one, per map in seq order; each caller settles in order", async () => {
  const { store, calls, release } = slowStore();
  const journal = new StoreJournal(store);
  const settled: string[] = [];
  const a = journal.append([{ mapId: "m1", entries: edits(1, 1) }]).then(() => settled.push("a"));
  const b = journal.append([{ mapId: "m1", entries: edits(2, 3) }, {
    mapId: "m2",
    entries: edits(1, 1),
  }])
    .then(() => settled.push("b"));
  const c = journal.append([{ mapId: "m2", entries: edits(2, 2) }]).then(() => settled.push("c"));
  await release();
  assert.deepEqual(settled, ["a"], "the first write carried a alone");
  await release();
  await Promise.all([a, b, c]);
  assert.deepEqual(settled, ["a", "b", "c"]);
  assert.equal(calls.length, 2, "two writes for three appends");
  assert.deepEqual(
    calls[1].batches!.map((x) => [x.mapId, x.entries.map((e) => e.seq)]),
    [["m1", [2, 3]], ["m2", [1, 2]]],
  );
  await journal.close();
});

Deno.test("store journal: a batch that does not continue its map's (a map reloaded), or a write of another kind, waits for the next write", async () => {
  const { store, calls, release } = slowStore();
  const journal = new StoreJournal(store);
  const all = [
    journal.append([{ mapId: "m0", entries: edits(1, 1) }]),
    journal.append([{ mapId: "m1", entries: edits(5, 6) }]),
    journal.append([{ mapId: "m1", entries: edits(5, 5) }]),
    journal.snapshot("m1", 5, "[]", 0),
    journal.append([{ mapId: "m1", entries: edits(6, 6) }]),
  ];
  for (let i = 0; i < 5; i++) await release();
  await Promise.all(all);
  assert.deepEqual(calls.map((x) => [x.op, x.batches?.map((b) => b.entries.map((e) => e.seq))]), [
    ["append", [[1]]],
    ["append", [[5, 6]]],
    ["append", [[5]]],
    ["snapshot m1", undefined],
    ["append", [[6]]],
  ]);
  await journal.close();
});

Deno.test("store journal: a merged write that fails fails each of its callers; the next write still runs", async () => {
  const { store, calls, release } = slowStore();
  const journal = new StoreJournal(store);
  const first = journal.append([{ mapId: "m1", entries: edits(1, 1) }]);
  const b = journal.append([{ mapId: "m1", entries: edits(2, 2) }]);
  const c = journal.append([{ mapId: "m2", entries: edits(1, 1) }]);
  await release();
  await first;
  const refused = [assert.rejects(b, /disk/), assert.rejects(c, /disk/)];
  await release(new Error("disk"));
  await Promise.all(refused);
  const d = journal.append([{ mapId: "m3", entries: edits(1, 1) }]);
  await release();
  await d;
  assert.equal(calls.length, 3);
  await journal.close();
  await assert.rejects(journal.append([]), /closed/);
});

Deno.test("store journal: a comment changed in two merged turns is written once, as it is last", async () => {
  const { store, calls, release } = slowStore();
  const journal = new StoreJournal(store);
  const first = journal.append([{ mapId: "m0", entries: edits(1, 1) }]);
  const k1 = { n: 1, id: "k1", record: "v1" };
  const all = [
    first,
    journal.append([{ mapId: "m1", entries: [], comments: [k1], settings: "s1" }]),
    journal.append([{
      mapId: "m1",
      entries: [],
      comments: [{ ...k1, record: "v2" }, { n: 2, id: "k2", record: "w" }],
      settings: "s2",
    }]),
  ];
  await release();
  await release();
  await Promise.all(all);
  assert.deepEqual(calls[1].batches, [{
    mapId: "m1",
    entries: [],
    comments: [{ n: 1, id: "k1", record: "v2" }, { n: 2, id: "k2", record: "w" }],
    settings: "s2",
  }]);
  await journal.close();
});

Deno.test("store journal: a map the store left out as a duplicate is left out of the appends still waiting too, and reported with them", async () => {
  const { store, calls, release } = slowStore();
  const journal = new StoreJournal(store);
  const a = journal.append([{ mapId: "m1", entries: edits(1, 2) }, {
    mapId: "m2",
    entries: edits(1, 1),
  }]);
  const b = journal.append([{ mapId: "m1", entries: edits(3, 3) }, {
    mapId: "m2",
    entries: edits(2, 2),
  }]);
  const c = journal.append([{ mapId: "m2", entries: edits(3, 3) }]);
  const refused = new DuplicateEditError("m1", [{ client: "c1", id: "e2" }]);
  await release(undefined, { fenced: [], duplicates: [refused] });
  await release();
  assert.deepEqual(await a, { fenced: [], duplicates: [refused] });
  assert.deepEqual(await b, { fenced: [], duplicates: [refused] }, "m1's later edits: not written");
  assert.equal(await c, undefined);
  assert.deepEqual(
    calls[1].batches!.map((x) => [x.mapId, x.entries.map((e) => e.seq)]),
    [["m2", [2, 3]]],
    "the next write carries only the maps that can still be written",
  );
  await journal.close();
});
