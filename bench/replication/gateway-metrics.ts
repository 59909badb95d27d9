/**
 * The gateways' own figures, read from /.erne/metrics before and after a phase:
 * - the lag: `erne_replication_lag_seconds`, the difference summed over every source and
 *   destination, and its quantiles as the histogram knows them: the upper bound of the bucket
 *   holding the rank (so "p50 ≤ 20 ms"). A cross-check of the client's figure that adds no load;
 * - the CPU time the gateways spent (`process_cpu_seconds_total`), which divided by the PUTs
 *   is what one PUT and its replication to the other regions cost, however busy the machine.
 */

/** cumulative counts by upper bound (seconds; Infinity for +Inf) */
export type LagBuckets = Map<number, number>;

/** sums every erne_replication_lag_seconds_bucket series of a scrape by its `le` */
export function parseLagBuckets(text: string, into: LagBuckets = new Map()): LagBuckets {
  for (const line of text.split('\n')) {
    const m = /^erne_replication_lag_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/.exec(line);
    if (!m) continue;
    const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
    into.set(le, (into.get(le) ?? 0) + Number(m[2]));
  }
  return into;
}

/** after − before, per bound */
export function bucketDelta(before: LagBuckets, after: LagBuckets): LagBuckets {
  const d: LagBuckets = new Map();
  for (const [le, n] of after) d.set(le, n - (before.get(le) ?? 0));
  return d;
}

/** the upper bound (seconds) of the bucket holding the q-th observation; undefined when empty */
export function bucketQuantile(cumulative: LagBuckets, q: number): number | undefined {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? 0;
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  for (const le of bounds) if (cumulative.get(le)! >= rank) return le;
  return Infinity;
}

/** the value of a sample without labels, e.g. process_cpu_seconds_total; 0 when absent */
export function plainSample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

export interface GatewayFigures {
  lag: LagBuckets;
  /** CPU seconds, summed over the gateways */
  cpuSeconds: number;
}

export async function scrapeGateways(endpoints: string[]): Promise<GatewayFigures> {
  const lag: LagBuckets = new Map();
  let cpuSeconds = 0;
  for (const e of endpoints) {
    const text = await (await fetch(`${e}/.erne/metrics`)).text();
    parseLagBuckets(text, lag);
    cpuSeconds += plainSample(text, 'process_cpu_seconds_total');
  }
  return { lag, cpuSeconds };
}
