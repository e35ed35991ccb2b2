/** Unit tests of rebuilding a map's state at a seq: from a base as JSON or deflated, here or on the rebuild worker. */
import assert from "assert";
import { deflateSync } from "node:zlib";
import { answerRebuild, rebuildSize } from "./history_state.ts";
import type { RebuildRequest } from "./history_state.ts";
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

Deno.test("answerRebuild: the same state from a JSON base, a deflated one, and on the worker thread", async () => {
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
  const fromWorker = await onWorker(
    new URL("./history_rebuild_worker.ts", import.meta.url),
    deflated,
    () => {
      throw new Error("the rebuild worker did not run");
    },
    "history_rebuild_worker_failed",
  );
  assert.equal(fromWorker, want);
  // A gap in the journal (pruned) cannot be rebuilt.
  assert.equal(answerRebuild({ ...json, rows: rows.slice(1) }), null);
  assert.equal(rebuildSize(json), base.length + rows[0].frame.length + rows[1].frame.length);
});
