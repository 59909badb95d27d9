/**
 * Objects through @aws-sdk/client-s3 (default request checksums) against a real gateway:
 * PUT with a Buffer (header checksum) and with a stream (aws-chunked + CRC32 trailer), GET,
 * HEAD, DELETE, DeleteObjects, metadata and content headers, conditional PUT.
 * GET conditionals, Range and response-* overrides are in sdk-get.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32Base64, crc32cBase64 } from '../helpers/chunked.js';
import { bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const b64 = (alg: string, b: Buffer) => createHash(alg).update(b).digest('base64');

/** Records the headers of every request the client sends (after signing). */
function recordHeaders(client: S3Client): Record<string, string>[] {
  const seen: Record<string, string>[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers) seen.push({ ...req.headers });
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'erneRecordHeaders' },
  );
  return seen;
}

let sent: Record<string, string>[];
const bucket = uniqueBucket('obj');
let dir: string;

const erne = useGateway({ bucket });

beforeAll(async () => {
  sent = recordHeaders(erne.s3);
  dir = mkdtempSync(join(tmpdir(), 'erne-e2e-files-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function getBytes(key: string): Promise<Buffer> {
  const r = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return bodyBytes(r.Body);
}

describe('PutObject / GetObject round trips', () => {
  it('Buffer body: sent with an x-amz-checksum-crc32 header; ETag is the MD5', async () => {
    const data = Buffer.from('hello, erne');
    const put = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'buf.txt', Body: data }));
    const last = sent[sent.length - 1];
    expect(last['x-amz-checksum-crc32']).toBe(crc32Base64(data));
    expect(last['content-encoding']).toBeUndefined();
    expect(put.ETag).toBe(`"${md5(data)}"`);
    const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'buf.txt' }));
    expect((await bodyBytes(got.Body)).equals(data)).toBe(true);
    expect(got.ETag).toBe(put.ETag);
    expect(got.ContentLength).toBe(data.length);
    expect(got.$metadata.httpStatusCode).toBe(200);
  });

  it('stream body: sent aws-chunked with a CRC32 trailer, stored decoded', async () => {
    const data = randomBytes(300 * 1024 + 7); // above any inline threshold
    const put = await erne.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'stream.bin', Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), ContentLength: data.length }),
    );
    const last = sent[sent.length - 1];
    expect(last['content-encoding']).toContain('aws-chunked');
    expect(last['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    expect(last['x-amz-content-sha256']).toMatch(/^STREAMING-/);
    expect(put.ETag).toBe(`"${md5(data)}"`);
    const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream.bin' }));
    expect(got.ContentLength).toBe(data.length);
    expect(got.ContentEncoding).toBeUndefined(); // aws-chunked is a transfer detail, never stored
    expect(md5(await bodyBytes(got.Body))).toBe(md5(data));
  });

  it('file stream body (length inferred by the SDK) round-trips', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 3);
    const file = join(dir, 'f.bin');
    writeFileSync(file, data);
    const put = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'file.bin', Body: createReadStream(file) }));
    expect(sent[sent.length - 1]['content-encoding']).toContain('aws-chunked');
    expect(put.ETag).toBe(`"${md5(data)}"`);
    expect(md5(await getBytes('file.bin'))).toBe(md5(data));
  });

  it('empty object', async () => {
    const put = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
    expect(put.ETag).toBe('"d41d8cd98f00b204e9800998ecf8427e"');
    const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' }));
    expect(got.ContentLength).toBe(0);
    expect((await bodyBytes(got.Body)).length).toBe(0);
  });

  it('keys with spaces, unicode and URL-special characters', async () => {
    const keys = ['dir/sub dir/a b.txt', 'ünïcødé/日本語.txt', 'sym+bols&=?;:@$,!~*()\'.txt', 'pct%20not-decoded', 'trailing/'];
    for (const [i, key] of keys.entries()) {
      await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `special/${key}`, Body: `v${i}` }));
    }
    for (const [i, key] of keys.entries()) {
      expect((await getBytes(`special/${key}`)).toString()).toBe(`v${i}`);
    }
    const list = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'special/' }));
    expect(list.Contents?.map((c) => c.Key).sort()).toEqual(keys.map((k) => `special/${k}`).sort());
  });

  it('overwrite replaces bytes and ETag', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ow', Body: 'first' }));
    const p2 = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ow', Body: 'second!' }));
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ow' }));
    expect(h.ETag).toBe(p2.ETag);
    expect(h.ContentLength).toBe(7);
    expect((await getBytes('ow')).toString()).toBe('second!');
  });
});

describe('checksums', () => {
  it('x-amz-checksum-mode: ENABLED returns the stored CRC32 (header and trailer uploads)', async () => {
    const a = Buffer.from('checksum me');
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ck-header', Body: a }));
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ck-header', ChecksumMode: 'ENABLED' }));
    expect(h.ChecksumCRC32).toBe(crc32Base64(a));
    const g = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ck-header', ChecksumMode: 'ENABLED' }));
    expect(g.ChecksumCRC32).toBe(crc32Base64(a));
    await bodyBytes(g.Body); // the SDK validates the body against the returned checksum

    const b = randomBytes(100_000);
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ck-trailer', Body: Readable.from([b]), ContentLength: b.length }));
    const h2 = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ck-trailer', ChecksumMode: 'ENABLED' }));
    expect(h2.ChecksumCRC32).toBe(crc32Base64(b));
  });

  it.each([
    ['SHA256', 'sha256', 'ChecksumSHA256'],
    ['SHA1', 'sha1', 'ChecksumSHA1'],
  ] as const)('ChecksumAlgorithm %s is verified, stored and returned', async (alg, node, field) => {
    const data = Buffer.from(`data for ${alg}`);
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `ck-${alg}`, Body: data, ChecksumAlgorithm: alg }));
    expect(sent[sent.length - 1][`x-amz-checksum-${alg.toLowerCase()}`]).toBe(b64(node, data));
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `ck-${alg}`, ChecksumMode: 'ENABLED' }));
    expect(h[field]).toBe(b64(node, data));
  });

  it('ChecksumAlgorithm CRC32C round-trips through the trailer of a streamed body', async () => {
    const data = randomBytes(70_000);
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ck-crc32c', Body: Readable.from([data]), ContentLength: data.length, ChecksumAlgorithm: 'CRC32C' }));
    expect(sent[sent.length - 1]['x-amz-trailer']).toBe('x-amz-checksum-crc32c');
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'ck-crc32c', ChecksumMode: 'ENABLED' }));
    // the reference CRC32C gives the standard check value for "123456789" (0xE3069283)
    expect(Buffer.from(crc32cBase64(Buffer.from('123456789')), 'base64').toString('hex')).toBe('e3069283');
    expect(h.ChecksumCRC32C).toBe(crc32cBase64(data));
    const g = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ck-crc32c', ChecksumMode: 'ENABLED' }));
    expect(md5(await bodyBytes(g.Body))).toBe(md5(data)); // SDK checks the CRC32C it gets back
  });

  it('Content-MD5 that matches is accepted', async () => {
    const data = Buffer.from('md5 checked');
    const put = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'md5-ok', Body: data, ContentMD5: createHash('md5').update(data).digest('base64') }));
    expect(put.ETag).toBe(`"${md5(data)}"`);
  });
});

describe('metadata and content headers', () => {
  it('user metadata and Content-Type/Encoding/Disposition/Language, Cache-Control, Expires round-trip', async () => {
    const expires = new Date(Date.UTC(2031, 0, 2, 3, 4, 5));
    const input = {
      Bucket: bucket,
      Key: 'headers.txt',
      Body: 'with headers',
      Metadata: { color: 'blue', 'multi-word-key': 'Hello World', empty: '' },
      ContentType: 'text/plain; charset=utf-8',
      ContentEncoding: 'gzip',
      ContentDisposition: 'attachment; filename="a b.txt"',
      ContentLanguage: 'de-CH',
      CacheControl: 'max-age=3600, public',
      Expires: expires,
    };
    await erne.s3.send(new PutObjectCommand(input));
    for (const r of [
      await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers.txt' })),
      await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'headers.txt' })),
    ]) {
      expect(r.Metadata).toEqual(input.Metadata);
      expect(r.ContentType).toBe(input.ContentType);
      expect(r.ContentEncoding).toBe('gzip');
      expect(r.ContentDisposition).toBe(input.ContentDisposition);
      expect(r.ContentLanguage).toBe('de-CH');
      expect(r.CacheControl).toBe(input.CacheControl);
      expect(r.Expires?.getTime()).toBe(expires.getTime());
      expect(r.LastModified).toBeInstanceOf(Date);
      expect(Math.abs((r.LastModified as Date).getTime() - Date.now())).toBeLessThan(60_000);
    }
  });

  it('a streamed upload with Content-Encoding gzip stores gzip, not "gzip,aws-chunked"', async () => {
    const data = randomBytes(10_000);
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gz-stream', Body: Readable.from([data]), ContentLength: data.length, ContentEncoding: 'gzip' }));
    expect(sent[sent.length - 1]['content-encoding']).toMatch(/aws-chunked/);
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'gz-stream' }));
    expect(h.ContentEncoding).toBe('gzip');
    expect(h.ContentLength).toBe(data.length);
  });
});

describe('conditional PUT', () => {
  it('If-None-Match: * creates once, then 412 PreconditionFailed and the object is unchanged', async () => {
    const first = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-new', Body: 'one', IfNoneMatch: '*' }));
    const err = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-new', Body: 'two', IfNoneMatch: '*' })));
    expect(err.name).toBe('PreconditionFailed');
    expect(err.status).toBe(412);
    expect(err.requestId).toBeTruthy();
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cond-new' }));
    expect(h.ETag).toBe(first.ETag);
    expect((await getBytes('cond-new')).toString()).toBe('one');
  });

  it('If-Match with the current ETag succeeds; with a wrong ETag → 412 and unchanged', async () => {
    const v1 = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-match', Body: 'v1' }));
    const v2 = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-match', Body: 'v2', IfMatch: v1.ETag }));
    expect(v2.ETag).toBe(`"${md5('v2')}"`);
    const err = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-match', Body: 'v3', IfMatch: v1.ETag })));
    expect(err.status).toBe(412);
    expect(err.name).toBe('PreconditionFailed');
    expect((await getBytes('cond-match')).toString()).toBe('v2');
  });

  it('If-None-Match: * on a streamed (aws-chunked) upload is refused too', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-stream', Body: 'orig' }));
    const data = randomBytes(200_000);
    const err = await sdkError(
      erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cond-stream', Body: Readable.from([data]), ContentLength: data.length, IfNoneMatch: '*' })),
    );
    expect(err.status).toBe(412);
    expect((await getBytes('cond-stream')).toString()).toBe('orig');
  });
});

describe('HeadObject / DeleteObject / DeleteObjects', () => {
  it('HEAD of a missing key is 404; GET is NoSuchKey', async () => {
    const h = await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'missing' })));
    expect(h.status).toBe(404);
    const g = await sdkError(erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })));
    expect(g.name).toBe('NoSuchKey');
    expect(g.status).toBe(404);
  });

  it('DeleteObject removes; deleting an absent key succeeds with 204', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'del-me', Body: 'x' }));
    const d = await erne.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del-me' }));
    expect(d.$metadata.httpStatusCode).toBe(204);
    expect((await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'del-me' })))).status).toBe(404);
    const again = await erne.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del-me' }));
    expect(again.$metadata.httpStatusCode).toBe(204);
  });

  it('DeleteObjects (SDK sends an x-amz-checksum header, not Content-MD5) reports each key', async () => {
    for (const k of ['m/1', 'm/2', 'm/3']) await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const r = await erne.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'm/1' }, { Key: 'm/2' }, { Key: 'm/absent' }] } }));
    expect(r.Deleted?.map((d) => d.Key).sort()).toEqual(['m/1', 'm/2', 'm/absent']);
    expect(r.Errors ?? []).toEqual([]);
    const list = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'm/' }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['m/3']);
  });

  it('DeleteObjects quiet mode returns no Deleted entries but deletes', async () => {
    for (const k of ['q/1', 'q/2']) await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: k }));
    const r = await erne.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: [{ Key: 'q/1' }, { Key: 'q/2' }] } }));
    expect(r.Deleted ?? []).toEqual([]);
    expect(r.Errors ?? []).toEqual([]);
    const list = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'q/' }));
    expect(list.KeyCount).toBe(0);
  });

  it('objects in a missing bucket: NoSuchBucket', async () => {
    const e = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: uniqueBucket('nope'), Key: 'k', Body: 'x' })));
    expect(e.name).toBe('NoSuchBucket');
    expect(e.status).toBe(404);
  });
});
