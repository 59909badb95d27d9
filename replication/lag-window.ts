/**
 * Recent replication lags of one destination, for the status document's p50/p99: a ring of
 * the last `capacity` samples, of which those younger than `windowMs` count. Exact
 * percentiles (nearest rank) over a bounded ring, so memory stays fixed however fast entries
 * are delivered; the Prometheus histogram keeps the long-run distribution.
 */

export interface LagSummary {
  /** samples in the window */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** the nearest-rank percentile of ascending `sorted` (q in 0..1); undefined when empty */
export function percentile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export class LagWindow {
  private readonly at: Float64Array;
  private readonly ms: Float64Array;
  private next = 0;
  private size = 0;

  constructor(
    readonly windowMs = 300_000,
    readonly capacity = 4096,
  ) {
    this.at = new Float64Array(capacity);
    this.ms = new Float64Array(capacity);
  }

  add(now: number, lagMs: number): void {
    this.at[this.next] = now;
    this.ms[this.next] = lagMs;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** p50/p99 of the samples taken since now - windowMs; undefined when there are none */
  summary(now: number): LagSummary | undefined {
    const recent: number[] = [];
    for (let i = 0; i < this.size; i++) if (now - this.at[i]! <= this.windowMs) recent.push(this.ms[i]!);
    if (recent.length === 0) return undefined;
    recent.sort((a, b) => a - b);
    return { samples: recent.length, p50Ms: percentile(recent, 0.5)!, p99Ms: percentile(recent, 0.99)!, maxMs: recent[recent.length - 1]! };
  }
}
