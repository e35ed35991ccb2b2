/** Per-client-address token buckets (map creation), in a bounded table that forgets the least recent. */
import { TokenBucket } from "./token_bucket.ts";

/** Options for {@link AddressBuckets}. */
export interface AddressBucketsOptions {
  /** Tokens an address regains per second. */
  rate: number;
  /** Tokens an address has at first and at most. */
  burst: number;
  /** Milliseconds clock. */
  now: () => number;
  /**
   * Addresses remembered at most; past it the least recently seen is forgotten, so many
   * addresses cannot grow the table without bound. @default 10000
   */
  maxAddresses?: number;
}

/**
 * A token bucket per client address.
 *
 * @example
 * ```ts
 * import { AddressBuckets } from "./address_limits.ts";
 * const creates = new AddressBuckets({ rate: 10 / 60, burst: 20, now: Date.now });
 * creates.take("203.0.113.9"); // true until that address has used its burst
 * ```
 */
export class AddressBuckets {
  #rate: number;
  #burst: number;
  #now: () => number;
  #max: number;
  /** Insertion order is recency: a taken address moves to the end. */
  #buckets = new Map<string, TokenBucket>();

  /** Checks the options (finite, positive rate and burst). */
  constructor(options: AddressBucketsOptions) {
    const max = options.maxAddresses ?? 10_000;
    if (!(Number.isSafeInteger(max) && max >= 1)) {
      throw new RangeError(
        `Cannot create AddressBuckets as 'maxAddresses' must be a whole number >= 1: received ${max}`,
      );
    }
    // Checks rate and burst with TokenBucket's own messages.
    new TokenBucket({ rate: options.rate, burst: options.burst, now: options.now });
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#now = options.now;
    this.#max = max;
  }

  /** Takes one token for `addr`; `false` when it has none left. */
  take(addr: string): boolean {
    let bucket = this.#buckets.get(addr);
    if (bucket) {
      this.#buckets.delete(addr);
    } else {
      bucket = new TokenBucket({ rate: this.#rate, burst: this.#burst, now: this.#now });
      if (this.#buckets.size >= this.#max) {
        this.#buckets.delete(this.#buckets.keys().next().value!);
      }
    }
    this.#buckets.set(addr, bucket);
    return bucket.take();
  }

  /** Whole seconds until a refused address has a token again, for `Retry-After`. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(1 / this.#rate));
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.#buckets.size;
  }
}
