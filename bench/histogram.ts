/** A log-linear latency histogram (HDR-style, ~1.6% precision) for p50/p99/p99.9 without keeping samples. */

/** Options for {@link Histogram}. */
export interface HistogramOptions {
  /** Sub-buckets per power of two; more means finer quantiles. @default 64 */
  subBuckets?: number;
}

/** A {@link Histogram} as plain JSON data. */
export interface HistogramData {
  /** Sub-buckets per power of two. */
  sub: number;
  /** Count per bucket. */
  counts: number[];
  /** Values recorded. */
  count: number;
  /** Their sum. */
  sum: number;
  /** The largest. */
  max: number;
  /** The smallest, null when empty. */
  min: number | null;
}

/**
 * Records non-negative values (microseconds here) and answers quantiles.
 *
 * @example
 * ```ts
 * const h = new Histogram();
 * h.record(1200);
 * h.quantile(0.99); // ~1200
 * ```
 */
export class Histogram {
  #sub: number;
  #counts: number[] = [];
  #count = 0;
  #sum = 0;
  #max = 0;
  #min = Infinity;

  constructor(options: HistogramOptions = {}) {
    const sub = options.subBuckets ?? 64;
    if (!Number.isInteger(sub) || sub < 2) {
      throw new RangeError(
        `Cannot create Histogram as 'subBuckets' must be an integer >= 2: received ${sub}`,
      );
    }
    this.#sub = sub;
  }

  /** How many values were recorded. */
  get count(): number {
    return this.#count;
  }

  /** The mean of the recorded values (NaN when empty). */
  get mean(): number {
    return this.#count === 0 ? NaN : this.#sum / this.#count;
  }

  /** The largest value recorded (0 when empty). */
  get max(): number {
    return this.#max;
  }

  /** Records one value; negatives (clock skew) count as 0. */
  record(value: number): void {
    const v = value > 0 ? value : 0;
    const i = this.#index(v);
    while (this.#counts.length <= i) this.#counts.push(0);
    this.#counts[i]++;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
    if (v < this.#min) this.#min = v;
  }

  /** Adds every value of another histogram with the same shape. */
  merge(other: Histogram): void {
    if (other.#sub !== this.#sub) {
      throw new RangeError("Cannot merge histograms of different shape");
    }
    while (this.#counts.length < other.#counts.length) this.#counts.push(0);
    other.#counts.forEach((c, i) => this.#counts[i] += c);
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#max = Math.max(this.#max, other.#max);
    this.#min = Math.min(this.#min, other.#min);
  }

  /** The histogram as plain data, to pass between processes. */
  toJSON(): HistogramData {
    return {
      sub: this.#sub,
      counts: this.#counts,
      count: this.#count,
      sum: this.#sum,
      max: this.#max,
      min: this.#count === 0 ? null : this.#min,
    };
  }

  /** A histogram from {@link Histogram.toJSON}'s data. */
  static fromJSON(data: HistogramData): Histogram {
    const h = new Histogram({ subBuckets: data.sub });
    h.#counts = [...data.counts];
    h.#count = data.count;
    h.#sum = data.sum;
    h.#max = data.max;
    h.#min = data.min ?? Infinity;
    return h;
  }

  /** The value below which the fraction `q` (0..1) of values lie; NaN when empty. */
  quantile(q: number): number {
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i];
      if (seen >= rank) return Math.min(Math.max(this.#value(i), this.#min), this.#max);
    }
    return this.#max;
  }

  // Values below `sub` get exact unit buckets; above, each power of two is split into `sub` parts.
  #index(v: number): number {
    const sub = this.#sub;
    if (v < sub) return Math.floor(v);
    const exp = Math.floor(Math.log2(v / sub));
    const base = sub * 2 ** exp;
    return sub + exp * sub + Math.floor((v - base) / (base / sub));
  }

  #value(i: number): number {
    const sub = this.#sub;
    // Unit buckets report their integer; wider ones their midpoint, halving the worst error.
    if (i < sub) return i;
    const exp = Math.floor((i - sub) / sub);
    const base = sub * 2 ** exp;
    return base + ((i - sub) % sub + 0.5) * (base / sub);
  }
}
