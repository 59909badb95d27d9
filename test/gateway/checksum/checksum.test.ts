import { createHash, randomBytes } from 'node:crypto';
import { Crc32, Crc32cJs, Crc64NvmeJs } from '@aws-sdk/checksums/crc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksumHeaderName,
  createChecksum,
  createMd5,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from '../../../gateway/checksum/index.js';

const CHECK = Buffer.from('123456789');

describe('CRC check values (CRC catalogue, input "123456789")', () => {
  it.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
  ] as const)('%s = 0x%s', (alg, hex) => {
    const c = createChecksum(alg);
    c.update(CHECK);
    expect(c.digest().toString('hex')).toBe(hex);
    expect(c.digestBase64()).toBe(Buffer.from(hex, 'hex').toString('base64'));
  });

  it('empty input', () => {
    expect(createChecksum('CRC32').digest().toString('hex')).toBe('00000000');
    expect(createChecksum('CRC32C').digest().toString('hex')).toBe('00000000');
    expect(createChecksum('CRC64NVME').digest().toString('hex')).toBe('0000000000000000');
  });
});

describe('hash algorithms', () => {
  it.each([
    ['SHA1', 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0='],
    ['SHA256', 'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0='],
  ] as const)('%s of "abc"', (alg, b64) => {
    const c = createChecksum(alg);
    c.update(Buffer.from('a'));
    c.update(Buffer.from('bc'));
    expect(c.digestBase64()).toBe(b64);
    expect(c.digestBase64()).toBe(b64); // repeatable
  });
  it('MD5 of "abc"', () => {
    const m = createMd5();
    m.update(Buffer.from('abc'));
    expect(m.digest().toString('hex')).toBe('900150983cd24fb0d6963f7d28e17f72');
  });
});

type SdkSum = { update(d: Uint8Array): void; digest(): Promise<Uint8Array> };
const sdk: Record<'CRC32' | 'CRC32C' | 'CRC64NVME', () => SdkSum> = {
  CRC32: () => new Crc32(),
  CRC32C: () => new Crc32cJs(),
  CRC64NVME: () => new Crc64NvmeJs(),
};

describe('agrees with the AWS SDK on random input, fed in random pieces', () => {
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(alg, async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 6 }), async (data, cuts) => {
          const buf = Buffer.from(data);
          const ours = createChecksum(alg);
          let at = 0;
          for (const cut of [...cuts].sort((a, b) => a - b)) {
            const to = Math.min(cut, buf.length);
            if (to < at) continue;
            ours.update(buf.subarray(at, to));
            at = to;
          }
          ours.update(buf.subarray(at));
          const theirs = sdk[alg]();
          theirs.update(buf);
          expect(ours.digest().toString('hex')).toBe(Buffer.from(await theirs.digest()).toString('hex'));
        }),
        { numRuns: 200 },
      );
    });
  }

  it('one 5 MiB buffer at odd offsets', async () => {
    const big = randomBytes(5 * 1024 * 1024 + 3).subarray(1); // unaligned view
    for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      const ours = createChecksum(alg);
      ours.update(big);
      const theirs = sdk[alg]();
      theirs.update(big);
      expect(ours.digestBase64(), alg).toBe(Buffer.from(await theirs.digest()).toString('base64'));
    }
  });
});

describe('names and values', () => {
  it.each([
    ['crc32', 'CRC32'],
    ['CRC32C', 'CRC32C'],
    ['x-amz-checksum-crc64nvme', 'CRC64NVME'],
    [' sha1 ', 'SHA1'],
    ['sha256', 'SHA256'],
    ['md5', undefined],
    ['', undefined],
    ['x-amz-checksum-', undefined],
  ])('parseChecksumAlgorithm(%j) = %s', (input, out) => {
    expect(parseChecksumAlgorithm(input)).toBe(out);
  });

  it('header names', () => {
    expect(checksumHeaderName('CRC64NVME')).toBe('x-amz-checksum-crc64nvme');
  });

  const sha256Abc = createHash('sha256').update('abc').digest('base64');
  it.each<[ChecksumAlgorithm, string, boolean]>([
    ['CRC32', 'AAAAAA==', true],
    ['CRC32', 'AAAAAAA=', false], // 5 bytes
    ['CRC32', 'AAAAAA', false], // unpadded
    ['CRC32C', 'yZRlqg==', true],
    ['CRC64NVME', 'AAAAAAAAAAA=', true],
    ['CRC64NVME', 'AAAAAA==', false],
    ['SHA1', 'qZk+NkcGgWq6PiVxeFDCbJzQ2J0=', true],
    ['SHA256', sha256Abc, true],
    ['SHA256', 'not base64 at all!', false],
  ])('isValidChecksumValue(%s, %j) = %s', (alg, value, ok) => {
    expect(isValidChecksumValue(alg, value)).toBe(ok);
  });
});
