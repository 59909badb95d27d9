/**
 * CopyObject through @aws-sdk/client-s3 against a real gateway: other bucket, same key with
 * REPLACE (and the illegal copy onto itself), metadata and tagging directives, url-encoded
 * sources, copy of a version, copy-source conditionals, destination conditions, and a
 * 100 MiB copy that is streamed (the gateway's RSS does not grow by the object's size).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';

const src = uniqueBucket('csrc');
const dst = uniqueBucket('cdst');

const erne = useGateway();

beforeAll(async () => {
  await erne.s3.send(new CreateBucketCommand({ Bucket: src }));
  await erne.s3.send(new CreateBucketCommand({ Bucket: dst }));
});

const getText = async (Bucket: string, Key: string, VersionId?: string) => (await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body)).toString();
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('CopyObject', () => {
  it('copies to another bucket with metadata, tags and checksums (COPY directives)', async () => {
    const body = 'x'.repeat(200_000); // a blob, not inline
    await erne.s3.send(new PutObjectCommand({ Bucket: src, Key: 'a b/ü.txt', Body: body, ContentType: 'text/plain', Metadata: { color: 'blue' }, Tagging: 'k1=v1&k2=v%202' }));
    const r = await erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'copy', CopySource: `${src}/${encodeURIComponent('a b/ü.txt')}` }));
    expect(r.CopyObjectResult?.ETag).toBe(`"${md5(body)}"`);
    expect(r.CopyObjectResult?.LastModified).toBeInstanceOf(Date);
    expect(r.VersionId).toBeUndefined();
    const head = await erne.s3.send(new HeadObjectCommand({ Bucket: dst, Key: 'copy' }));
    expect([head.ContentType, head.Metadata, head.ContentLength, head.TagCount]).toEqual(['text/plain', { color: 'blue' }, 200_000, 2]);
    expect(await getText(dst, 'copy')).toBe(body);
    const tags = await erne.s3.send(new GetObjectTaggingCommand({ Bucket: dst, Key: 'copy' }));
    expect(tags.TagSet).toEqual([{ Key: 'k1', Value: 'v1' }, { Key: 'k2', Value: 'v 2' }]);
    // the source is independent of the copy
    await erne.s3.send(new DeleteObjectCommand({ Bucket: src, Key: 'a b/ü.txt' }));
    expect(await getText(dst, 'copy')).toBe(body);
  });

  it('REPLACE directives; copy onto itself needs REPLACE', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: src, Key: 'self', Body: 'hello', ContentType: 'text/plain', Metadata: { a: '1' }, Tagging: 't=1' }));
    const illegal = await sdkError(erne.s3.send(new CopyObjectCommand({ Bucket: src, Key: 'self', CopySource: `/${src}/self` })));
    expect([illegal.name, illegal.status]).toEqual(['InvalidRequest', 400]);
    await erne.s3.send(
      new CopyObjectCommand({
        Bucket: src,
        Key: 'self',
        CopySource: `/${src}/self`,
        MetadataDirective: 'REPLACE',
        ContentType: 'application/json',
        Metadata: { b: '2' },
        TaggingDirective: 'REPLACE',
        Tagging: 'new=yes',
      }),
    );
    const head = await erne.s3.send(new HeadObjectCommand({ Bucket: src, Key: 'self' }));
    expect([head.ContentType, head.Metadata, head.TagCount]).toEqual(['application/json', { b: '2' }, 1]);
    expect(await getText(src, 'self')).toBe('hello');
    const bad = await sdkError(erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: `${src}/self`, MetadataDirective: 'MOVE' as 'COPY' })));
    expect(bad.name).toBe('InvalidArgument');
  });

  it('copy-source conditionals answer 412; destination If-None-Match * holds', async () => {
    const put = await erne.s3.send(new PutObjectCommand({ Bucket: src, Key: 'cond', Body: 'c' }));
    const etag = put.ETag!;
    const past = new Date(Date.now() - 3_600_000);
    const future = new Date(Date.now() + 3_600_000);
    const cases: [Record<string, unknown>, boolean][] = [
      [{ CopySourceIfMatch: etag }, true],
      [{ CopySourceIfMatch: '"0000"' }, false],
      [{ CopySourceIfNoneMatch: etag }, false],
      [{ CopySourceIfNoneMatch: '"0000"' }, true],
      [{ CopySourceIfModifiedSince: past }, true],
      [{ CopySourceIfModifiedSince: future }, false],
      [{ CopySourceIfUnmodifiedSince: future }, true],
      [{ CopySourceIfUnmodifiedSince: past }, false],
      [{ CopySourceIfMatch: etag, CopySourceIfUnmodifiedSince: past }, true],
    ];
    for (const [cond, ok] of cases) {
      const p = erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'cond', CopySource: `${src}/cond`, ...cond }));
      if (ok) await p;
      else expect(await sdkError(p)).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    }
    const exists = await sdkError(erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'cond', CopySource: `${src}/cond`, IfNoneMatch: '*' })));
    expect(exists.status).toBe(412);
    await erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'fresh', CopySource: `${src}/cond`, IfNoneMatch: '*' }));
    const missing = await sdkError(erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: `${src}/nope` })));
    expect([missing.name, missing.status]).toEqual(['NoSuchKey', 404]);
    const noBucket = await sdkError(erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: `nobucket-${Date.now()}/k` })));
    expect(noBucket.name).toBe('NoSuchBucket');
  });

  it('copies a given version and reports the version ids', async () => {
    const vb = uniqueBucket('cver');
    await erne.s3.send(new CreateBucketCommand({ Bucket: vb }));
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await erne.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'one' }))).VersionId!;
    await erne.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: 'two' }));
    // restoring an old version onto the same key is allowed
    const r = await erne.s3.send(new CopyObjectCommand({ Bucket: vb, Key: 'k', CopySource: `${vb}/k?versionId=${v1}` }));
    expect(r.CopySourceVersionId).toBe(v1);
    expect(r.VersionId).toMatch(/^[0-9a-f]+$/);
    expect(await getText(vb, 'k')).toBe('one');
    const toPlain = await erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'from-version', CopySource: `${vb}/k?versionId=${v1}` }));
    expect([toPlain.VersionId, toPlain.CopySourceVersionId]).toEqual([undefined, v1]);
    await erne.s3.send(new DeleteObjectCommand({ Bucket: vb, Key: 'k' }));
    const marker = await sdkError(erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'x', CopySource: `${vb}/k` })));
    expect(marker.status).toBe(404);
  });

  it('a 100 MiB copy with a new checksum is streamed: right bytes, gateway RSS does not grow by the object', async () => {
    const size = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 255;
    const hash = createHash('md5');
    const sha = createHash('sha256');
    for (let i = 0; i < 100; i++) {
      hash.update(chunk);
      sha.update(chunk);
    }
    const want = hash.digest('hex');
    const wantSha256 = sha.digest('base64');
    await erne.s3.send(new PutObjectCommand({ Bucket: src, Key: 'big', Body: Readable.from((function* () { for (let i = 0; i < 100; i++) yield chunk; })()), ContentLength: size }));
    global.gc?.();
    const before = process.memoryUsage().rss;
    // asking for SHA256 (which the source lacks) makes the gateway read and hash every byte
    const r = await erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'big', CopySource: `${src}/big`, ChecksumAlgorithm: 'SHA256' }));
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    expect(r.CopyObjectResult?.ETag).toBe(`"${want}"`);
    expect(r.CopyObjectResult?.ChecksumSHA256).toBe(wantSha256);
    // and a plain copy shares the blob: instant, same bytes
    await erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'big-shared', CopySource: `${src}/big` }));
    for (const key of ['big', 'big-shared']) {
      const got = await erne.s3.send(new GetObjectCommand({ Bucket: dst, Key: key }));
      const h = createHash('md5');
      for await (const c of got.Body as Readable) h.update(c as Buffer);
      expect(h.digest('hex')).toBe(want);
    }
  }, 120_000);

  it('copies a multipart object by streaming its parts into a new object', async () => {
    const part = 5 * 1024 * 1024;
    const data = Buffer.alloc(2 * part + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 13)) & 255;
    await new Upload({ client: erne.s3, params: { Bucket: src, Key: 'mp', Body: data }, partSize: part, queueSize: 2 }).done();
    const srcHead = await erne.s3.send(new HeadObjectCommand({ Bucket: src, Key: 'mp' }));
    expect(srcHead.ETag).toMatch(/-3"$/);
    const r = await erne.s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'mp-copy', CopySource: `${src}/mp` }));
    expect(r.CopyObjectResult?.ETag).toBe(`"${md5(data)}"`);
    const got = await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: dst, Key: 'mp-copy' }))).Body);
    expect(got.equals(data)).toBe(true);
  }, 60_000);
});
