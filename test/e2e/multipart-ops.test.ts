/**
 * Multipart operations one by one through @aws-sdk/client-s3: refusals that change nothing,
 * listings with their markers, UploadPartCopy with ranges and conditionals, and the bytes
 * of aborted uploads, replaced parts, unnamed parts and deleted objects leaving the volume
 * (files under <volume>/blobs counted after a janitor pass).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';

const MiB = 1024 * 1024;

const bucket = uniqueBucket('mpo');
const erne = useGateway({ bucket });

/** blob files on the gateway's volume */
function blobFiles(): number {
  const walk = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(join(dir, e.name)) : 1), 0);
  return walk(join(erne.dataDir, 'volume', 'blobs'));
}

async function create(key: string): Promise<string> {
  return (await erne.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId!;
}

async function part(key: string, uploadId: string, n: number, body: Buffer): Promise<CompletedPart> {
  const r = await erne.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: body }));
  return { PartNumber: n, ETag: r.ETag };
}

const complete = (key: string, uploadId: string, parts: CompletedPart[]) =>
  erne.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));

const listParts = async (key: string, uploadId: string) =>
  (await erne.s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))).Parts ?? [];

describe('refusals change nothing', () => {
  const key = 'refused';
  const p1 = randomBytes(5 * MiB);
  const p2 = randomBytes(5 * MiB);
  const small = randomBytes(1000);
  let uploadId: string;
  let parts: CompletedPart[];

  beforeAll(async () => {
    uploadId = await create(key);
    parts = [await part(key, uploadId, 1, small), await part(key, uploadId, 2, p1), await part(key, uploadId, 3, p2)];
  });

  async function unchanged() {
    const listed = await listParts(key, uploadId);
    expect(listed.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([
      [1, parts[0]!.ETag, 1000],
      [2, parts[1]!.ETag, 5 * MiB],
      [3, parts[2]!.ETag, 5 * MiB],
    ]);
    expect((await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).status).toBe(404);
  }

  it('InvalidPart: a part never uploaded, or a wrong ETag', async () => {
    expect((await sdkError(complete(key, uploadId, [parts[1]!, { PartNumber: 4, ETag: parts[2]!.ETag }]))).name).toBe('InvalidPart');
    expect((await sdkError(complete(key, uploadId, [parts[1]!, { PartNumber: 3, ETag: parts[1]!.ETag }]))).name).toBe('InvalidPart');
    await unchanged();
  });

  it('InvalidPartOrder: descending or repeated part numbers', async () => {
    expect((await sdkError(complete(key, uploadId, [parts[2]!, parts[1]!]))).name).toBe('InvalidPartOrder');
    expect((await sdkError(complete(key, uploadId, [parts[1]!, parts[1]!]))).name).toBe('InvalidPartOrder');
    await unchanged();
  });

  it('EntityTooSmall: a part under 5 MiB that is not the last', async () => {
    const e = await sdkError(complete(key, uploadId, parts));
    expect(e.name).toBe('EntityTooSmall');
    expect(e.status).toBe(400);
    await unchanged();
  });

  it('NoSuchUpload: unknown upload id (UploadPart, ListParts, Complete, Abort) or another key', async () => {
    const bogus = 'nosuchupload0000000000000000';
    for (const send of [
      () => erne.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: bogus, PartNumber: 1, Body: 'x' })),
      () => erne.s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: bogus })),
      () => complete(key, bogus, parts),
      () => erne.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: bogus })),
      () => erne.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'other-key', UploadId: uploadId })),
    ]) {
      const e = await sdkError(send());
      expect(e.name).toBe('NoSuchUpload');
      expect(e.status).toBe(404);
    }
    await unchanged();
  });

  it('InvalidArgument: part numbers outside 1..10000', async () => {
    for (const n of [0, 10001]) {
      const e = await sdkError(erne.s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: 'x' })));
      expect(e.name).toBe('InvalidArgument');
    }
    await unchanged();
  });

  it('after all that, completing with the valid parts works', async () => {
    const done = await complete(key, uploadId, [parts[1]!, parts[2]!]);
    expect(done.ETag).toMatch(/-2"$/);
    const got = await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
    expect(got.equals(Buffer.concat([p1, p2]))).toBe(true);
  });
});

describe('listings', () => {
  it('ListParts pages with max-parts and part-number-marker', async () => {
    const uploadId = await create('many-parts');
    for (let n = 1; n <= 5; n++) await part('many-parts', uploadId, n * 2, Buffer.from(`part ${n}`));
    const seen: number[] = [];
    let marker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await erne.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'many-parts', UploadId: uploadId, MaxParts: 2, PartNumberMarker: marker }));
      seen.push(...(r.Parts ?? []).map((p) => p.PartNumber!));
      if (!r.IsTruncated) break;
      expect(r.Parts).toHaveLength(2);
      marker = r.NextPartNumberMarker;
    }
    expect(seen).toEqual([2, 4, 6, 8, 10]);
    await erne.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'many-parts', UploadId: uploadId }));
  });

  it('ListMultipartUploads: key order, oldest first per key, markers, prefix and delimiter', async () => {
    const b = uniqueBucket('mpl');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    const ids: Record<string, string[]> = {};
    for (const key of ['a/1', 'a/2', 'b', 'c', 'c', 'd/x/y']) {
      const r = await erne.s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }));
      (ids[key] ??= []).push(r.UploadId!);
    }
    const all: [string, string][] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await erne.s3.send(new ListMultipartUploadsCommand({ Bucket: b, MaxUploads: 2, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
      all.push(...(r.Uploads ?? []).map((u): [string, string] => [u.Key!, u.UploadId!]));
      if (!r.IsTruncated) break;
      keyMarker = r.NextKeyMarker;
      uploadIdMarker = r.NextUploadIdMarker;
    }
    expect(all).toEqual([
      ['a/1', ids['a/1']![0]!],
      ['a/2', ids['a/2']![0]!],
      ['b', ids['b']![0]!],
      ['c', ids['c']![0]!],
      ['c', ids['c']![1]!],
      ['d/x/y', ids['d/x/y']![0]!],
    ]);
    const grouped = await erne.s3.send(new ListMultipartUploadsCommand({ Bucket: b, Delimiter: '/' }));
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'd/']);
    expect(grouped.Uploads?.map((u) => u.Key)).toEqual(['b', 'c', 'c']);
    const prefixed = await erne.s3.send(new ListMultipartUploadsCommand({ Bucket: b, Prefix: 'd/', Delimiter: '/' }));
    expect(prefixed.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['d/x/']);
    for (const [key, list] of Object.entries(ids)) for (const id of list) await erne.s3.send(new AbortMultipartUploadCommand({ Bucket: b, Key: key, UploadId: id }));
    expect((await erne.s3.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []).toEqual([]);
    await erne.s3.send(new DeleteBucketCommand({ Bucket: b }));
  });
});

describe('UploadPartCopy', () => {
  const src = randomBytes(12 * MiB + 17);

  it('copies ranges of a plain object and of a multipart object into parts', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy-src', Body: src }));
    const uploadId = await create('copy-dst');
    const ranges: [number, number][] = [
      [0, 5 * MiB - 1],
      [5 * MiB, src.length - 1],
    ];
    const parts: CompletedPart[] = [];
    for (const [i, [a, b]] of ranges.entries()) {
      const r = await erne.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy-dst', UploadId: uploadId, PartNumber: i + 1, CopySource: `${bucket}/copy-src`, CopySourceRange: `bytes=${a}-${b}` }));
      expect(r.CopyPartResult?.ETag).toBe(`"${createHash('md5').update(src.subarray(a, b + 1)).digest('hex')}"`);
      parts.push({ PartNumber: i + 1, ETag: r.CopyPartResult!.ETag });
    }
    await complete('copy-dst', uploadId, parts);
    const got = await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-dst' }))).Body);
    expect(got.equals(src)).toBe(true);

    // source is now multipart: a range across its part boundary, and the whole of it
    const u2 = await create('copy-dst2');
    const a = await erne.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy-dst2', UploadId: u2, PartNumber: 1, CopySource: `${bucket}/copy-dst`, CopySourceRange: `bytes=${4 * MiB}-${10 * MiB - 1}` }));
    const b = await erne.s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy-dst2', UploadId: u2, PartNumber: 2, CopySource: `/${bucket}/copy-dst` }));
    await complete('copy-dst2', u2, [
      { PartNumber: 1, ETag: a.CopyPartResult!.ETag },
      { PartNumber: 2, ETag: b.CopyPartResult!.ETag },
    ]);
    const got2 = await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy-dst2' }))).Body);
    expect(got2.equals(Buffer.concat([src.subarray(4 * MiB, 10 * MiB), src]))).toBe(true);
  });

  it('honours copy-source conditionals and refuses ranges outside the source', async () => {
    const uploadId = await create('copy-cond');
    const head = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy-src' }));
    const base = { Bucket: bucket, Key: 'copy-cond', UploadId: uploadId, PartNumber: 1, CopySource: `${bucket}/copy-src` };
    expect((await sdkError(erne.s3.send(new UploadPartCopyCommand({ ...base, CopySourceIfMatch: '"0000"' })))).status).toBe(412);
    expect((await sdkError(erne.s3.send(new UploadPartCopyCommand({ ...base, CopySourceIfNoneMatch: head.ETag })))).status).toBe(412);
    expect((await sdkError(erne.s3.send(new UploadPartCopyCommand({ ...base, CopySourceRange: `bytes=0-${src.length}` })))).status).toBe(416);
    expect(await listParts('copy-cond', uploadId)).toEqual([]);
    const ok = await erne.s3.send(new UploadPartCopyCommand({ ...base, CopySourceIfMatch: head.ETag, CopySourceRange: 'bytes=0-9' }));
    expect(ok.CopyPartResult?.ETag).toBe(`"${createHash('md5').update(src.subarray(0, 10)).digest('hex')}"`);
    await erne.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'copy-cond', UploadId: uploadId }));
  });
});

describe('no bytes left behind (janitor pass)', () => {
  it('aborting an upload frees its parts; the upload is gone', async () => {
    await erne.gw.janitor.runOnce();
    const before = blobFiles();
    const uploadId = await create('aborted');
    for (let n = 1; n <= 3; n++) await part('aborted', uploadId, n, randomBytes(100_000));
    expect(blobFiles()).toBe(before + 3);
    await erne.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'aborted', UploadId: uploadId }));
    expect((await sdkError(erne.s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'aborted', UploadId: uploadId })))).name).toBe('NoSuchUpload');
    await erne.gw.janitor.runOnce();
    expect(blobFiles()).toBe(before);
  });

  it('a re-uploaded part replaces the old one, whose bytes go', async () => {
    await erne.gw.janitor.runOnce();
    const before = blobFiles();
    const uploadId = await create('replaced');
    await part('replaced', uploadId, 1, randomBytes(5 * MiB));
    const second = randomBytes(5 * MiB);
    const p = await part('replaced', uploadId, 1, second);
    expect((await listParts('replaced', uploadId)).map((x) => x.ETag)).toEqual([p.ETag]);
    await erne.gw.janitor.runOnce();
    expect(blobFiles()).toBe(before + 1);
    await complete('replaced', uploadId, [p]);
    const got = await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'replaced' }))).Body);
    expect(got.equals(second)).toBe(true);
  });

  it('parts a completion does not name are freed; deleting or overwriting the object frees the rest', async () => {
    await erne.gw.janitor.runOnce();
    const before = blobFiles();
    const bodies = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5000)];
    const uploadId = await create('trimmed');
    const parts = [];
    for (const [i, b] of bodies.entries()) parts.push(await part('trimmed', uploadId, i + 1, b));
    await complete('trimmed', uploadId, [parts[0]!, parts[2]!]);
    await erne.gw.janitor.runOnce();
    expect(blobFiles()).toBe(before + 2);
    const got = await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'trimmed' }))).Body);
    expect(got.equals(Buffer.concat([bodies[0]!, bodies[2]!]))).toBe(true);

    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'trimmed', Body: 'small now' }));
    await erne.gw.janitor.runOnce();
    expect(blobFiles()).toBe(before);

    const u2 = await create('deleted');
    const q = await part('deleted', u2, 1, randomBytes(200_000));
    await complete('deleted', u2, [q]);
    expect(blobFiles()).toBe(before + 1);
    await erne.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'deleted' }));
    await erne.gw.janitor.runOnce();
    expect(blobFiles()).toBe(before);
  });
});
