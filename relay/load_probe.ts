/**
 * Whether the relay's event loop is falling behind, from how late a short timer fires and how much
 * of its thread's CPU it uses: the presence tick's switch and its length.
 */
import process from "node:process";
import type { TimerId, Timers } from "./timers.ts";

/** What the hub asks of a load signal: is the event loop behind right now, and how far? */
export interface LoadSignal {
  /** True while the relay cannot keep up (batching presence then saves the CPU it lacks). */
  readonly behind: boolean;
  /**
   * How many presence ticks a busy map's presence waits while behind (1 and up): it grows while
   * the relay's thread stays short of CPU even with the tick, and falls back once it has CPU again.
   */
  readonly stretch: number;
  /** Share of a core the relay's thread used in the last measurement (0 when not measured). */
  readonly busy?: number;
  /** Stops whatever it runs. */
  stop(): void;
}

/**
 * The CPU time the calling thread has used so far, in ms: from `/proc/thread-self/stat` on Linux
 * (the relay's main thread does its own socket reads and writes, so its CPU is the relay's), or
 * the whole process's (`process.cpuUsage`) where that file cannot be read. Resolution: 10 ms on
 * Linux.
 */
export function threadCpuClock(): () => number {
  const path = "/proc/thread-self/stat";
  const fromProc = (): number => {
    const stat = Deno.readTextFileSync(path);
    // Fields after the command name's closing parenthesis: state is the 3rd, utime the 14th and
    // stime the 15th, in clock ticks of 1/100 s (USER_HZ is 100 on every Linux).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  try {
    if (Number.isFinite(fromProc())) return fromProc;
  } catch {
    // Not Linux, or no permission to read /proc: the process's CPU is the next best measure.
  }
  return () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
}

/** Options for {@link LagProbe}. */
export interface LagProbeOptions {
  /** Its clock and timers (a fake clock shows no lag, so the probe never says behind). */
  timers: Timers;
  /** How often a sample is taken while someone asks, in ms. @default 25 */
  intervalMs?: number;
  /** Smoothed lateness above which the loop is behind, in ms. @default 10 */
  onLagMs?: number;
  /** Smoothed lateness below which it has caught up, in ms. @default 4 */
  offLagMs?: number;
  /**
   * How long the relay must not be short of CPU before a step down (half the stretch, or no tick)
   * is tried, in ms; a step down that makes it short again at once doubles this wait, up to
   * `maxHoldMs`, so a relay that needs the tick does not keep flapping. @default 2000
   */
  holdMs?: number;
  /** The longest wait between steps down, in ms. @default 32000 */
  maxHoldMs?: number;
  /** Weight of the newest sample in the smoothed lateness (0..1]. @default 0.25 */
  weight?: number;
  /**
   * The relay thread's CPU time so far, in ms (see {@link threadCpuClock}). Without it only the
   * lag counts and the stretch stays 1 (a fake clock has no CPU to compare with).
   */
  cpuMs?: () => number;
  /** How long each measurement of the thread's CPU use runs, in ms. @default 250 */
  busyWindowMs?: number;
  /** Share of a core above which the relay is short of CPU (behind, and the tick stretches). @default 0.7 */
  busyOn?: number;
  /** Share of a core below which the stretch shrinks at once, without waiting for a step down. @default 0.3 */
  busyOff?: number;
  /** The longest stretch: the tick waits at most this many ticks. @default 32 */
  maxStretch?: number;
}

/**
 * Measures event-loop lag: a timer due every `intervalMs` fires late by however long the loop was
 * busy with other work (socket reads and writes, parsing, flushing). The lateness is smoothed, and
 * above `onLagMs` the loop is "behind". Sampling runs only while someone asked within the last
 * second, so an idle relay runs no timer for it.
 *
 * Lag alone misses a saturated loop: timers run every iteration, so a loop that is busy all the
 * time still fires them only a few ms late while the backlog waits in the sockets. So, given the
 * thread's CPU clock, every `busyWindowMs` it also measures the share of a core the thread used
 * (smoothed over about two windows): above `busyOn` the relay is behind, and the
 * {@link LoadSignal.stretch} doubles (up to `maxStretch`) each window it stays there.
 *
 * Getting out: batching lowers the very CPU use that turned it on, so "below a threshold" cannot
 * say whether the relay would keep up without it. Instead, once the relay has been neither short
 * of CPU nor late for `holdMs`, it steps down (half the stretch, or the tick off at stretch 1) and
 * watches: short of CPU again within `holdMs` means the step was premature, and the wait before
 * the next one doubles (up to `maxHoldMs`); a step that holds resets it. A relay that needs the
 * tick tries without it rarely; one that had a burst drops it within seconds. Below `busyOff` the
 * stretch also shrinks at once.
 *
 * An idle Deno process fires a 25 ms timer ~0.4 ms late at the median and ~2 ms at the 95th
 * percentile, hence the defaults.
 *
 * @example
 * ```ts
 * import { LagProbe } from "./load_probe.ts";
 * import { systemTimers } from "./timers.ts";
 * const probe = new LagProbe({ timers: systemTimers(() => performance.now()) });
 * probe.behind; // false at first; starts sampling
 * probe.stop();
 * ```
 */
export class LagProbe implements LoadSignal {
  #timers: Timers;
  #intervalMs: number;
  #onLagMs: number;
  #offLagMs: number;
  #holdMs: number;
  #weight: number;
  #cpuMs: (() => number) | undefined;
  #busyWindowMs: number;
  #busyOn: number;
  #busyOff: number;
  #maxStretch: number;
  #timer: TimerId | undefined;
  /** When the current CPU window began (probe clock) and the thread's CPU then; NaN: none yet. */
  #windowAt = NaN;
  #windowCpu = 0;
  #busy = 0;
  #stretch = 1;
  #due = 0;
  #lag = 0;
  #behind = false;
  /** When the relay was last short of CPU or late (or a step down was last tried). */
  #lastHot = 0;
  /** How long it must not be short of CPU before a step down is tried; doubles when one fails. */
  #hold: number;
  #maxHoldMs: number;
  /** When the last step down (half the stretch, or the tick off) was tried; -Infinity: none open. */
  #trialAt = -Infinity;
  #askedAt = -Infinity;
  #stopped = false;

  /** A probe; it samples only once asked. */
  constructor(options: LagProbeOptions) {
    this.#timers = options.timers;
    this.#intervalMs = options.intervalMs ?? 25;
    this.#onLagMs = options.onLagMs ?? 10;
    this.#offLagMs = options.offLagMs ?? 4;
    this.#holdMs = options.holdMs ?? 2000;
    this.#hold = this.#holdMs;
    this.#maxHoldMs = Math.max(this.#holdMs, options.maxHoldMs ?? 32_000);
    this.#weight = options.weight ?? 0.25;
    this.#cpuMs = options.cpuMs;
    this.#busyWindowMs = options.busyWindowMs ?? 250;
    this.#busyOn = options.busyOn ?? 0.7;
    this.#busyOff = options.busyOff ?? 0.3;
    this.#maxStretch = Math.max(1, options.maxStretch ?? 32);
    if (!(this.#weight > 0 && this.#weight <= 1)) {
      throw new RangeError(
        `Cannot create LagProbe as 'weight' must be in (0, 1]: received ${this.#weight}`,
      );
    }
  }

  /** True while the loop is behind; asking keeps the sampling running for another second. */
  get behind(): boolean {
    this.#askedAt = this.#timers.now();
    if (this.#timer === undefined && !this.#stopped) this.#arm();
    return this.#behind;
  }

  /** How many ticks a busy map's presence waits while behind. */
  get stretch(): number {
    return this.#behind ? this.#stretch : 1;
  }

  /** The smoothed lateness now, in ms (for tests and metrics). */
  get lagMs(): number {
    return this.#lag;
  }

  /** The share of a core the thread used in the last full window (0 without a CPU clock). */
  get busy(): number {
    return this.#busy;
  }

  /** Stops sampling for good. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#cpuMs && Number.isNaN(this.#windowAt)) {
      this.#windowAt = this.#timers.now();
      this.#windowCpu = this.#cpuMs();
    }
    this.#due = this.#timers.now() + this.#intervalMs;
    this.#timer = this.#timers.setTimeout(() => this.#sample(), this.#intervalMs);
  }

  #sample(): void {
    this.#timer = undefined;
    const now = this.#timers.now();
    const late = Math.max(0, now - this.#due);
    this.#lag += this.#weight * (late - this.#lag);
    const windowDone = this.#measureCpu(now);
    const hot = this.#lag > this.#onLagMs || this.#busy > this.#busyOn;
    if (hot) {
      if (now - this.#trialAt < this.#holdMs) {
        // A step down made it short of CPU again at once: wait longer before the next one.
        this.#hold = Math.min(this.#hold * 2, this.#maxHoldMs);
      } else if (!this.#behind) {
        this.#hold = this.#holdMs;
      }
      this.#trialAt = -Infinity;
      this.#behind = true;
      this.#lastHot = now;
      if (windowDone && this.#busy > this.#busyOn) {
        this.#stretch = Math.min(this.#maxStretch, this.#stretch * 2);
      }
    } else if (this.#behind) {
      if (this.#lag >= this.#offLagMs) this.#lastHot = now;
      else if (windowDone && this.#busy < this.#busyOff) {
        this.#stretch = Math.max(1, this.#stretch * 0.8);
      }
      if (now - this.#lastHot >= this.#hold) {
        // Not short of CPU for a hold: try with half the stretch, or without the tick. The
        // previous step held if nothing got hot since it.
        if (this.#trialAt !== -Infinity) this.#hold = this.#holdMs;
        this.#trialAt = now;
        this.#lastHot = now;
        if (this.#stretch > 1) this.#stretch = Math.max(1, this.#stretch / 2);
        else this.#behind = false;
      }
    }
    if (!this.#behind) this.#stretch = 1;
    // Nobody asked for a second: stop, and forget the state (the next question starts afresh).
    if (now - this.#askedAt > 1000) {
      this.#lag = 0;
      this.#behind = false;
      this.#busy = 0;
      this.#stretch = 1;
      this.#hold = this.#holdMs;
      this.#trialAt = -Infinity;
      this.#windowAt = NaN;
      return;
    }
    this.#arm();
  }

  /** Closes the CPU window once it has run `busyWindowMs`; true when it did. */
  #measureCpu(now: number): boolean {
    if (!this.#cpuMs || !(now - this.#windowAt >= this.#busyWindowMs)) return false;
    const cpu = this.#cpuMs();
    // Smoothed over about two windows, so one long turn (a big snapshot, a GC) is not overload.
    this.#busy += 0.5 * ((cpu - this.#windowCpu) / (now - this.#windowAt) - this.#busy);
    this.#windowAt = now;
    this.#windowCpu = cpu;
    return true;
  }
}
