/**
 * bench:compare's ratios read the right way round: a lower latency is "faster", a higher
 * throughput "more ops/s", never a bare 0.31× that reads as a loss when Erne wins.
 */
import { describe, expect, it } from 'vitest';
import { formatCompare, ratioWords, type CompareRow } from '../../bench/verdict.js';

describe('ratioWords', () => {
  it.each([
    // Erne's p50 ÷ the other's: below 1 is a win
    [0.3 / 0.96, 'p50', '3.20× faster'],
    [0.2857, 'p50', '3.50× faster'],
    [1.5, 'p50', '1.50× slower'],
    [1.001, 'p50', 'the same'],
    // Erne's throughput ÷ the other's: above 1 is a win
    [1.8, 'ops', '1.80× more ops/s'],
    [2.62, 'ops', '2.62× more ops/s'],
    [1.37, 'mib', '1.37× more MiB/s'],
    [0.35, 'ops', '0.35× the ops/s'],
    [0.64, 'mib', '0.64× the MiB/s'],
    [0.9999, 'mib', 'the same'],
    [undefined, 'ops', '—'],
    [0, 'p50', '—'],
  ] as const)('%s (%s) → %s', (ratio, metric, words) => {
    expect(ratioWords(ratio, metric)).toBe(words);
  });
});

describe('formatCompare', () => {
  it('says each ratio in words, under "Erne vs …"', () => {
    const rows: CompareRow[] = [
      { case: 'GET 1 KiB, 1 at a time', unit: 'p50 ms', metric: 'p50', values: { Erne: 0.3, s3rver: 0.96 }, ratios: { s3rver: 0.3 / 0.96 } },
      { case: 'PUT 1 KiB, 32 concurrent', unit: 'ops/s', metric: 'ops', values: { Erne: 1620, s3rver: 618 }, ratios: { s3rver: 1620 / 618 } },
      { case: 'PUT 64 MiB, 2 concurrent', unit: 'MiB/s', metric: 'mib', values: { Erne: 185.7, s3rver: 203.1 }, ratios: { s3rver: 185.7 / 203.1 } },
    ];
    const lines = formatCompare(rows).split('\n');
    expect(lines[0]).toMatch(/^case\s+unit\s+Erne\s+s3rver\s+Erne vs s3rver$/);
    expect(lines[1]).toMatch(/^GET 1 KiB, 1 at a time\s+p50 ms\s+0\.30\s+0\.96\s+3\.20× faster$/);
    expect(lines[2]).toMatch(/^PUT 1 KiB, 32 concurrent\s+ops\/s\s+1,620\s+618\.0\s+2\.62× more ops\/s$/);
    expect(lines[3]).toMatch(/^PUT 64 MiB, 2 concurrent\s+MiB\/s\s+185\.7\s+203\.1\s+0\.91× the MiB\/s$/);
  });
});
