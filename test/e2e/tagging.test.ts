/**
 * Object tagging through @aws-sdk/client-s3: x-amz-tagging on PUT, Put/Get/DeleteObjectTagging
 * on the current and on a given version, x-amz-tagging-count on GET/HEAD, and S3's limits.
 */
import {
  CreateBucketCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type Tag,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';

const bucket = uniqueBucket('tag');
const erne = useGateway({ bucket });

const tagsOf = async (Key: string, VersionId?: string) => (await erne.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key, VersionId }))).TagSet;

describe('object tagging', () => {
  it('x-amz-tagging on PUT, tag count on GET and HEAD, put and delete tagging', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x', Tagging: 'a=1&b=two%20words&empty=' }));
    expect(await tagsOf('k')).toEqual([{ Key: 'a', Value: '1' }, { Key: 'b', Value: 'two words' }, { Key: 'empty', Value: '' }]);
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).TagCount).toBe(3);
    expect((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).TagCount).toBe(3);
    await erne.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'k', Tagging: { TagSet: [{ Key: 'only', Value: 'one' }] } }));
    expect(await tagsOf('k')).toEqual([{ Key: 'only', Value: 'one' }]);
    await erne.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 'k' }));
    expect(await tagsOf('k')).toEqual([]);
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }))).TagCount).toBeUndefined();
    const missing = await sdkError(erne.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'absent' })));
    expect(missing.name).toBe('NoSuchKey');
  });

  it('an object keeps its bytes after its tags change (small objects stored inline, larger ones as files)', async () => {
    for (const [Key, Body] of [['small', 'tiny body'], ['large', 'L'.repeat(200_000)]] as const) {
      await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
      await erne.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key, Tagging: { TagSet: [{ Key: 't', Value: '1' }] } }));
      const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      expect(await got.Body!.transformToString()).toBe(Body);
      await erne.s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key }));
      const again = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      expect(await again.Body!.transformToString()).toBe(Body);
    }
  });

  it("S3's limits: at most 10 tags, key ≤ 128, value ≤ 256 characters, no duplicate keys", async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lim', Body: 'x' }));
    const ten: Tag[] = Array.from({ length: 10 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    await erne.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'lim', Tagging: { TagSet: ten } }));
    await erne.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'lim', Tagging: { TagSet: [{ Key: 'é'.repeat(128), Value: 'ü'.repeat(256) }] } }));
    const bad: Tag[][] = [
      [...ten, { Key: 'k10', Value: 'v' }],
      [{ Key: 'x'.repeat(129), Value: '' }],
      [{ Key: 'k', Value: 'v'.repeat(257) }],
      [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }],
    ];
    for (const TagSet of bad) {
      const err = await sdkError(erne.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'lim', Tagging: { TagSet } })));
      expect([err.name, err.status]).toEqual(['InvalidTag', 400]);
    }
    const hdr = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'lim2', Body: 'x', Tagging: 'a=1&a=2' })));
    expect(hdr.name).toBe('InvalidTag');
  });

  it('tags belong to a version', async () => {
    const vb = uniqueBucket('tagv');
    await erne.s3.send(new CreateBucketCommand({ Bucket: vb }));
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: vb, VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await erne.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: '1', Tagging: 'gen=1' }))).VersionId!;
    await erne.s3.send(new PutObjectCommand({ Bucket: vb, Key: 'k', Body: '2' }));
    const r = await erne.s3.send(new PutObjectTaggingCommand({ Bucket: vb, Key: 'k', VersionId: v1, Tagging: { TagSet: [{ Key: 'gen', Value: 'old' }] } }));
    expect(r.VersionId).toBe(v1);
    expect((await erne.s3.send(new GetObjectTaggingCommand({ Bucket: vb, Key: 'k', VersionId: v1 }))).TagSet).toEqual([{ Key: 'gen', Value: 'old' }]);
    expect((await erne.s3.send(new GetObjectTaggingCommand({ Bucket: vb, Key: 'k' }))).TagSet).toEqual([]);
  });
});
