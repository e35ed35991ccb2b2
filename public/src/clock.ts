/** Timer functions behind an interface, so code that waits can be tested with a fake clock. */
import { systemTimers } from "../../relay/timers.ts";

/** Timer functions, injectable so tests can drive time. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(id: number): void;
}

/** The real timers, with plain number handles: the relay's `systemTimers`, which the page shares. */
export function systemClock(): Clock {
  return systemTimers();
}
