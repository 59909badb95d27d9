/**
 * GetObjectAttributes through @aws-sdk/client-s3 (GetObjectAttributesCommand) and raw
 * requests: a plain object, a checksummed one, a lib-storage multipart object with its parts
 * (paged with MaxParts / PartNumberMarker), versions and delete markers, and S3's
 * InvalidArgument for a missing or unknown attribute name.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type ObjectAttributes,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { describe, expect, it } from 'vitest';
import { sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, parseXml, rawRequest } from '../helpers/raw.js';

const bucket = uniqueBucket('attrs');
const erne = useGateway({ bucket });
const MiB = 1024 * 1024;
const ALL: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();
const attributes = (Key: string, extra: { VersionId?: string; MaxParts?: number; PartNumberMarker?: string; Bucket?: string } = {}) =>
  erne.s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key, ObjectAttributes: ALL, ...extra }));

describe('GetObjectAttributes', () => {
  it('a plain object: ETag without quotes, size, STANDARD, Last-Modified; no checksum, no parts', async () => {
    // a raw PUT carries no checksum header (the SDK would add its default CRC32)
    const put = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/plain.txt`, body: 'hello attributes' });
    expect(put.status).toBe(200);
    const r = await attributes('plain.txt');
    expect(r.ETag).toBe(md5('hello attributes'));
    expect([r.ObjectSize, r.StorageClass, r.Checksum, r.ObjectParts]).toEqual([16, 'STANDARD', undefined, undefined]);
    expect(r.LastModified).toBeInstanceOf(Date);
    // only what was asked for
    const some = await erne.s3.send(new GetObjectAttributesCommand({ Bucket: bucket, Key: 'plain.txt', ObjectAttributes: ['ObjectSize'] }));
    expect([some.ObjectSize, some.ETag, some.StorageClass]).toEqual([16, undefined, undefined]);
  });

  it('a checksummed object: its stored checksum, FULL_OBJECT', async () => {
    const body = randomBytes(3000);
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'summed.bin', Body: body, ChecksumAlgorithm: 'SHA256' }));
    const r = await attributes('summed.bin');
    expect(r.Checksum).toEqual({ ChecksumSHA256: sha256(body).toString('base64'), ChecksumType: 'FULL_OBJECT' });
    expect([r.ETag, r.ObjectSize, r.ObjectParts]).toEqual([md5(body), 3000, undefined]);
  });

  it('a lib-storage multipart object: parts with sizes and checksums, paged', async () => {
    const big = randomBytes(11 * MiB);
    const parts = [big.subarray(0, 5 * MiB), big.subarray(5 * MiB, 10 * MiB), big.subarray(10 * MiB)];
    await new Upload({ client: erne.s3, params: { Bucket: bucket, Key: 'big.bin', Body: big, ChecksumAlgorithm: 'SHA256' }, partSize: 5 * MiB }).done();
    const r = await attributes('big.bin');
    const etag = createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex') + '-3';
    expect([r.ETag, r.ObjectSize, r.StorageClass]).toEqual([etag, big.length, 'STANDARD']);
    // the checksum of the parts' checksums, without the "-3" HeadObject shows
    const composite = sha256(Buffer.concat(parts.map(sha256))).toString('base64');
    expect(r.Checksum).toEqual({ ChecksumSHA256: composite, ChecksumType: 'COMPOSITE' });
    expect(r.ObjectParts).toMatchObject({ TotalPartsCount: 3, IsTruncated: false, MaxParts: 1000 });
    expect(r.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256])).toEqual(
      parts.map((p, i) => [i + 1, p.length, sha256(p).toString('base64')]),
    );
    const page = await attributes('big.bin', { MaxParts: 1, PartNumberMarker: '1' });
    expect(page.ObjectParts?.Parts?.map((p) => p.PartNumber)).toEqual([2]);
    expect(page.ObjectParts).toMatchObject({ TotalPartsCount: 3, IsTruncated: true, NextPartNumberMarker: '2', PartNumberMarker: '1', MaxParts: 1 });
    const last = await attributes('big.bin', { MaxParts: 5, PartNumberMarker: '2' });
    expect(last.ObjectParts?.Parts?.map((p) => p.PartNumber)).toEqual([3]);
    expect(last.ObjectParts?.IsTruncated).toBe(false);
  });

  it('versions: by id, and a delete marker answers 404 (current) or 405 (by id) saying so', async () => {
    const b = uniqueBucket('attrsv');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one' }))).VersionId!;
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'three' }));
    const old = await attributes('k', { Bucket: b, VersionId: v1 });
    expect([old.ObjectSize, old.VersionId, old.ETag]).toEqual([3, v1, md5('one')]);
    const marker = (await erne.s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }))).VersionId!;
    const hidden = { 'x-amz-object-attributes': 'ObjectSize' };
    const gone = await rawRequest(erne.gw, { method: 'GET', path: `/${b}/k`, query: 'attributes', headers: hidden });
    expect([gone.status, parseError(gone.text).Code, gone.headers['x-amz-delete-marker'], gone.headers['x-amz-version-id']]).toEqual([404, 'NoSuchKey', 'true', marker]);
    const byId = await rawRequest(erne.gw, { method: 'GET', path: `/${b}/k`, query: `attributes&versionId=${marker}`, headers: hidden });
    expect([byId.status, byId.headers['x-amz-delete-marker']]).toEqual([405, 'true']);
    expect((await sdkError(attributes('k', { Bucket: b }))).status).toBe(404);
  });

  it('raw XML: GetObjectAttributesResponse with the ETag bare and PartsCount', async () => {
    const r = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/big.bin`, query: 'attributes', headers: { 'x-amz-object-attributes': 'ETag,ObjectParts' } });
    expect(r.status).toBe(200);
    expect(r.text).toContain('<GetObjectAttributesResponse');
    const doc = parseXml(r.text) as { ETag?: string; ObjectParts?: { PartsCount?: string } };
    expect(doc.ETag).toMatch(/^[0-9a-f]{32}-3$/);
    expect(doc.ObjectParts?.PartsCount).toBe('3');
  });

  it.each([
    ['no x-amz-object-attributes', {}],
    ['an unknown attribute', { 'x-amz-object-attributes': 'ETag,Colour' }],
    ['a bad x-amz-max-parts', { 'x-amz-object-attributes': 'ObjectParts', 'x-amz-max-parts': 'many' }],
  ])('%s → 400 InvalidArgument', async (_name, headers) => {
    const r = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/big.bin`, query: 'attributes', headers });
    expect([r.status, parseError(r.text).Code]).toEqual([400, 'InvalidArgument']);
  });
});
