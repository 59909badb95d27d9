/**
 * The current-version rule: the greatest (HLC, region) wins whatever order versions are seen
 * in, duplicates included, and it is the version whose id sorts first.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeVersionId } from '../../metadata/version-id.js';
import { currentOf, indexEntryFor, newestFirst, s3VersionId } from '../../metadata/version-order.js';

const version = fc.record({
  hlc: fc.record({ wall: fc.integer({ min: 0, max: 2 ** 40 }), logical: fc.integer({ min: 0, max: 3 }) }),
  region: fc.constantFrom('a', 'ab', 'b', 'eu-1', 'us-east-1'),
  deleteMarker: fc.boolean(),
});

describe('version order', () => {
  it('newestFirst agrees with version-id string order', () => {
    fc.assert(
      fc.property(version, version, (a, b) => {
        const ia = makeVersionId(a.hlc, a.region);
        const ib = makeVersionId(b.hlc, b.region);
        expect(Math.sign(newestFirst(a, b))).toBe(Math.sign(ia < ib ? -1 : ia > ib ? 1 : 0));
      }),
    );
  });

  it('currentOf: same winner for any order and with duplicates; it is the smallest id', () => {
    fc.assert(
      fc.property(fc.array(version, { minLength: 1, maxLength: 20 }), fc.integer(), (vs, seed) => {
        const shuffled = [...vs, ...vs.slice(0, seed % vs.length)].sort(() => ((seed = (seed * 1103515245 + 12345) | 0) & 1 ? 1 : -1));
        const w1 = currentOf(vs)!;
        const w2 = currentOf(shuffled)!;
        expect(newestFirst(w1, w2)).toBe(0);
        const smallest = vs.map((v) => makeVersionId(v.hlc, v.region)).sort()[0];
        expect(makeVersionId(w1.hlc, w1.region)).toBe(smallest);
      }),
    );
    expect(currentOf([])).toBeUndefined();
  });

  it('a delete marker as newest leaves nothing in the current index', () => {
    expect(indexEntryFor({ deleteMarker: true })).toBeUndefined();
    expect(indexEntryFor({ deleteMarker: false })).toEqual({ deleteMarker: false });
    expect(indexEntryFor(undefined)).toBeUndefined();
  });

  it('s3VersionId names the null version null', () => {
    expect(s3VersionId({ versionId: 'abc', isNull: true })).toBe('null');
    expect(s3VersionId({ versionId: 'abc' })).toBe('abc');
  });
});
