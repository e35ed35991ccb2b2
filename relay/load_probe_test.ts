/** Unit tests of the lag probe: behind when a timer fires late for a while, back after a quiet hold, idle when unasked. */
import assert from "assert";
import { LagProbe, threadCpuClock } from "./load_probe.ts";
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

/**
 * A probe on a thread whose CPU use the test sets: `tick()` fires the next sample on time, the
 * thread having used `share` of the 25 ms since the last (and asks, as the hub does on every move).
 */
function cpuProbe(options: { share: number; maxStretch?: number; maxHoldMs?: number }) {
  const timers = new LateTimers();
  let cpu = 0;
  const state = { share: options.share };
  const probe = new LagProbe({
    timers,
    intervalMs: 25,
    holdMs: 200,
    maxHoldMs: options.maxHoldMs,
    busyWindowMs: 100,
    busyOn: 0.85,
    busyOff: 0.1,
    maxStretch: options.maxStretch,
    cpuMs: () => cpu,
  });
  const tick = () => {
    void probe.behind;
    cpu += state.share * 25;
    timers.fire(0);
  };
  return { timers, probe, state, tick };
}

Deno.test("lag probe: a saturated thread is behind though its timer fires on time; the stretch grows while short of CPU", () => {
  const { probe, state, tick } = cpuProbe({ share: 0.3, maxStretch: 8 });
  for (let i = 0; i < 8; i++) tick();
  assert.equal(probe.behind, false, "30% of a core is keeping up");
  assert.equal(probe.stretch, 1);
  state.share = 0.98;
  let ticks = 0;
  while (!probe.behind) {
    tick();
    assert.ok(++ticks <= 16, "98% of a core is behind within a few windows");
  }
  assert.ok(ticks >= 8, `not after one window: the share is smoothed (${ticks} samples)`);
  for (let i = 0; i < 16; i++) tick();
  assert.equal(probe.stretch, 8, "it doubles per busy window, up to maxStretch");
  probe.stop();
});

Deno.test("lag probe: by default the tick stretches up to 32 ticks, so an overloaded relay sends fewer frames instead of falling behind on what it reads", () => {
  // At 10 000 peers (BENCHMARKS.md, s7) a stretch of 8 still left the relay short of CPU: every
  // peer got a frame per 400 ms with one or two messages in it, reading fell behind, and
  // latency grew to seconds. At 32 it keeps up.
  const { probe, tick } = cpuProbe({ share: 0.98 });
  for (let i = 0; i < 64; i++) tick();
  assert.equal(probe.stretch, 32);
  probe.stop();
});

Deno.test("lag probe: once not short of CPU for a hold it steps down, and waits longer after a step that was premature", () => {
  const { timers, probe, state, tick } = cpuProbe({ share: 0.98, maxStretch: 4, maxHoldMs: 800 });
  /** Samples until `done`, returning how many ms that took. */
  const until = (done: () => boolean) => {
    const from = timers.at;
    for (let i = 0; !done(); i++) {
      assert.ok(i < 400, "it happens");
      tick();
    }
    return timers.at - from;
  };
  until(() => probe.stretch === 4);
  // Batching halves the CPU: 50% is not short of CPU, but a step down would not fit either.
  state.share = 0.5;
  const first = until(() => probe.stretch === 2);
  assert.ok(first >= 200, `the first step down comes after a hold (${first} ms)`);
  state.share = 0.98;
  until(() => probe.stretch === 4);
  state.share = 0.5;
  const second = until(() => probe.stretch === 2);
  assert.ok(second >= 400, `after a premature step the next waits twice as long (${second} ms)`);
  // Steps that hold: down to no tick at all, which a relay with CPU to spare then keeps.
  until(() => !probe.behind);
  state.share = 0.4;
  for (let i = 0; i < 100; i++) tick();
  assert.equal(probe.behind, false, "40% of a core without the tick stays off");
  probe.stop();
});

Deno.test("threadCpuClock: counts the CPU this thread spends", () => {
  const clock = threadCpuClock();
  const before = clock();
  const until = performance.now() + 60;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  const used = clock() - before;
  assert.ok(x > 0);
  assert.ok(used >= 20 && used <= 1000, `60 ms of busy loop counted as ${used} ms of CPU`);
});
