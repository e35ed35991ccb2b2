/** Unit tests of a history read's work: a state rebuilt from a base as JSON or deflated, a page read into entries, here or on the worker thread. */
import assert from "assert";
import { deflateSync } from "node:zlib";
import { answerRebuild } from "./history_state.ts";
import type { RebuildRequest } from "./history_state.ts";
import { answerHistoryTask, historyTaskSize } from "./history_task.ts";
import type { HistoryTask } from "./history_task.ts";
import { onWorker } from "./worker_task.ts";

const feature = (id: string, x: number) => ({
  type: "Feature",
  id,
  geometry: { type: "Point", coordinates: [x, 1] },
  properties: { name: id },
});
const base = JSON.stringify([feature("a", 1), feature("b", 2)]);
const rows = [
  {
    seq: 11,
    frame: JSON.stringify({
      type: "edit",
      seq: 11,
      by: "p",
      id: 1,
      ops: [{ op: "del", fid: "a" }],
    }),
  },
  {
    seq: 12,
    frame: JSON.stringify({
      type: "edit",
      seq: 12,
      by: "p",
      id: 2,
      ops: [{ op: "props", fid: "b", set: { name: "B" } }],
    }),
  },
];
const want = JSON.stringify([{ ...feature("b", 2), properties: { name: "B" } }]);

Deno.test("history tasks: the same state from a JSON base, a deflated one, and on the worker thread; a page likewise", async () => {
  const json: RebuildRequest = { from: 10, base: { json: base }, at: 12, rows };
  const deflated: RebuildRequest = {
    from: 10,
    base: { deflated: new Uint8Array(deflateSync(new TextEncoder().encode(base))) },
    at: 12,
    rows,
  };
  assert.equal(answerRebuild(json), want);
  assert.equal(answerRebuild(deflated), want);
  // The worker answers itself: its fallback here would fail the test.
  const onThread = (task: HistoryTask) =>
    onWorker(
      new URL("./history_task_worker.ts", import.meta.url),
      task,
      () => {
        throw new Error("the history worker did not run");
      },
      "history_task_worker_failed",
    );
  assert.equal(await onThread({ kind: "state", state: deflated }), want);
  // A gap in the journal (pruned) cannot be rebuilt.
  assert.equal(answerRebuild({ ...json, rows: rows.slice(1) }), null);
  assert.equal(
    historyTaskSize({ kind: "state", state: json }),
    base.length + rows[0].frame.length + rows[1].frame.length,
  );

  // A page: each row in words, with what the index says of its features; the same on the worker.
  const page: HistoryTask = {
    kind: "page",
    rows: [...rows].reverse(),
    touches: [["11 a", { was: true, title: "A" }], ["12 b", { was: true, title: "b" }]],
  };
  const entries = answerHistoryTask(page);
  assert.deepEqual(await onThread(page), entries);
  assert.deepEqual(
    (entries as { seq: number; changes: unknown[] }[]).map((e) => [e.seq, e.changes]),
    [
      [12, [{ fid: "b", title: "B", kind: "props", keys: ["name"] }]],
      [11, [{ fid: "a", title: "A", kind: "del" }]],
    ],
  );
  assert.equal(historyTaskSize(page), rows[0].frame.length + rows[1].frame.length);
});
