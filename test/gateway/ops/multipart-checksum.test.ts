/** Checksums of a multipart object from its parts: property tests against hashing the whole. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChecksum } from '../../../gateway/checksum/index.js';
import { CompositeChecksum, CrcCombiner } from '../../../gateway/ops/multipart-checksum.js';
import type { ChecksumAlgorithm } from '../../../metadata/types.js';

const crcOf = (alg: ChecksumAlgorithm, b: Uint8Array) => {
  const c = createChecksum(alg);
  c.update(b);
  return c.digestBase64();
};

const partsArb = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 8 });

describe('CrcCombiner (FULL_OBJECT)', () => {
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`${alg}: combining the parts' CRCs equals the CRC of the concatenation`, () => {
      fc.assert(
        fc.property(partsArb, (parts) => {
          const comb = new CrcCombiner(alg);
          for (const p of parts) comb.add(crcOf(alg, p), p.length);
          expect(comb.digestBase64()).toBe(crcOf(alg, Buffer.concat(parts)));
        }),
        { numRuns: 200 },
      );
    });
  }

  it('handles part sizes of several MiB (the shift by 8·n bits is not truncated)', () => {
    const a = Buffer.alloc(5 * 1024 * 1024 + 3, 7);
    const b = Buffer.from('tail');
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      const comb = new CrcCombiner(alg);
      comb.add(crcOf(alg, a), a.length);
      comb.add(crcOf(alg, b), b.length);
      expect(comb.digestBase64()).toBe(crcOf(alg, Buffer.concat([a, b])));
    }
  });
});

describe('CompositeChecksum', () => {
  it('is the checksum of the concatenated binary part checksums with -N', () => {
    const parts = [Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc')];
    const c = new CompositeChecksum('SHA256');
    for (const p of parts) c.add(createHash('sha256').update(p).digest('base64'));
    const expected = createHash('sha256')
      .update(Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest())))
      .digest('base64');
    expect(c.value()).toBe(`${expected}-3`);
  });
});
