/**
 * The replication backlog as the bench sees it: the outbox depth summed over every
 * source→destination pair, sampled from each region's status document while the load runs.
 * Whether it stayed bounded is judged from those samples alone (a pure function, tested).
 */

export interface BacklogSample {
  /** ms since the phase started */
  t: number;
  /** entries waiting, over every pair */
  depth: number;
}

export interface BacklogVerdict {
  maxDepth: number;
  /** the depth when the load stopped */
  endDepth: number;
  /** false when it grew through the run instead of levelling off */
  bounded: boolean;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Bounded: the backlog of the last quarter of the run is no larger than that of its second
 * quarter plus what half a second of writes adds (`slack`): a backlog that keeps pace levels
 * off early, one that falls behind keeps growing to the end. The first quarter is the
 * warm-up and does not count.
 */
export function judgeBacklog(samples: BacklogSample[], slack: number): BacklogVerdict {
  const depths = samples.map((s) => s.depth);
  const maxDepth = depths.length ? Math.max(...depths) : 0;
  const endDepth = depths.length ? depths[depths.length - 1]! : 0;
  const q = Math.floor(depths.length / 4);
  if (q === 0) return { maxDepth, endDepth, bounded: maxDepth <= slack };
  const second = mean(depths.slice(q, 2 * q));
  const last = mean(depths.slice(depths.length - q));
  return { maxDepth, endDepth, bounded: last <= second + slack };
}
