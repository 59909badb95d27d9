import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HybridClock, compareHlc } from '../../metadata/hlc.js';
import { getVersionIdWriter, makeVersionId, parseVersionId, setVersionIdWriter } from '../../metadata/version-id.js';

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

  const writer = fc.stringMatching(/^[A-Za-z0-9._-]{1,32}$/);

  it('with writers: order is the reverse of (hlc, region, writer) order; parse round-trips', () => {
    fc.assert(
      fc.property(hlc, region, fc.option(writer, { nil: undefined }), hlc, region, fc.option(writer, { nil: undefined }), (h1, r1, w1, h2, r2, w2) => {
        const a = makeVersionId(h1, r1, w1 ?? null);
        const b = makeVersionId(h2, r2, w2 ?? null);
        // an id without a writer is a prefix of the same (hlc, region) with one: it sorts first,
        // as if its writer were the greatest
        const cmpWriter = w1 === w2 ? 0 : w1 === undefined ? 1 : w2 === undefined ? -1 : cmpRegion(w1, w2);
        const want = Math.sign(compareHlc(h1, h2) || cmpRegion(r1, r2) || cmpWriter);
        expect(a < b ? 1 : a > b ? -1 : 0).toBe(want);
        expect(parseVersionId(a)).toEqual(w1 === undefined ? { hlc: h1, region: r1 } : { hlc: h1, region: r1, writer: w1 });
      }),
      { numRuns: 2000 },
    );
    // the same (hlc, region) with different writers, which random clocks above rarely give
    fc.assert(
      fc.property(hlc, region, fc.option(writer, { nil: undefined }), fc.option(writer, { nil: undefined }), (h, r, w1, w2) => {
        const a = makeVersionId(h, r, w1 ?? null);
        const b = makeVersionId(h, r, w2 ?? null);
        const want = w1 === w2 ? 0 : w1 === undefined ? 1 : w2 === undefined ? -1 : Math.sign(cmpRegion(w1, w2));
        expect(a < b ? 1 : a > b ? -1 : 0).toBe(want);
      }),
      { numRuns: 1000 },
    );
  });

  it('two processes writing in the same millisecond with the same counter still get distinct ids', () => {
    const h = { wall: 1_700_000_000_000, logical: 0 };
    const ids = new Set(['n1a2b3c.0', 'n1a2b3c.1', 'nffee00.0'].map((w) => makeVersionId(h, 'eu-1', w)));
    expect(ids.size).toBe(3);
  });

  it("the process writer is used when none is given, and is refused when malformed", () => {
    const before = getVersionIdWriter();
    try {
      setVersionIdWriter('node7.2');
      const id = makeVersionId({ wall: 9, logical: 1 }, 'r');
      expect(parseVersionId(id)).toEqual({ hlc: { wall: 9, logical: 1 }, region: 'r', writer: 'node7.2' });
      expect(parseVersionId(makeVersionId({ wall: 9, logical: 1 }, 'r', null))).toEqual({ hlc: { wall: 9, logical: 1 }, region: 'r' });
      expect(() => setVersionIdWriter('has space')).toThrow(RangeError);
      expect(() => makeVersionId({ wall: 9, logical: 1 }, 'r', 'x'.repeat(33))).toThrow(RangeError);
    } finally {
      setVersionIdWriter(before);
    }
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
