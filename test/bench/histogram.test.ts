import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, bucketOf, bucketRange } from '../../bench/histogram.js';
import { mergeReports } from '../../bench/runner.js';
import type { WorkerReport } from '../../bench/worker.js';

const values = fc.array(fc.integer({ min: 0, max: 60_000_000 }), { minLength: 1, maxLength: 400 });

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

describe('histogram buckets', () => {
  it.each([
    [0, 0],
    [63, 63],
    [64, 64],
    [65, 65],
    [127, 127],
    [128, 128],
    [129, 128],
    [130, 129],
    [255, 191],
    [256, 192],
  ])('%d µs falls in bucket %d', (us, bucket) => {
    expect(bucketOf(us)).toBe(bucket);
  });

  it('every value lies in its bucket, and a bucket is at most 1/64 of its values wide', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (v) => {
        const [lo, hi] = bucketRange(bucketOf(v));
        expect(lo).toBeLessThanOrEqual(v);
        expect(hi).toBeGreaterThanOrEqual(v);
        expect(hi - lo).toBeLessThanOrEqual(lo / 64);
      }),
    );
  });
});

describe('histogram quantiles and merging', () => {
  it('quantiles are within 1/64 of the exact sample quantile, and min/max are exact', () => {
    fc.assert(
      fc.property(values, fc.constantFrom(0.5, 0.9, 0.99, 1), (vs, q) => {
        const h = new Histogram();
        for (const v of vs) h.record(v);
        const sorted = [...vs].sort((a, b) => a - b);
        const exact = exactQuantile(sorted, q);
        expect(Math.abs(h.quantile(q) - exact)).toBeLessThanOrEqual(exact / 64 + 1);
        expect(h.maxUs).toBe(sorted[sorted.length - 1]);
        expect(h.toJSON().minUs).toBe(sorted[0]);
        expect(h.count).toBe(vs.length);
      }),
    );
  });

  it('merging histograms equals recording all samples into one (through JSON, as between processes)', () => {
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 4 }), (parts) => {
        const merged = new Histogram();
        for (const p of parts) {
          const h = new Histogram();
          for (const v of p) h.record(v);
          merged.merge(JSON.parse(JSON.stringify(h.toJSON())));
        }
        const whole = new Histogram();
        for (const v of parts.flat()) whole.record(v);
        expect(merged.toJSON()).toEqual(whole.toJSON());
      }),
    );
  });

  it('an empty histogram reports zeros and merges as nothing', () => {
    const h = new Histogram();
    expect(h.quantile(0.99)).toBe(0);
    expect(h.toJSON()).toEqual({ counts: [], count: 0, sumUs: 0, minUs: 0, maxUs: 0 });
    const one = new Histogram();
    one.record(5);
    expect(one.merge(h).toJSON()).toEqual({ counts: [[5, 1]], count: 1, sumUs: 5, minUs: 5, maxUs: 5 });
  });
});

function report(proc: number, latenciesUs: number[], elapsedMs: number, errors: Record<string, number> = {}): WorkerReport {
  const h = new Histogram();
  for (const v of latenciesUs) h.record(v);
  return {
    proc,
    elapsedMs,
    ops: { GET: h.toJSON() },
    bytes: { GET: latenciesUs.length * 1024 },
    errors,
    errorSamples: Object.fromEntries(Object.keys(errors).map((c) => [c, `${c} from ${proc}`])),
    series: { ops: [latenciesUs.length], bytes: [latenciesUs.length * 1024] },
    cpuUs: 100_000,
  };
}

describe('mergeReports', () => {
  const base = { workload: 'get', keys: 10, startedAt: 'now', config: {} as never };

  it('takes percentiles of all samples, not the average of per-process percentiles', () => {
    // a fast process (100 samples of 1 ms) and a slow one (100 of 100 ms): p50 of all is 1 ms,
    // p99 is 100 ms; averaging per-process p50s would say ~50 ms
    const r = mergeReports([report(0, Array(100).fill(1000), 1000), report(1, Array(100).fill(100_000), 1000)], base);
    expect(r.total.ops).toBe(200);
    expect(r.total.p50Ms).toBeCloseTo(1, 1);
    expect(r.total.p99Ms).toBeCloseTo(100, 0);
    expect(r.total.opsPerSec).toBe(200);
    expect(r.total.mibPerSec).toBeCloseTo((200 * 1024) / 1024 ** 2, 6);
    expect(r.series).toEqual([{ t: 0, opsPerSec: 200, mibPerSec: (200 * 1024) / 1024 ** 2 }]);
    expect(r.client).toEqual({ procs: 2, cpuPercent: 20 });
  });

  it('adds error counts by code and keeps one sample message per code', () => {
    const r = mergeReports([report(0, [1000], 1000, { NoSuchKey: 2 }), report(1, [1000], 1000, { NoSuchKey: 1, ECONNRESET: 4 })], base);
    expect(r.errors).toEqual({ NoSuchKey: 3, ECONNRESET: 4 });
    expect(r.errorCount).toBe(7);
    expect(r.errorSamples).toEqual({ NoSuchKey: 'NoSuchKey from 0', ECONNRESET: 'ECONNRESET from 1' });
  });
});
