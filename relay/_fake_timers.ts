/** Fake timers for the relay's unit tests: time moves only when the test advances it. */
import type { TimerId, Timers } from "./timers.ts";

/** A {@link Timers} whose clock starts at `start` and runs due timers in `advance`. */
export class FakeTimers implements Timers {
  #now: number;
  #next = 1;
  #timers = new Map<TimerId, { at: number; fn: () => void; every: number | null }>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  /** The fake clock (an arrow, so it may be passed around unbound). */
  readonly now = (): number => this.#now;

  /** Schedules `fn` at now + `ms`. */
  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn, every: null });
    return id;
  }

  /** Cancels a timeout. */
  clearTimeout(id: TimerId | undefined): void {
    if (id !== undefined) this.#timers.delete(id);
  }

  /** Schedules `fn` every `ms` (at least 1). */
  setInterval(fn: () => void, ms: number): TimerId {
    const id = this.#next++;
    const every = Math.max(1, ms);
    this.#timers.set(id, { at: this.#now + every, fn, every });
    return id;
  }

  /** Cancels an interval. */
  clearInterval(id: TimerId | undefined): void {
    if (id !== undefined) this.#timers.delete(id);
  }

  /** How many timers are scheduled (a closed hub leaves none). */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the clock on by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let dueId: TimerId | undefined;
      let due: { at: number; fn: () => void; every: number | null } | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= end && (!due || timer.at < due.at)) [dueId, due] = [id, timer];
      }
      if (!due || dueId === undefined) break;
      this.#now = due.at;
      if (due.every === null) this.#timers.delete(dueId);
      else due.at += due.every;
      due.fn();
    }
    this.#now = end;
  }
}
