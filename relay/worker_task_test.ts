/** Unit tests of TaskSlots: how many run at once, the order of the waiting, the refusal when full. */
import assert from "assert";
import { SlotsFullError, TaskSlots } from "./worker_task.ts";

Deno.test("TaskSlots: two run, the next wait in order, one past the queue is refused; slots come back after a failure", async () => {
  const slots = new TaskSlots({ running: 2, waiting: 2, what: "rebuilds" });
  const started: number[] = [];
  const finish: (() => void)[] = [];
  const task = (n: number, fail = false) => () => {
    started.push(n);
    return new Promise<number>((resolve, reject) => {
      finish[n] = () => fail ? reject(new Error(`task ${n} failed`)) : resolve(n);
    });
  };
  const runs = [
    slots.run(task(0, true)),
    slots.run(task(1)),
    slots.run(task(2)),
    slots.run(task(3)),
  ];
  await assert.rejects(slots.run(task(4)), SlotsFullError);
  await assert.rejects(slots.run(task(4)), /too many rebuilds at once; try again/);
  await Promise.resolve();
  assert.deepEqual(started, [0, 1]);
  assert.equal(slots.running, 2);
  finish[0]();
  await assert.rejects(runs[0], /task 0 failed/);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [0, 1, 2], "the first in line takes the freed slot");
  finish[1]();
  finish[2]();
  assert.equal(await runs[1], 1);
  assert.equal(await runs[2], 2);
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(started, [0, 1, 2, 3]);
  finish[3]();
  assert.equal(await runs[3], 3);
  assert.equal(slots.running, 0);
  assert.equal(await slots.run(() => Promise.resolve("again")), "again");
  assert.throws(() => new TaskSlots({ running: 0, waiting: 1, what: "x" }), RangeError);
});
