import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newUploadId, uploadIdRegion } from '../../metadata/upload-id.js';

const region = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,31}$/);
const time = fc.integer({ min: 0, max: 36 ** 9 - 1 });

describe('upload ids', () => {
  it('name the region that made them, and are URL-safe', () => {
    fc.assert(
      fc.property(region, time, (r, now) => {
        const id = newUploadId(r, now);
        expect(id).toMatch(/^[A-Za-z0-9._-]+$/);
        expect(encodeURIComponent(id)).toBe(id);
        expect(uploadIdRegion(id)).toBe(r);
      }),
    );
  });

  it('sort by creation time first, whatever region made them', () => {
    fc.assert(
      fc.property(region, time, region, time, (r1, t1, r2, t2) => {
        fc.pre(t1 !== t2);
        const a = newUploadId(r1, t1);
        const b = newUploadId(r2, t2);
        expect(a < b).toBe(t1 < t2);
        // and an id of the old format (no region) sorts among them by its time too
        expect(newUploadId(undefined, t1) < b).toBe(t1 < t2);
      }),
    );
  });

  it.each([
    ['an id made before regions were named', newUploadId(undefined, 1_700_000_000_000), undefined],
    ['the old format as stored (33 characters, no dot)', '0lobq5k9sAbCdEfGhIjKlMnOpQrStUvWx', undefined],
    ['a region tag', '0lobq5k9s.fra.AbCdEfGhIjKlMnOpQrStUvWx', 'fra'],
    ['a region with a hyphen', '0lobq5k9s.eu-west-1.AbCd-_fGhIjKlMnOpQrStUvWx', 'eu-west-1'],
    ['a tag that is no region name', '0lobq5k9s.FRA.AbCdEfGhIjKlMnOpQrStUvWx', undefined],
    ['an empty tag', '0lobq5k9s..AbCdEfGhIjKlMnOpQrStUvWx', undefined],
    ['too many parts', '0lobq5k9s.fra.x.y', undefined],
    ['a time part of the wrong length', 'lobq5k9s.fra.AbCdEfGhIjKlMnOpQrStUvWx', undefined],
    ['an empty id', '', undefined],
  ])('%s', (_what, id, want) => {
    expect(uploadIdRegion(id)).toBe(want);
  });

  it('a region name no topology allows is left out rather than refused (a single region may be named anything)', () => {
    const id = newUploadId('Not_A_Region', 1_700_000_000_000);
    expect(id).not.toContain('.');
    expect(uploadIdRegion(id)).toBeUndefined();
  });
});
