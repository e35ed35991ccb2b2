/** A token bucket: `rate` tokens a second up to `burst`, with an injected clock. */

/**
 * Counts what a connection may still send.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./token_bucket.ts";
 * const bucket = new TokenBucket({ rate: 10, burst: 20, now: () => performance.now() });
 * bucket.take(); // true while tokens remain
 * ```
 */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #now: () => number;
  #tokens: number;
  #last: number;

  /** A full bucket; `rate` > 0 and `burst` >= 1, else a RangeError. */
  constructor(options: { rate: number; burst: number; now: () => number }) {
    const { rate, burst } = options;
    if (!(Number.isFinite(rate) && rate > 0)) {
      throw new RangeError(
        `Cannot create TokenBucket as 'rate' must be a finite number > 0: received ${rate}`,
      );
    }
    if (!(Number.isFinite(burst) && burst >= 1)) {
      throw new RangeError(
        `Cannot create TokenBucket as 'burst' must be a finite number >= 1: received ${burst}`,
      );
    }
    this.#rate = rate;
    this.#burst = burst;
    this.#now = options.now;
    this.#tokens = burst;
    this.#last = options.now();
  }

  /** Takes one token; `false` when the bucket is empty. */
  take(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
