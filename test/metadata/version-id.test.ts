import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HybridClock, compareHlc } from '../../metadata/hlc.js';
import { makeVersionId, parseVersionId } from '../../metadata/version-id.js';

const hlc = fc.record({ wall: fc.integer({ min: 0, max: 2 ** 48 - 1 }), logical: fc.integer({ min: 0, max: 2 ** 32 - 1 }) });
const region = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((r) => !r.includes('\u0000'));
const cmpRegion = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('version ids', () => {
  it('sort newest-first: id order is the reverse of (hlc, region) order', () => {
    fc.assert(
      fc.property(hlc, region, hlc, region, (h1, r1, h2, r2) => {
        const a = makeVersionId(h1, r1);
        const b = makeVersionId(h2, r2);
        const want = Math.sign(compareHlc(h1, h2) || cmpRegion(r1, r2));
        const got = a < b ? 1 : a > b ? -1 : 0;
        expect(got).toBe(want);
      }),
      { numRuns: 2000 },
    );
  });

  it('also for regions that extend one another and equal clocks', () => {
    const h = { wall: 5, logical: 1 };
    expect(makeVersionId(h, 'eu-west-1') < makeVersionId(h, 'eu-west')).toBe(true);
    expect(makeVersionId(h, 'b') < makeVersionId(h, 'a')).toBe(true);
  });

  it('parse gives back the clock and region; ids are url-safe', () => {
    fc.assert(
      fc.property(hlc, region, (h, r) => {
        const id = makeVersionId(h, r);
        expect(id).toMatch(/^[0-9a-f]+$/);
        expect(parseVersionId(id)).toEqual({ hlc: h, region: r });
      }),
    );
  });

  it.each(['', 'null', 'zz', '0'.repeat(24), 'ffffffffffff'.repeat(2)])('parse refuses %j', (bad) => {
    expect(parseVersionId(bad)).toBeUndefined();
  });
});

describe('hybrid logical clock', () => {
  it('is strictly increasing whatever the wall clock does', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 1e6 }), hlc.map((h) => ({ ...h, wall: h.wall % 1e6 }))), { maxLength: 50 }), (steps) => {
        let wall = 0;
        const clock = new HybridClock(() => wall);
        let last = clock.now();
        for (const s of steps) {
          let t;
          if (typeof s === 'number') {
            wall = s; // may step back
            t = clock.now();
          } else {
            t = clock.update(s);
            expect(compareHlc(t, s)).toBeGreaterThan(0);
          }
          expect(compareHlc(t, last)).toBeGreaterThan(0);
          last = t;
        }
      }),
    );
  });

  it('follows the wall clock when it moves forward', () => {
    let wall = 1000;
    const clock = new HybridClock(() => wall);
    expect(clock.now()).toEqual({ wall: 1000, logical: 0 });
    expect(clock.now()).toEqual({ wall: 1000, logical: 1 });
    wall = 900;
    expect(clock.now()).toEqual({ wall: 1000, logical: 2 });
    wall = 2000;
    expect(clock.now()).toEqual({ wall: 2000, logical: 0 });
    expect(clock.update({ wall: 3000, logical: 7 })).toEqual({ wall: 3000, logical: 8 });
  });
});
