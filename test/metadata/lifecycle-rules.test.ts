/** Lifecycle timing and filters (pure): S3's "N days after, rounded up to midnight UTC". */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ceilToMidnightUtc, currentExpired, DAY_MS, dueAt, filterMatches, noncurrentExpired, uploadAbortDue, type LifecycleRule } from '../../metadata/lifecycle-rules.js';

const T = Date.parse('2025-03-10T15:30:00Z');

describe('dueAt', () => {
  it.each([
    ['2025-03-10T15:30:00Z', 1, '2025-03-12T00:00:00Z'],
    ['2025-03-10T00:00:00Z', 1, '2025-03-11T00:00:00Z'],
    ['2025-03-10T23:59:59Z', 30, '2025-04-10T00:00:00Z'],
  ])('%s + %i days → %s', (start, days, want) => {
    expect(new Date(dueAt(Date.parse(start), days)).toISOString()).toBe(new Date(want).toISOString());
  });

  it('is a midnight, at least N days and less than N+1 days after the start (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 1, max: 3650 }), (start, days) => {
        const due = dueAt(start, days);
        expect(due % DAY_MS).toBe(0);
        expect(due - start).toBeGreaterThanOrEqual(days * DAY_MS);
        expect(due - start).toBeLessThan((days + 1) * DAY_MS);
        expect(ceilToMidnightUtc(due)).toBe(due);
      }),
    );
  });
});

describe('filterMatches', () => {
  it.each([
    [{}, 'any', undefined, 1, true],
    [{ prefix: 'logs/' }, 'logs/a', undefined, 1, true],
    [{ prefix: 'logs/' }, 'log', undefined, 1, false],
    [{ tags: { a: '1' } }, 'k', { a: '1', b: '2' }, 1, true],
    [{ tags: { a: '1' } }, 'k', { a: '2' }, 1, false],
    [{ tags: { a: '1' } }, 'k', undefined, 1, false],
    [{ prefix: 'x', tags: { a: '1' } }, 'xy', { a: '1' }, 1, true],
    [{ sizeGreaterThan: 10 }, 'k', undefined, 10, false],
    [{ sizeGreaterThan: 10, sizeLessThan: 20 }, 'k', undefined, 15, true],
    [{ sizeLessThan: 20 }, 'k', undefined, 20, false],
  ])('%j on %s %j size %i → %s', (f, key, tags, size, want) => {
    expect(filterMatches(f, key, tags, size)).toBe(want);
  });
});

describe('actions', () => {
  const rule = (r: Partial<LifecycleRule>): LifecycleRule => ({ enabled: true, filter: {}, ...r });
  it('expires current versions by days or date, never when disabled', () => {
    expect(currentExpired(rule({ expiration: { days: 1 } }), T, Date.parse('2025-03-11T23:59:59Z'))).toBe(false);
    expect(currentExpired(rule({ expiration: { days: 1 } }), T, Date.parse('2025-03-12T00:00:00Z'))).toBe(true);
    expect(currentExpired(rule({ enabled: false, expiration: { days: 1 } }), T, T + 10 * DAY_MS)).toBe(false);
    expect(currentExpired(rule({ expiration: { date: Date.parse('2025-04-01T00:00:00Z') } }), T, Date.parse('2025-04-01T00:00:00Z'))).toBe(true);
    expect(currentExpired(rule({ expiration: { expiredObjectDeleteMarker: true } }), T, T + 100 * DAY_MS)).toBe(false);
  });
  it('expires noncurrent versions from when they became noncurrent, keeping NewerNoncurrentVersions', () => {
    const r = rule({ noncurrentExpiration: { days: 2, newerNoncurrentVersions: 1 } });
    expect(noncurrentExpired(r, T, 0, T + 5 * DAY_MS)).toBe(false);
    expect(noncurrentExpired(r, T, 1, T + 5 * DAY_MS)).toBe(true);
    expect(noncurrentExpired(r, T, 1, T + DAY_MS)).toBe(false);
  });
  it('aborts uploads after DaysAfterInitiation', () => {
    const r = rule({ abortIncompleteMultipartUploadDays: 3 });
    expect(uploadAbortDue(r, T, T + 2 * DAY_MS)).toBe(false);
    expect(uploadAbortDue(r, T, T + 4 * DAY_MS)).toBe(true);
  });
});
