/** Unit tests of the lag probe: behind when a timer fires late for a while, back after a quiet hold, idle when unasked. */
import assert from "assert";
import { LagProbe } from "./load_probe.ts";
import type { TimerId, Timers } from "./timers.ts";

/** Timers whose clock the test sets, and whose one pending timeout the test fires when it likes (late or not). */
class LateTimers implements Timers {
  at = 0;
  pending: { fn: () => void; due: number } | undefined;
  readonly now = (): number => this.at;
  setTimeout(fn: () => void, ms: number): TimerId {
    this.pending = { fn, due: this.at + ms };
    return 1;
  }
  clearTimeout(): void {
    this.pending = undefined;
  }
  setInterval(): TimerId {
    throw new Error("not used");
  }
  clearInterval(): void {}
  /** Fires the pending timeout `lateMs` after it was due. */
  fire(lateMs: number): void {
    const p = this.pending;
    assert.ok(p, "a sample is scheduled");
    this.pending = undefined;
    this.at = p.due + lateMs;
    p.fn();
  }
}

Deno.test("lag probe: behind once its timer keeps firing late, keeping up again only after a quiet hold", () => {
  const timers = new LateTimers();
  const probe = new LagProbe({ timers, intervalMs: 25, onLagMs: 5, offLagMs: 2, holdMs: 200 });
  assert.equal(probe.behind, false, "nothing measured yet");
  for (let i = 0; i < 20; i++) timers.fire(1);
  assert.equal(probe.behind, false, "1 ms late is an idle loop's jitter");
  for (let i = 0; i < 3; i++) timers.fire(40);
  assert.equal(probe.behind, true, "a loop 40 ms late is behind");
  timers.fire(0);
  assert.equal(probe.behind, true, "one punctual sample does not end it");
  let punctual = 0;
  while (probe.behind) {
    timers.fire(0);
    punctual++;
    assert.ok(punctual < 100, "it does catch up");
  }
  assert.ok(punctual * 25 >= 200, `it stayed behind for the hold (${punctual} samples)`);
  probe.stop();
  assert.equal(timers.pending, undefined, "stop() cancels the sample");
});

Deno.test("lag probe: samples only while asked, and forgets after a second unasked", () => {
  const timers = new LateTimers();
  const probe = new LagProbe({ timers, intervalMs: 25 });
  assert.equal(timers.pending, undefined, "no timer before anyone asks");
  assert.equal(probe.behind, false);
  for (let i = 0; i < 5; i++) timers.fire(50);
  assert.equal(probe.behind, true);
  for (let i = 0; i < 60 && timers.pending; i++) timers.fire(50);
  assert.equal(timers.pending, undefined, "unasked for a second, it stops sampling");
  assert.equal(probe.lagMs, 0, "and starts afresh when asked again");
  assert.equal(probe.behind, false);
  probe.stop();
});

Deno.test("lag probe: refuses a weight outside (0, 1]", () => {
  assert.throws(() => new LagProbe({ timers: new LateTimers(), weight: 0 }), RangeError);
});
