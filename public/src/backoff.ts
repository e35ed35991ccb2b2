/** Reconnect delays: exponential backoff with jitter, so a restarted relay is not hit all at once. */

/** Options for {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. @default 500 */
  baseMs?: number;
  /** Largest delay, in ms. @default 15000 */
  maxMs?: number;
}

/**
 * The delay before retry number `attempt` (0 for the first): `base * 2^attempt` capped at `max`,
 * then scaled by a random factor in [0.5, 1) ("equal jitter").
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * backoffDelay(3, () => 0); // 2000
 * ```
 */
export function backoffDelay(
  attempt: number,
  random: () => number,
  options: BackoffOptions = {},
): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 15_000;
  if (!Number.isFinite(attempt) || attempt < 0) {
    throw new RangeError(
      `Cannot compute a backoff delay as 'attempt' must be >= 0: received ${attempt}`,
    );
  }
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}
