/** Whether the relay's event loop is falling behind, from how late a short timer fires: the presence tick's switch. */
import type { TimerId, Timers } from "./timers.ts";

/** What the hub asks of a load signal: is the event loop behind right now? */
export interface LoadSignal {
  /** True while the relay cannot keep up (batching presence then saves the CPU it lacks). */
  readonly behind: boolean;
  /** Stops whatever it runs. */
  stop(): void;
}

/** Options for {@link LagProbe}. */
export interface LagProbeOptions {
  /** Its clock and timers (a fake clock shows no lag, so the probe never says behind). */
  timers: Timers;
  /** How often a sample is taken while someone asks, in ms. @default 25 */
  intervalMs?: number;
  /** Smoothed lateness above which the loop is behind, in ms. @default 5 */
  onLagMs?: number;
  /** Smoothed lateness below which it has caught up, in ms. @default 2 */
  offLagMs?: number;
  /** Stays behind at least this long after it last was, so the answer does not flap, in ms. @default 2000 */
  holdMs?: number;
  /** Weight of the newest sample in the smoothed lateness (0..1]. @default 0.25 */
  weight?: number;
}

/**
 * Measures event-loop lag: a timer due every `intervalMs` fires late by however long the loop was
 * busy with other work (socket reads and writes, parsing, flushing). The lateness is smoothed; the
 * loop is "behind" once it passes `onLagMs`, and again "keeping up" when it has stayed below
 * `offLagMs` for `holdMs`. Sampling runs only while someone asked within the last second, so an
 * idle relay runs no timer for it.
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
  #timer: TimerId | undefined;
  #due = 0;
  #lag = 0;
  #behind = false;
  /** When the lag was last above `offLagMs` while behind. */
  #lastBusy = 0;
  #askedAt = -Infinity;
  #stopped = false;

  /** A probe; it samples only once asked. */
  constructor(options: LagProbeOptions) {
    this.#timers = options.timers;
    this.#intervalMs = options.intervalMs ?? 25;
    this.#onLagMs = options.onLagMs ?? 5;
    this.#offLagMs = options.offLagMs ?? 2;
    this.#holdMs = options.holdMs ?? 2000;
    this.#weight = options.weight ?? 0.25;
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

  /** The smoothed lateness now, in ms (for tests and metrics). */
  get lagMs(): number {
    return this.#lag;
  }

  /** Stops sampling for good. */
  stop(): void {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#due = this.#timers.now() + this.#intervalMs;
    this.#timer = this.#timers.setTimeout(() => this.#sample(), this.#intervalMs);
  }

  #sample(): void {
    this.#timer = undefined;
    const now = this.#timers.now();
    const late = Math.max(0, now - this.#due);
    this.#lag += this.#weight * (late - this.#lag);
    if (this.#lag > this.#onLagMs) {
      this.#behind = true;
      this.#lastBusy = now;
    } else if (this.#behind && this.#lag >= this.#offLagMs) {
      this.#lastBusy = now;
    } else if (this.#behind && now - this.#lastBusy >= this.#holdMs) {
      this.#behind = false;
    }
    // Nobody asked for a second: stop, and forget the state (the next question starts afresh).
    if (now - this.#askedAt > 1000) {
      this.#lag = 0;
      this.#behind = false;
      return;
    }
    this.#arm();
  }
}
