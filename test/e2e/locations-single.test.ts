/**
 * Bucket locations in a single region (no cluster): the header is accepted when it names this
 * region, refused with a clear 400 when it names another, and reported by GetBucketLocation and
 * HeadBucket; no x-amz-replication-status is sent outside a cluster.
 */
import { CreateBucketCommand, GetBucketLocationCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { sendForHeaders, withHeaders } from '../replication/location-support.js';

describe('bucket locations in one region', () => {
  const f = useGateway({ region: 'lon' });

  it('sets and reports the locations a CreateBucket names, and writes with the header as usual', async () => {
    const b = uniqueBucket('loc');
    await f.s3.send(withHeaders(new CreateBucketCommand({ Bucket: b }), { 'X-Tigris-Regions': 'lon' }));
    const head = await sendForHeaders(f.s3, new HeadBucketCommand({ Bucket: b }));
    expect(head.headers['x-erne-locations']).toBe('lon');
    const loc = await sendForHeaders(f.s3, new GetBucketLocationCommand({ Bucket: b }));
    expect(loc.headers['x-erne-locations']).toBe('lon');

    await f.s3.send(withHeaders(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'here' }), { 'x-erne-regions': 'lon' }));
    const got = await f.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('here');
    // one region: nothing to replicate, no status
    expect(got.ReplicationStatus).toBeUndefined();
    expect((await f.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ReplicationStatus).toBeUndefined();

    const plain = uniqueBucket('loc');
    await f.s3.send(new CreateBucketCommand({ Bucket: plain }));
    expect((await sendForHeaders(f.s3, new HeadBucketCommand({ Bucket: plain }))).headers['x-erne-locations']).toBe('global');
  });

  it('refuses a region this Erne does not have with 400 InvalidArgument, creating nothing', async () => {
    const b = uniqueBucket('loc');
    const err = await sdkError(f.s3.send(withHeaders(new CreateBucketCommand({ Bucket: b }), { 'X-Tigris-Regions': 'fra' })));
    expect(err).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(err.message).toBe(`X-Tigris-Regions: region "fra" is not one of this cluster's regions (lon).`);
    expect((await sdkError(f.s3.send(new HeadBucketCommand({ Bucket: b })))).status).toBe(404);
    const bad = await sdkError(f.s3.send(withHeaders(new CreateBucketCommand({ Bucket: b }), { 'x-erne-regions': 'Not A Region!' })));
    expect(bad).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(bad.message).toContain('x-erne-regions');
  });
});
