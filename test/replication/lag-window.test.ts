import { describe, expect, it } from 'vitest';
import { LagWindow, percentile } from '../../replication/lag-window.js';

describe('percentile (nearest rank)', () => {
  it.each([
    [[], 0.5, undefined],
    [[7], 0.5, 7],
    [[7], 0.99, 7],
    [[1, 2, 3, 4], 0.5, 2],
    [[1, 2, 3, 4], 0.75, 3],
    [[1, 2, 3, 4], 1, 4],
    [[1, 2, 3, 4], 0, 1],
    [Array.from({ length: 100 }, (_, i) => i + 1), 0.99, 99],
    [Array.from({ length: 1000 }, (_, i) => i + 1), 0.99, 990],
  ])('%j at %d is %s', (sorted, q, want) => {
    expect(percentile(sorted, q)).toBe(want);
  });
});

describe('LagWindow', () => {
  it('summarises the samples of the window only', () => {
    const w = new LagWindow(1000, 16);
    w.add(0, 500); // falls out of the window below
    for (let i = 1; i <= 10; i++) w.add(5000 + i, i);
    expect(w.summary(5500)).toEqual({ samples: 10, p50Ms: 5, p99Ms: 10, maxMs: 10 });
    expect(w.summary(7000)).toBeUndefined();
  });

  it('keeps only its last `capacity` samples', () => {
    const w = new LagWindow(60_000, 4);
    for (let i = 1; i <= 10; i++) w.add(i, i * 100);
    expect(w.summary(10)).toEqual({ samples: 4, p50Ms: 800, p99Ms: 1000, maxMs: 1000 });
  });
});
