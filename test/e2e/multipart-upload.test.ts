/**
 * Multipart uploads through @aws-sdk/lib-storage and @aws-sdk/client-s3 (default checksums
 * on) against a real gateway: big uploads read back whole, by range and by part; composite
 * and full-object checksums the SDK validates; retries; conditional completion.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { createChecksum } from '../../gateway/checksum/index.js';
import type { ChecksumAlgorithm } from '../../metadata/types.js';
import { bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sum = (alg: ChecksumAlgorithm, b: Buffer) => {
  const c = createChecksum(alg);
  c.update(b);
  return c.digestBase64();
};
/** S3's multipart ETag: md5 of the concatenated binary part md5s, "-N" */
const multipartEtag = (parts: Buffer[]) => `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;

const bucket = uniqueBucket('mpu');
const big = randomBytes(40 * MiB);
const bigParts = Array.from({ length: 8 }, (_, i) => big.subarray(i * 5 * MiB, (i + 1) * 5 * MiB));

const erne = useGateway({ bucket });

beforeAll(async () => {
  const up = new Upload({ client: erne.s3, params: { Bucket: bucket, Key: 'big.bin', Body: big, ContentType: 'application/x-test', Metadata: { who: 'lib-storage' } }, partSize: 5 * MiB, queueSize: 4 });
  await up.done();
});

async function getRange(key: string, range: string) {
  const r = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return { r, bytes: await bodyBytes(r.Body) };
}

describe('lib-storage Upload of 40 MiB in 5 MiB parts (queueSize 4)', () => {
  it('reads back byte for byte with the multipart ETag and its metadata', async () => {
    const r = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    expect(r.ETag).toBe(multipartEtag(bigParts));
    expect(r.ContentLength).toBe(big.length);
    expect(r.ContentType).toBe('application/x-test');
    expect(r.Metadata).toEqual({ who: 'lib-storage' });
    const got = await bodyBytes(r.Body);
    expect(got.equals(big)).toBe(true);
  });

  it('reports the composite CRC32 the SDK asked for, with type COMPOSITE, on a whole read', async () => {
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin', ChecksumMode: 'ENABLED' }));
    const composite = createChecksum('CRC32');
    for (const p of bigParts) composite.update(Buffer.from(sum('CRC32', p), 'base64'));
    expect(h.ChecksumCRC32).toBe(`${composite.digestBase64()}-8`);
    expect(h.ChecksumType).toBe('COMPOSITE');
    // a whole GET with checksum mode: the SDK accepts the composite value
    const g = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', ChecksumMode: 'ENABLED' }));
    expect((await bodyBytes(g.Body)).length).toBe(big.length);
  });

  it('serves ranges that cross part boundaries', async () => {
    const cases: [number, number][] = [
      [5 * MiB - 10, 5 * MiB + 9],
      [3 * MiB, 17 * MiB + 5],
      [0, 0],
      [40 * MiB - 1, 40 * MiB - 1],
      [10 * MiB, 15 * MiB - 1],
    ];
    for (const [a, b] of cases) {
      const { r, bytes } = await getRange('big.bin', `bytes=${a}-${b}`);
      expect(r.ContentRange).toBe(`bytes ${a}-${b}/${big.length}`);
      expect(bytes.equals(big.subarray(a, b + 1))).toBe(true);
    }
    const { bytes: tail } = await getRange('big.bin', 'bytes=-7340032');
    expect(tail.equals(big.subarray(big.length - 7 * MiB))).toBe(true);
  });

  it('serves one part with partNumber (206, Content-Range, x-amz-mp-parts-count), GET and HEAD', async () => {
    const r = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', PartNumber: 3 }));
    expect(r.$metadata.httpStatusCode).toBe(206);
    expect(r.PartsCount).toBe(8);
    expect(r.ContentRange).toBe(`bytes ${10 * MiB}-${15 * MiB - 1}/${big.length}`);
    expect((await bodyBytes(r.Body)).equals(bigParts[2]!)).toBe(true);
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin', PartNumber: 8 }));
    expect(h.PartsCount).toBe(8);
    expect(h.ContentLength).toBe(5 * MiB);
    const e = await sdkError(erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', PartNumber: 9 })));
    expect(e.status).toBe(416);
  });
});

/** create → parts → complete with the SDK's commands, the body of each part given */
async function multipart(key: string, parts: Buffer[], create: Partial<ConstructorParameters<typeof CreateMultipartUploadCommand>[0]> = {}) {
  const c = await erne.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...create }));
  const done = [];
  for (const [i, body] of parts.entries()) {
    const r = await erne.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: c.UploadId, PartNumber: i + 1, Body: body, ...(create.ChecksumAlgorithm ? { ChecksumAlgorithm: create.ChecksumAlgorithm } : {}) }));
    done.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32, ChecksumCRC32C: r.ChecksumCRC32C, ChecksumCRC64NVME: r.ChecksumCRC64NVME, ChecksumSHA1: r.ChecksumSHA1, ChecksumSHA256: r.ChecksumSHA256 });
  }
  return { uploadId: c.UploadId!, create: c, parts: done };
}

describe('checksums of completed uploads', () => {
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 123), randomBytes(777)];
  const whole = Buffer.concat(parts);

  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    it(`FULL_OBJECT ${alg}: the whole-object CRC, which the SDK validates on GET`, async () => {
      const key = `full-${alg}`;
      const m = await multipart(key, parts, { ChecksumAlgorithm: alg, ChecksumType: 'FULL_OBJECT' });
      expect(m.create.ChecksumType).toBe('FULL_OBJECT');
      const done = await erne.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: m.uploadId, MultipartUpload: { Parts: m.parts } }));
      const expected = sum(alg, whole);
      expect(done[`Checksum${alg}`]).toBe(expected);
      expect(done.ChecksumType).toBe('FULL_OBJECT');
      const g = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      expect(g[`Checksum${alg}`]).toBe(expected);
      expect(g.ChecksumType).toBe('FULL_OBJECT');
      expect((await bodyBytes(g.Body)).equals(whole)).toBe(true);
    });
  }

  it('COMPOSITE SHA256: sha256 of the concatenated part digests, "-N"', async () => {
    const m = await multipart('composite-sha256', parts, { ChecksumAlgorithm: 'SHA256' });
    expect(m.create.ChecksumType).toBe('COMPOSITE');
    const done = await erne.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'composite-sha256', UploadId: m.uploadId, MultipartUpload: { Parts: m.parts } }));
    const digests = Buffer.concat(parts.map((p) => createHash('sha256').update(p).digest()));
    expect(done.ChecksumSHA256).toBe(`${createHash('sha256').update(digests).digest('base64')}-3`);
    expect(done.ETag).toBe(multipartEtag(parts));
  });

  it('refuses FULL_OBJECT with a non-CRC algorithm, as S3 does', async () => {
    const e = await sdkError(erne.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', ChecksumAlgorithm: 'SHA1', ChecksumType: 'FULL_OBJECT' })));
    expect(e.name).toBe('InvalidRequest');
  });

  it('a part whose sent checksum does not match its bytes is refused (BadDigest)', async () => {
    const c = await erne.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'bad-part', ChecksumAlgorithm: 'SHA256' }));
    const e = await sdkError(
      erne.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'bad-part', UploadId: c.UploadId, PartNumber: 1, Body: Buffer.from('abc'), ChecksumSHA256: sum('SHA256', Buffer.from('abd')) })),
    );
    expect(e.name).toBe('BadDigest');
  });
});

describe('completion semantics', () => {
  const parts = [randomBytes(5 * MiB), randomBytes(1000)];

  it('a retried completion answers the same result', async () => {
    const m = await multipart('retry', parts);
    const input = { Bucket: bucket, Key: 'retry', UploadId: m.uploadId, MultipartUpload: { Parts: m.parts } };
    const a = await erne.s3.send(new CompleteMultipartUploadCommand(input));
    const b = await erne.s3.send(new CompleteMultipartUploadCommand(input));
    expect(b.ETag).toBe(a.ETag);
    expect(a.ETag).toBe(multipartEtag(parts));
  });

  it('If-None-Match: * refuses to replace an existing key and leaves the upload usable', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond', Body: 'old' }));
    const m = await multipart('cond', parts);
    const input = { Bucket: bucket, Key: 'cond', UploadId: m.uploadId, MultipartUpload: { Parts: m.parts } };
    const e = await sdkError(erne.s3.send(new CompleteMultipartUploadCommand({ ...input, IfNoneMatch: '*' })));
    expect(e.status).toBe(412);
    const still = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' }));
    expect((await bodyBytes(still.Body)).toString()).toBe('old');
    // If-Match with the current ETag: goes through
    const done = await erne.s3.send(new CompleteMultipartUploadCommand({ ...input, IfMatch: still.ETag }));
    expect(done.ETag).toBe(multipartEtag(parts));
    const now = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cond' }));
    expect((await bodyBytes(now.Body)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('applies the tags, content headers and metadata given at creation', async () => {
    const m = await multipart('tagged', parts, { Tagging: 'team=storage&tier=hot', ContentType: 'text/x-parts', ContentDisposition: 'attachment', Metadata: { origin: 'create' } });
    await erne.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'tagged', UploadId: m.uploadId, MultipartUpload: { Parts: m.parts } }));
    const tags = await erne.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'tagged' }));
    expect(tags.TagSet).toEqual([
      { Key: 'team', Value: 'storage' },
      { Key: 'tier', Value: 'hot' },
    ]);
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'tagged' }));
    expect([h.ContentType, h.ContentDisposition, h.Metadata]).toEqual(['text/x-parts', 'attachment', { origin: 'create' }]);
  });

  it('If-None-Match: * completes a new key', async () => {
    const m = await multipart('cond-new', parts);
    const done = await erne.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'cond-new', UploadId: m.uploadId, MultipartUpload: { Parts: m.parts }, IfNoneMatch: '*' }));
    expect(done.ETag).toBe(multipartEtag(parts));
  });
});
