/**
 * A latency histogram with log-linear buckets (64 linear sub-buckets per power of two, so
 * any recorded value is known to within 1/64 ≈ 1.6%), in microseconds. Worker processes
 * send theirs as plain JSON and the coordinator adds the counts: percentiles of the merged
 * histogram are the percentiles of all samples, which averaging per-process percentiles is not.
 */

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64

/** bucket index of a value in µs (values below 64 µs are exact) */
export function bucketOf(us: number): number {
  const v = Math.max(0, Math.floor(us));
  if (v < SUB) return v;
  const e = v >= 2 ** 32 ? Math.floor(Math.log2(v)) : 31 - Math.clz32(v);
  const shift = e - SUB_BITS;
  const sub = Math.floor(v / 2 ** shift) - SUB;
  return SUB + shift * SUB + sub;
}

/** the smallest and largest µs value that falls into bucket `i` */
export function bucketRange(i: number): [number, number] {
  if (i < SUB) return [i, i];
  const shift = Math.floor((i - SUB) / SUB);
  const sub = (i - SUB) % SUB;
  const lo = (SUB + sub) * 2 ** shift;
  return [lo, lo + 2 ** shift - 1];
}

/** the serialisable form, as sent between processes */
export interface HistogramData {
  /** [bucket index, count] pairs */
  counts: [number, number][];
  count: number;
  sumUs: number;
  minUs: number;
  maxUs: number;
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  sumUs = 0;
  minUs = Infinity;
  maxUs = 0;

  record(us: number): void {
    const i = bucketOf(us);
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.count += 1;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  merge(other: Histogram | HistogramData): this {
    const data = other instanceof Histogram ? other.toJSON() : other;
    for (const [i, n] of data.counts) this.counts.set(i, (this.counts.get(i) ?? 0) + n);
    this.count += data.count;
    this.sumUs += data.sumUs;
    if (data.count > 0) {
      this.minUs = Math.min(this.minUs, data.minUs);
      this.maxUs = Math.max(this.maxUs, data.maxUs);
    }
    return this;
  }

  /**
   * The value at quantile q (0..1): the midpoint of the bucket holding the q-th sample,
   * clamped to the exact min and max. 0 for an empty histogram.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const i of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(i)!;
      if (seen >= rank) {
        const [lo, hi] = bucketRange(i);
        return Math.min(this.maxUs, Math.max(this.minUs, (lo + hi) / 2));
      }
    }
    return this.maxUs;
  }

  meanUs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count;
  }

  toJSON(): HistogramData {
    return {
      counts: [...this.counts.entries()].sort((a, b) => a[0] - b[0]),
      count: this.count,
      sumUs: this.sumUs,
      minUs: this.count === 0 ? 0 : this.minUs,
      maxUs: this.maxUs,
    };
  }

  static from(data: HistogramData): Histogram {
    return new Histogram().merge(data);
  }
}
