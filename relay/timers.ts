/** The relay's clock and timers behind one interface, so tests drive time instead of sleeping. */

/** A timer's handle, as the {@link Timers} that made it understands it. */
export type TimerId = number;

/** The clock and the timer functions the hub and its connections use; injectable for tests. */
export interface Timers {
  /** Milliseconds, for durations and ages (any origin); callable unbound. */
  readonly now: () => number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancels a timeout; an unknown or `undefined` id is ignored. */
  clearTimeout(id: TimerId | undefined): void;
  /** Runs `fn` every `ms` milliseconds. */
  setInterval(fn: () => void, ms: number): TimerId;
  /** Cancels an interval; an unknown or `undefined` id is ignored. */
  clearInterval(id: TimerId | undefined): void;
}

/**
 * The runtime's own timers, with `now` from `Date.now` unless another clock is given. Handles are
 * plain numbers whatever the runtime's timer type is (the client's `systemClock` is this one).
 */
export function systemTimers(now: () => number = Date.now): Timers {
  const handles = new Map<TimerId, ReturnType<typeof setTimeout>>();
  let next = 1;
  const clear = (id: TimerId | undefined) => {
    if (id === undefined) return;
    const handle = handles.get(id);
    if (handle === undefined) return;
    // clearTimeout and clearInterval cancel either kind.
    clearTimeout(handle);
    handles.delete(id);
  };
  return {
    now,
    setTimeout(fn, ms) {
      const id = next++;
      handles.set(
        id,
        setTimeout(() => {
          handles.delete(id);
          fn();
        }, ms),
      );
      return id;
    },
    clearTimeout: clear,
    setInterval(fn, ms) {
      const id = next++;
      handles.set(id, setInterval(fn, ms));
      return id;
    },
    clearInterval: clear,
  };
}
