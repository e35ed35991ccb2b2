/** Tests for the upstream queue of the HTTP fallback transport, with a fake POST. */
import assert from "assert";
import { SendQueue } from "./send_queue.ts";

/** A fake POST whose requests stay open until the test settles them. */
function fakePost() {
  const calls: { frame: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  const post = (frame: string) =>
    new Promise<void>((resolve, reject) => calls.push({ frame, resolve, reject }));
  return { calls, post };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("SendQueue sends nothing before start, then everything that waited as one array frame", async () => {
  const { calls, post } = fakePost();
  const queue = new SendQueue({ post, onError: () => assert.fail("no error expected") });
  queue.push('{"type":"view","bbox":[0,0,1,1],"zoom":3}');
  queue.push('[{"type":"edit","id":1,"ops":[]},{"type":"cursor","at":null}]');
  assert.equal(calls.length, 0);
  queue.start();
  assert.equal(calls.length, 1);
  assert.deepEqual(JSON.parse(calls[0].frame), [
    { type: "view", bbox: [0, 0, 1, 1], zoom: 3 },
    { type: "edit", id: 1, ops: [] },
    { type: "cursor", at: null },
  ]);
  calls[0].resolve();
  await tick();
  assert.equal(queue.busy, false);
});

Deno.test("SendQueue keeps one POST in flight and batches what comes meanwhile, in order", async () => {
  const { calls, post } = fakePost();
  const queue = new SendQueue({ post, onError: () => assert.fail("no error expected") });
  queue.start();
  queue.push('{"n":1}');
  assert.equal(calls.length, 1, "a lone frame goes at once");
  assert.equal(calls[0].frame, '{"n":1}', "a lone frame goes as it is");
  queue.push('{"n":2}');
  queue.push('{"n":3}');
  queue.push('{"n":4}');
  assert.equal(calls.length, 1, "nothing else while one is in flight");
  assert.equal(queue.waiting, 3);
  calls[0].resolve();
  await tick();
  assert.equal(calls.length, 2);
  assert.equal(calls[1].frame, '[{"n":2},{"n":3},{"n":4}]');
  queue.push('{"n":5}');
  calls[1].resolve();
  await tick();
  assert.equal(calls[2].frame, '{"n":5}');
  calls[2].resolve();
  await tick();
  assert.equal(calls.length, 3);
});

Deno.test("SendQueue splits batches at maxBatchChars and sends a non-JSON frame alone", async () => {
  const { calls, post } = fakePost();
  const queue = new SendQueue({ post, onError: () => {}, maxBatchChars: 30 });
  for (const f of ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}', "oops", '{"e":5}']) queue.push(f);
  queue.start();
  const frames: string[] = [];
  for (let i = 0; i < 10 && queue.busy; i++) {
    frames.push(calls.at(-1)!.frame);
    calls.at(-1)!.resolve();
    await tick();
  }
  assert.deepEqual(frames, ['[{"a":1},{"b":2},{"c":3}]', '{"d":4}', "oops", '{"e":5}']);
  for (const f of frames) assert.ok(f.length <= 30);
});

Deno.test("SendQueue stops, drops what waits and reports once when a POST fails", async () => {
  const { calls, post } = fakePost();
  const errors: unknown[] = [];
  const queue = new SendQueue({ post, onError: (e) => errors.push(e) });
  queue.start();
  queue.push('{"n":1}');
  queue.push('{"n":2}');
  calls[0].reject(new Error("session gone"));
  await tick();
  assert.deepEqual(errors.map(String), ["Error: session gone"]);
  assert.equal(queue.state, "closed");
  assert.equal(queue.waiting, 0);
  queue.push('{"n":3}');
  assert.equal(calls.length, 1, "nothing is sent after a failure");
});

Deno.test("SendQueue after close: the POST in flight completes quietly, nothing more goes", async () => {
  const { calls, post } = fakePost();
  const queue = new SendQueue({ post, onError: () => assert.fail("closed on purpose") });
  queue.start();
  queue.push('{"n":1}');
  queue.push('{"n":2}');
  queue.close();
  calls[0].reject(new Error("aborted"));
  await tick();
  assert.equal(calls.length, 1);
  assert.throws(() => new SendQueue({ post, onError: () => {}, maxBatchChars: 0 }), RangeError);
});
