/**
 * Bucket tagging through @aws-sdk/client-s3: put, get, replace, delete, NoSuchTagSet, S3's
 * limits (InvalidTag), and no tags left behind by a deleted bucket.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketTaggingCommand,
  GetBucketTaggingCommand,
  PutBucketTaggingCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const bucket = uniqueBucket('tags');
const erne = useGateway({ bucket });

const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));

describe('bucket tagging', () => {
  it('answers NoSuchTagSet before any tags are set', async () => {
    const e = await sdkError(erne.s3.send(new GetBucketTaggingCommand({ Bucket: bucket })));
    expect(e.name).toBe('NoSuchTagSet');
    expect(e.status).toBe(404);
  });

  it('stores, replaces and deletes the tag set', async () => {
    await erne.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }, { Key: 'empty', Value: '' }] } }));
    let got = await erne.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    expect(got.TagSet).toEqual([{ Key: 'team', Value: 'storage' }, { Key: 'empty', Value: '' }]);
    await erne.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tags(50) } }));
    got = await erne.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }));
    expect(got.TagSet).toHaveLength(50);
    expect(got.TagSet?.[49]).toEqual({ Key: 'k49', Value: 'v49' });
    const del = await erne.s3.send(new DeleteBucketTaggingCommand({ Bucket: bucket }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    expect((await sdkError(erne.s3.send(new GetBucketTaggingCommand({ Bucket: bucket })))).name).toBe('NoSuchTagSet');
  });

  it.each([
    ['51 tags', tags(51)],
    ['duplicate keys', [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }]],
    ['a key over 128 characters', [{ Key: 'k'.repeat(129), Value: '' }]],
    ['a value over 256 characters', [{ Key: 'k', Value: 'v'.repeat(257) }]],
    ['an aws: key', [{ Key: 'aws:created', Value: 'x' }]],
  ])('refuses %s with InvalidTag', async (_name, set) => {
    const e = await sdkError(erne.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: set } })));
    expect(e.name).toBe('InvalidTag');
    expect(e.status).toBe(400);
  });

  it('refuses a malformed document', async () => {
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}`, query: 'tagging=', body: '<Tagging><Nope/></Tagging>' });
    expect(r.status).toBe(400);
    expect(parseError(r.text).Code).toBe('MalformedXML');
  });

  it('refuses anonymous requests', async () => {
    const r = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}`, query: 'tagging=', creds: null });
    expect(r.status).toBe(403);
    expect(parseError(r.text).Code).toBe('AccessDenied');
  });

  it('does not hand a deleted bucket\'s tags to a new bucket of the same name', async () => {
    const b = uniqueBucket('retag');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    await erne.s3.send(new PutBucketTaggingCommand({ Bucket: b, Tagging: { TagSet: [{ Key: 'old', Value: '1' }] } }));
    await erne.s3.send(new DeleteBucketCommand({ Bucket: b }));
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    expect((await sdkError(erne.s3.send(new GetBucketTaggingCommand({ Bucket: b })))).name).toBe('NoSuchTagSet');
  });

  it('answers NoSuchBucket for a missing bucket', async () => {
    const e = await sdkError(erne.s3.send(new PutBucketTaggingCommand({ Bucket: uniqueBucket('none'), Tagging: { TagSet: tags(1) } })));
    expect(e.name).toBe('NoSuchBucket');
  });
});
