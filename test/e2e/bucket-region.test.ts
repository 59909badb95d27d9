/**
 * Where buckets live, through @aws-sdk/client-s3: CreateBucket's LocationConstraint against
 * the regions of the cluster (InvalidLocationConstraint otherwise), the region reported by
 * GetBucketLocation, HeadBucket and ListBuckets, and S3's us-east-1 rule for re-creating a
 * bucket you own (200 there, 409 BucketAlreadyOwnedByYou elsewhere).
 */
import {
  CreateBucketCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3Client, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const HOME = 'eu-erne-1';

describe(`a gateway serving region ${HOME}`, () => {
  const erne = useGateway({ region: HOME });
  const create = (Bucket: string, LocationConstraint?: string) =>
    erne.s3.send(new CreateBucketCommand({ Bucket, ...(LocationConstraint !== undefined ? { CreateBucketConfiguration: { LocationConstraint: LocationConstraint as BucketLocationConstraint } } : {}) }));
  const location = async (Bucket: string) => (await erne.s3.send(new GetBucketLocationCommand({ Bucket }))).LocationConstraint ?? '';

  it('puts a bucket in the region its LocationConstraint names, and says so everywhere', async () => {
    const b = uniqueBucket('here');
    await create(b, HOME);
    expect(await location(b)).toBe(HOME);
    const head = await erne.s3.send(new HeadBucketCommand({ Bucket: b }));
    expect(head.BucketRegion).toBe(HOME);
    const listed = (await erne.s3.send(new ListBucketsCommand({}))).Buckets?.find((x) => x.Name === b);
    expect(listed?.BucketRegion).toBe(HOME);
  });

  it('no constraint, or us-east-1 (S3 reads it as none): the gateway region', async () => {
    const none = uniqueBucket('none');
    const east = uniqueBucket('east');
    await create(none);
    await create(east, 'us-east-1');
    expect([await location(none), await location(east)]).toEqual([HOME, HOME]);
  });

  it('a region the cluster has not → 400 InvalidLocationConstraint, nothing created', async () => {
    const b = uniqueBucket('mars');
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${b}`, body: '<CreateBucketConfiguration><LocationConstraint>mars-west-9</LocationConstraint></CreateBucketConfiguration>' });
    expect(r.status).toBe(400);
    expect(parseError(r.text)).toMatchObject({ Code: 'InvalidLocationConstraint', LocationConstraint: 'mars-west-9' });
    expect((await sdkError(erne.s3.send(new HeadBucketCommand({ Bucket: b })))).status).toBe(404);
  });

  it('re-creating your own bucket: 200 signed for us-east-1 without a constraint, else 409', async () => {
    const b = uniqueBucket('again');
    await create(b, HOME);
    // S3's us-east-1 rule: a plain re-create succeeds and changes nothing
    expect((await create(b)).$metadata.httpStatusCode).toBe(200);
    expect(await location(b)).toBe(HOME);
    const constrained = await sdkError(create(b, HOME));
    expect([constrained.name, constrained.status]).toEqual(['BucketAlreadyOwnedByYou', 409]);
    const elsewhere = s3Client(erne.gw, undefined, { config: { region: HOME } });
    try {
      const signedHome = await sdkError(elsewhere.send(new CreateBucketCommand({ Bucket: b })));
      expect([signedHome.name, signedHome.status]).toEqual(['BucketAlreadyOwnedByYou', 409]);
    } finally {
      elsewhere.destroy();
    }
  });
});

describe('a gateway serving us-east-1', () => {
  const erne = useGateway({ region: 'us-east-1' });

  it('reports its buckets with an empty LocationConstraint, as S3 does', async () => {
    const b = uniqueBucket('use1');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    const raw = await rawRequest(erne.gw, { method: 'GET', path: `/${b}`, query: 'location=' });
    expect(raw.text).toMatch(/<LocationConstraint[^>]*(\/>|><\/LocationConstraint>)/);
    expect((await erne.s3.send(new HeadBucketCommand({ Bucket: b }))).BucketRegion).toBe('us-east-1');
  });
});
