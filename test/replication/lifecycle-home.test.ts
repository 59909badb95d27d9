/**
 * Lifecycle expiry runs in one region per bucket, its home (the region it was created for),
 * so regions do not each invent their own delete markers: two real regions (iad, the control
 * region, and fra), a bucket made in fra, a rule that expires now, passes run in both at
 * once, and exactly one delete marker per expired key appears everywhere, made in fra.
 */
import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketVersioningCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { parseVersionId } from '../../metadata/version-id.js';
import { uniqueBucket } from '../helpers/gateway.js';
import { redisServer } from '../helpers/redis.js';
import { useRegions, type TestRegion } from '../helpers/regions.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

describeNeeds(redisServer)('lifecycle expiry in a cluster', () => {
  const cluster = useRegions(['iad', 'fra']);
  const r = (name: string) => cluster.region(name);

  /** every version of the bucket, as one region lists it: key, version id, delete marker */
  async function versions(region: TestRegion, bucket: string): Promise<string[]> {
    const page = await region.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const rows = [...(page.Versions ?? []).map((v) => `${v.Key} ${v.VersionId} version`), ...(page.DeleteMarkers ?? []).map((m) => `${m.Key} ${m.VersionId} marker`)];
    return rows.sort();
  }

  /** both regions list the same versions, and `check` holds for them */
  const converged = (bucket: string, check: (rows: string[]) => boolean) => async (): Promise<string[] | undefined> => {
    const [a, b] = await Promise.all([versions(r('iad'), bucket), versions(r('fra'), bucket)]);
    return JSON.stringify(a) === JSON.stringify(b) && check(a) ? a : undefined;
  };

  it('only the bucket’s home region expires its objects; its delete markers reach every region', async () => {
    const bucket = uniqueBucket('lc-home');
    // created through fra: its home is fra, although iad (the control region) decided the name
    await r('fra').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await waitFor('the bucket in iad', () => r('iad').s3.send(new GetBucketLocationCommand({ Bucket: bucket })).then((l) => String(l.LocationConstraint) === 'fra'));
    await r('fra').s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await waitFor('versioning in iad', () => r('iad').s3.send(new GetBucketVersioningCommand({ Bucket: bucket })).then((v) => v.Status === 'Enabled'));
    // objects written in both regions, two of them under the rule's prefix
    await r('iad').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/from-iad', Body: 'a' }));
    await r('fra').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/from-fra', Body: 'b' }));
    await r('iad').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep/me', Body: 'c' }));
    await waitFor('three objects in both regions', converged(bucket, (rows) => rows.length === 3));
    // configured in iad; a date in the past expires at once
    await r('iad').s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: { Rules: [{ ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Date: new Date('2020-01-01T00:00:00Z') } }] },
      }),
    );
    await waitFor('the rule in fra', () => r('fra').s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })).then((c) => c.Rules?.length === 1));

    const [iad, fra] = await Promise.all([r('iad').gw!.gw.lifecycle.runOnce(), r('fra').gw!.gw.lifecycle.runOnce()]);
    expect(iad.expired).toBe(0);
    expect(fra.expired).toBe(2);

    const rows = (await waitFor('the delete markers in both regions', converged(bucket, (x) => x.filter((row) => row.endsWith(' marker')).length === 2)))!;
    const markers = rows.filter((row) => row.endsWith(' marker')).map((row) => row.split(' '));
    expect(markers.map(([key]) => key).sort()).toEqual(['logs/from-fra', 'logs/from-iad']);
    for (const [, versionId] of markers) expect(parseVersionId(versionId!)?.region).toBe('fra');
    for (const region of cluster.regions) {
      const head = await region.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'keep/me' }));
      expect(head.ContentLength, region.name).toBe(1);
    }

    // further passes in both regions add nothing
    await Promise.all([r('iad').gw!.gw.lifecycle.runOnce(), r('fra').gw!.gw.lifecycle.runOnce()]);
    await r('iad').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep/sentinel', Body: 'd' }));
    // a marker either pass made is listed at once where it was made, so lists that agree again
    // (after the sentinel, written after the passes, arrived) would show it
    const after = (await waitFor('the sentinel in fra', converged(bucket, (x) => x.some((row) => row.startsWith('keep/sentinel ')))))!;
    expect(after.filter((row) => row.endsWith(' marker'))).toEqual(rows.filter((row) => row.endsWith(' marker')));
  });
});
