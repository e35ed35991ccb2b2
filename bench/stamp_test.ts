/** Unit tests for the stamps that carry sender, sequence and send time through the relay. */
import assert from "assert";
import { cursorMessage, editId, latencyMs, MAX_SENDERS, readStamp, viewMessage } from "./stamp.ts";

Deno.test("a cursor stamp survives a JSON round trip", () => {
  const sent = { sender: 1799, seq: 999_999, t: 123_456.789 };
  const got = readStamp(JSON.parse(JSON.stringify({ ...cursorMessage(sent), peer: "x" })));
  assert.ok(got);
  assert.equal(got.kind, "cursor");
  assert.equal(got.stamp.sender, 1799);
  assert.equal(got.stamp.seq, 999_999);
  assert.ok(Math.abs(got.stamp.t - 123_456.789) < 1e-6);
});

Deno.test("stamps name senders far past 1 800, up to MAX_SENDERS", () => {
  for (const sender of [1800, 9_999, 65_537, MAX_SENDERS - 1]) {
    for (const seq of [0, 1, 999_999]) {
      const sent = { sender, seq, t: 359_999.999 };
      const cursor = readStamp(JSON.parse(JSON.stringify(cursorMessage(sent))));
      const view = readStamp(JSON.parse(JSON.stringify(viewMessage(sent))));
      assert.deepEqual([cursor?.stamp.sender, cursor?.stamp.seq], [sender, seq]);
      assert.deepEqual([view?.stamp.sender, view?.stamp.seq], [sender, seq]);
      assert.ok(cursorMessage(sent).at[1] <= 90);
    }
  }
  assert.throws(() => cursorMessage({ sender: MAX_SENDERS, seq: 0, t: 0 }), RangeError);
});

Deno.test("view and edit stamps read back, and coordinates stay in range", () => {
  const s = { sender: 31, seq: 7, t: 500_000.25 };
  const view = viewMessage(s);
  assert.ok(view.bbox[0] >= -180 && view.bbox[0] <= 180 && view.bbox[1] <= view.bbox[3]);
  assert.deepEqual(readStamp(view)?.stamp.seq, 7);
  const edit = readStamp({ type: "edit", seq: 1, by: "p", id: editId(s), ops: [] });
  assert.equal(edit?.kind, "edit");
  assert.equal(edit?.stamp.sender, 31);
  assert.ok(Math.abs((edit?.stamp.t ?? 0) - 140_000.25) < 1e-3);
});

Deno.test("latency is wrap-aware and never negative", () => {
  const s = readStamp(cursorMessage({ sender: 0, seq: 0, t: 359_999 }))!.stamp;
  assert.ok(Math.abs(latencyMs(s, 360_001) - 2) < 1e-6);
  assert.equal(latencyMs({ sender: 0, seq: 0, t: 10.0001 }, 10), 0);
  assert.equal(readStamp({ type: "joined", peer: "p" }), null);
});
