/**
 * The replication bench's logic (not its timing): the open-loop schedule, the backlog verdict,
 * the gateways' lag histogram read back as bucket bounds, and the probe's back-off.
 */
import { describe, expect, it } from 'vitest';
import { judgeBacklog } from '../../bench/replication/backlog.js';
import { bucketDelta, bucketQuantile, parseLagBuckets, plainSample } from '../../bench/replication/gateway-metrics.js';
import { dueAt, opsIn, pace } from '../../bench/replication/pacing.js';
import { nextPollDelay } from '../../bench/replication/run.js';

/** a clock that only moves when the pacer sleeps */
function fakeTime() {
  let t = 1000;
  return { now: () => t, sleep: async (ms: number) => void (t += ms), advance: (ms: number) => void (t += ms) };
}

describe('pacing', () => {
  it('operation i is due at i × 1000/rate ms; a run holds duration × rate of them', () => {
    expect([0, 1, 2, 200].map((i) => dueAt(i, 200))).toEqual([0, 5, 10, 1000]);
    expect(opsIn(10_000, 200)).toBe(2000);
    expect(opsIn(999, 3)).toBe(2);
  });

  it('starts each operation at its time without waiting for the ones before (open loop)', async () => {
    const clock = fakeTime();
    const started: number[] = [];
    const never = new Promise<void>(() => undefined); // no operation ever answers
    const r = await pace(5, 100, (i) => (started.push(clock.now() - 1000), i >= 0 ? never : never), {}, clock);
    expect(started).toEqual([0, 10, 20, 30, 40]);
    expect(r).toEqual({ started: 5, maxLateMs: 0 });
  });

  it('reports how late it started operations when it could not keep up', async () => {
    const clock = fakeTime();
    // each start takes the pacer 25 ms of its own (a busy client): every op after the first is late
    const r = await pace(4, 100, async () => clock.advance(25), {}, clock);
    expect(r.maxLateMs).toBe(45);
  });

  it('holds at most maxInFlight operations at once', async () => {
    const clock = fakeTime();
    let inFlight = 0;
    let peak = 0;
    const answers: (() => void)[] = [];
    const run = pace(
      6,
      1000,
      () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        return new Promise<void>((r) => answers.push(() => (inFlight--, r())));
      },
      { maxInFlight: 2 },
      clock,
    );
    for (let i = 0; i < 20 && answers.length < 6; i++) {
      await new Promise((r) => setImmediate(r));
      answers.shift()?.();
    }
    await run;
    expect(peak).toBe(2);
  });
});

describe('the backlog verdict', () => {
  const series = (depths: number[]) => depths.map((depth, i) => ({ t: i * 100, depth }));

  it('a backlog that levels off is bounded; one that grows to the end is not', () => {
    expect(judgeBacklog(series([0, 40, 60, 50, 55, 60, 45, 50, 55, 50, 60, 40]), 50)).toEqual({ maxDepth: 60, endDepth: 40, bounded: true });
    expect(judgeBacklog(series([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100]), 50)).toEqual({ maxDepth: 1100, endDepth: 1100, bounded: false });
  });

  it('a run too short to have quarters is judged by its largest depth', () => {
    expect(judgeBacklog(series([3, 10]), 50).bounded).toBe(true);
    expect(judgeBacklog(series([3, 80]), 50).bounded).toBe(false);
    expect(judgeBacklog([], 50)).toEqual({ maxDepth: 0, endDepth: 0, bounded: true });
  });
});

describe("the gateways' figures", () => {
  const scrape = (n: [string, number][], cpu: number) =>
    [
      '# TYPE erne_replication_lag_seconds histogram',
      ...n.map(([le, c]) => `erne_replication_lag_seconds_bucket{dest="fra",le="${le}"} ${c}`),
      ...n.map(([le, c]) => `erne_replication_lag_seconds_bucket{dest="sin",le="${le}"} ${c}`),
      `erne_replication_lag_seconds_sum{dest="fra"} 1.5`,
      `process_cpu_seconds_total ${cpu}`,
      '',
    ].join('\n');

  it('sums the lag buckets over destinations, takes the difference of two scrapes, and reads quantiles as bucket bounds', () => {
    const before = parseLagBuckets(scrape([['0.01', 1], ['0.02', 1], ['0.05', 1], ['+Inf', 1]], 1));
    const after = parseLagBuckets(scrape([['0.01', 41], ['0.02', 50], ['0.05', 51], ['+Inf', 51]], 3));
    const d = bucketDelta(before, after);
    expect([...d]).toEqual([[0.01, 80], [0.02, 98], [0.05, 100], [Infinity, 100]]);
    expect(bucketQuantile(d, 0.5)).toBe(0.01);
    expect(bucketQuantile(d, 0.8)).toBe(0.01);
    expect(bucketQuantile(d, 0.81)).toBe(0.02);
    expect(bucketQuantile(d, 0.99)).toBe(0.05);
    expect(bucketQuantile(new Map([[Infinity, 0]]), 0.5)).toBeUndefined();
    expect(plainSample(scrape([], 7.25), 'process_cpu_seconds_total')).toBe(7.25);
  });
});

describe('the probe', () => {
  it('polls every pollMs at first, then every quarter of the wait so far', () => {
    expect([0, 4, 8, 40, 400, 4000].map((w) => nextPollDelay(w, 2))).toEqual([2, 2, 2, 10, 100, 1000]);
  });
});
