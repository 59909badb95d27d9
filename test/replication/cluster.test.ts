/**
 * Three regions for real (iad, the control region; fra; sin), each with its own gateway,
 * metadata and redis-server, driven by @aws-sdk/client-s3: a bucket made in one region is
 * usable in all, objects and versions written anywhere are read everywhere with the same
 * bytes, ETags, metadata and checksums, a key made with `erne keys` in one region works in
 * all, two regions racing CreateBucket give one winner, and DeleteBucket never loses what
 * another region acknowledged (refused while one holds an object it has not yet replicated,
 * 503 while one cannot be reached).
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { bodyBytes, sdkError, uniqueBucket } from '../helpers/gateway.js';
import { useRegions, type TestRegion } from '../helpers/regions.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const ERNE = new URL('../../dist/cli/erne.js', import.meta.url).pathname;

describeNeeds(redisServer)('three regions', () => {
  const cluster = useRegions(['iad', 'fra', 'sin']);
  const r = (name: string) => cluster.region(name);

  const exists = async (region: TestRegion, bucket: string) =>
    region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
      () => true,
      (err: Error) => (err.name === 'NotFound' || err.name === 'NoSuchBucket' ? false : Promise.reject(err)),
    );

  async function read(region: TestRegion, bucket: string, key: string) {
    try {
      const got = await region.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
      return { bytes: await bodyBytes(got.Body), etag: got.ETag, meta: got.Metadata, sha256: got.ChecksumSHA256 };
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  it('a bucket made in fra is usable everywhere; objects written there are read in iad and sin, byte for byte', async () => {
    const bucket = uniqueBucket('everywhere');
    await r('fra').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // decided by iad (the control region) and applied in fra before the answer
    for (const name of ['iad', 'fra']) expect(await exists(r(name), bucket)).toBe(true);
    await waitFor('the bucket in sin', () => exists(r('sin'), bucket));
    const small = Buffer.from('written in fra, read everywhere');
    const large = Buffer.alloc(300 * 1024, 7);
    for (const [Key, Body] of [['small.txt', small], ['large.bin', large]] as const) {
      await r('fra').s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, Metadata: { city: 'frankfurt' }, ChecksumAlgorithm: 'SHA256' }));
    }
    for (const name of ['iad', 'sin']) {
      for (const [Key, Body] of [['small.txt', small], ['large.bin', large]] as const) {
        const got = (await waitFor(`${Key} in ${name}`, () => read(r(name), bucket, Key)))!;
        expect(got.bytes.equals(Body)).toBe(true);
        expect(got.etag).toBe(`"${createHash('md5').update(Body).digest('hex')}"`);
        expect(got.meta).toEqual({ city: 'frankfurt' });
        expect(got.sha256).toBe(createHash('sha256').update(Body).digest('base64'));
      }
    }
  });

  it('a versioned bucket written in every region has the same version list everywhere', async () => {
    const bucket = uniqueBucket('versions');
    await r('sin').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await r('sin').s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const name of ['iad', 'fra', 'sin']) {
      await waitFor(`versioning on in ${name}`, async () => {
        try {
          await r(name).s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: `from ${name}` }));
          return true;
        } catch (err) {
          if ((err as Error).name === 'NoSuchBucket') return false;
          throw err;
        }
      });
    }
    const list = async (region: TestRegion) =>
      ((await region.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))).Versions ?? []).map((v) => [v.VersionId, v.ETag, v.IsLatest]);
    const want = await waitFor('three versions in iad', async () => {
      const l = await list(r('iad'));
      return l.length === 3 ? l : undefined;
    });
    for (const name of ['fra', 'sin']) await waitFor(`the same list in ${name}`, async () => JSON.stringify(await list(r(name))) === JSON.stringify(want));
    const newest = (await waitFor("newest readable", () => read(r("fra"), bucket, "k")))!;
    for (const name of ['iad', 'sin']) expect((await read(r(name), bucket, 'k'))?.bytes.toString()).toBe(newest.bytes.toString());
  });

  it('a key made with erne keys in sin works in every region', async () => {
    const key = { accessKeyId: 'EKCLUSTERKEY0000001', secretAccessKey: 'cluster-key-secret-000000001' };
    await run(process.execPath, [ERNE, 'keys', 'create', '--data-dir', r('sin').dataDir, '--metadata-dir', r('sin').metaDir, '--access-key', key.accessKeyId, '--secret-key', key.secretAccessKey]);
    for (const region of cluster.regions) {
      const s3 = new S3Client({ endpoint: region.url, region: 'us-east-1', forcePathStyle: true, credentials: key, maxAttempts: 1 });
      try {
        await waitFor(`the key in ${region.name}`, () => s3.send(new CreateBucketCommand({ Bucket: uniqueBucket(`key-${region.name}`) })).then(() => true, (e: Error) => (e.name === 'InvalidAccessKeyId' ? false : Promise.reject(e))));
      } finally {
        s3.destroy();
      }
    }
  });

  it('two regions racing CreateBucket on one name: one winner, one BucketAlreadyExists', async () => {
    const other = { accessKeyId: 'EKRACEKEY0000000001', secretAccessKey: 'race-key-secret-0000000001' };
    await run(process.execPath, [ERNE, 'keys', 'create', '--data-dir', r('iad').dataDir, '--metadata-dir', r('iad').metaDir, '--access-key', other.accessKeyId, '--secret-key', other.secretAccessKey]);
    const s3Other = new S3Client({ endpoint: r('sin').url, region: 'us-east-1', forcePathStyle: true, credentials: other, maxAttempts: 1 });
    try {
      await waitFor('the key in sin', () => s3Other.send(new CreateBucketCommand({ Bucket: uniqueBucket('warm') })).then(() => true, (e: Error) => (e.name === 'InvalidAccessKeyId' ? false : Promise.reject(e))));
      for (let round = 0; round < 5; round++) {
        const bucket = uniqueBucket('race');
        const results = await Promise.allSettled([r('fra').s3.send(new CreateBucketCommand({ Bucket: bucket })), s3Other.send(new CreateBucketCommand({ Bucket: bucket }))]);
        const won = results.filter((x) => x.status === 'fulfilled');
        const lost = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost.map((x) => (x.reason as Error).name)).toEqual(['BucketAlreadyExists']);
      }
    } finally {
      s3Other.destroy();
    }
  });

  it('DeleteBucket is refused while a region holds an object it has not replicated yet; nothing is lost', async () => {
    const bucket = uniqueBucket('holds');
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await waitFor('the bucket in sin', () => exists(r('sin'), bucket));
    // sin's Redis is gone: its write is acknowledged and waits in its outbox
    await r('sin').redis.kill();
    await r('sin').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'only-in-sin', Body: 'not replicated yet' }));
    const refused = await sdkError(r('fra').s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    expect([refused.status, refused.name]).toEqual([409, 'BucketNotEmpty']);
    for (const region of cluster.regions) expect(await exists(region, bucket)).toBe(true);
    await r('sin').redis.restart();
    for (const name of ['iad', 'fra']) {
      const got = (await waitFor(`the object in ${name}`, () => read(r(name), bucket, "only-in-sin"), 30_000))!;
      expect(got.bytes.toString()).toBe('not replicated yet');
    }
  });

  it('DeleteBucket with a region unreachable is 503 and changes nothing; once it is back, the delete reaches every region', async () => {
    const bucket = uniqueBucket('reach');
    await r('fra').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await waitFor('the bucket in sin', () => exists(r('sin'), bucket));
    await r('sin').stop();
    try {
      const refused = await sdkError(r('fra').s3.send(new DeleteBucketCommand({ Bucket: bucket })));
      expect([refused.status, refused.name]).toEqual([503, 'ServiceUnavailable']);
      expect(refused.message).toMatch(/sin cannot be reached/);
      for (const name of ['iad', 'fra']) expect(await exists(r(name), bucket)).toBe(true);
      // the bucket still takes writes where it was closed and then reopened
      await r('iad').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: 'x' }));
      await r('fra').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-fra', Body: 'y' }));
    } finally {
      await r('sin').start();
    }
    expect((await sdkError(r('sin').s3.send(new DeleteBucketCommand({ Bucket: bucket })))).name).toBe('BucketNotEmpty');
    const { DeleteObjectsCommand } = await import('@aws-sdk/client-s3');
    await r('iad').s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'after' }, { Key: 'after-fra' }] } }));
    await waitFor('the deletes everywhere, then DeleteBucket', async () => {
      try {
        await r('sin').s3.send(new DeleteBucketCommand({ Bucket: bucket }));
        return true;
      } catch (err) {
        if ((err as Error).name === 'BucketNotEmpty') return false;
        throw err;
      }
    }, 30_000);
    for (const region of cluster.regions) await waitFor(`the bucket gone in ${region.name}`, async () => !(await exists(region, bucket)));
  });
});

