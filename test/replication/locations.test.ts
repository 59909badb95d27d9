/**
 * Bucket locations and the replication status, through three real region processes (per
 * region a redis-server and an `erne serve --cluster` gateway, regions reaching each other
 * through proxies the test can cut), driven by @aws-sdk/client-s3. Needs `npm run build`.
 * - X-Tigris-Regions / x-erne-regions on CreateBucket set the bucket's locations, reported by
 *   GetBucketLocation and HeadBucket in x-erne-locations; an unknown region is a 400 and
 *   creates nothing; `erne buckets set-locations` changes them.
 * - location `fra` alone: after PUTs in every region and GETs in every region, no byte of the
 *   objects is on iad's or sin's volume (their whole data directories are scanned).
 * - a listed region that cannot be reached: the PUT is a 503 and nothing is visible anywhere.
 * - x-amz-replication-status: PENDING while a region has not applied the version, then
 *   COMPLETED, REPLICA where it was received.
 * - locations `iad,fra`: a PUT in sin, sin SIGKILLed right after the answer, the object is
 *   read at once in iad and fra.
 */
import { randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { erneCli } from '../helpers/child.js';
import { bodyBytes, sdkError, uniqueBucket } from '../helpers/gateway.js';
import { startProcCluster, type ProcCluster, type ProcRegion } from '../helpers/region-procs.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';
import { filesHolding, needlesOf, sendForHeaders, withHeaders } from './location-support.js';

const NAMES = ['iad', 'fra', 'sin'];

describeNeeds(redisServer)('bucket locations across three region processes', () => {
  let cluster: ProcCluster;
  const r = (name: string) => cluster.region(name);

  beforeAll(async () => {
    cluster = await startProcCluster(NAMES);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  async function createWith(region: ProcRegion, bucket: string, regions: string): Promise<void> {
    await region.s3.send(withHeaders(new CreateBucketCommand({ Bucket: bucket }), { 'X-Tigris-Regions': regions }));
    // usable everywhere once the bucket and its locations have arrived
    for (const other of cluster.regions) await waitFor(`${bucket} with locations ${regions} in ${other.name}`, async () => (await locationsIn(other, bucket)) === regions);
  }

  async function locationsIn(region: ProcRegion, bucket: string): Promise<string | undefined> {
    const { headers } = await sendForHeaders(region.s3, new HeadBucketCommand({ Bucket: bucket }));
    return headers['x-erne-locations'];
  }

  async function get(region: ProcRegion, bucket: string, key: string): Promise<Buffer> {
    return bodyBytes((await region.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
  }

  it('sets locations with X-Tigris-Regions or x-erne-regions, reports them, refuses an unknown region and changes them with erne buckets set-locations', async () => {
    const b = uniqueBucket('loc');
    await createWith(r('fra'), b, 'fra,iad');
    const { headers, output } = await sendForHeaders<{ LocationConstraint?: string }>(r('sin').s3, new GetBucketLocationCommand({ Bucket: b }));
    expect(headers['x-erne-locations']).toBe('fra,iad');
    expect(output.LocationConstraint).toBe('fra');

    // a PUT right after the CreateBucket: the regions it is placed in may not have the bucket yet
    const fresh = uniqueBucket('loc');
    await r('sin').s3.send(withHeaders(new CreateBucketCommand({ Bucket: fresh }), { 'X-Tigris-Regions': 'fra,iad' }));
    await r('sin').s3.send(new PutObjectCommand({ Bucket: fresh, Key: 'first', Body: 'at once' }));
    expect((await get(r('iad'), fresh, 'first')).toString()).toBe('at once');
    expect((await get(r('fra'), fresh, 'first')).toString()).toBe('at once');

    const twin = uniqueBucket('loc');
    await r('iad').s3.send(withHeaders(new CreateBucketCommand({ Bucket: twin }), { 'x-erne-regions': 'home:sin' }));
    expect(await locationsIn(r('iad'), twin)).toBe('home:sin');

    const bad = uniqueBucket('loc');
    const err = await sdkError(r('iad').s3.send(withHeaders(new CreateBucketCommand({ Bucket: bad }), { 'X-Tigris-Regions': 'iad,mars' })));
    expect(err).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect(err.message).toContain('mars');
    expect((await sdkError(r('iad').s3.send(new HeadBucketCommand({ Bucket: bad })))).status).toBe(404);

    const badPut = await sdkError(r('iad').s3.send(withHeaders(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'x' }), { 'X-Tigris-Regions': 'nowhere' })));
    expect(badPut).toMatchObject({ name: 'InvalidArgument', status: 400 });
    expect((await sdkError(r('iad').s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })))).status).toBe(404);

    // the CLI works on a region's data directory, also while its gateway runs; the change replicates
    const said = await erneCli(['buckets', 'set-locations', b, '--locations', 'sin', '--data-dir', r('iad').dataDir, '--region', 'iad']);
    expect(said).toBe(`bucket ${b}: locations sin (applies to new writes)\n`);
    for (const region of cluster.regions) await waitFor(`locations sin in ${region.name}`, async () => (await locationsIn(region, b)) === 'sin');
    await expect(erneCli(['buckets', 'set-locations', b, '--locations', 'iad,mars', '--data-dir', r('iad').dataDir])).rejects.toThrow(
      /erne: --locations iad,mars: region "mars" is not one of this cluster's regions \(iad, fra, sin\)\n$/,
    );
    await erneCli(['buckets', 'set-locations', b, '--locations', 'global', '--data-dir', r('iad').dataDir]);
    await waitFor('global in fra', async () => (await locationsIn(r('fra'), b)) === 'global');
  }, 60_000);

  it('keeps the bytes of a bucket located in fra on fra alone: PUTs and GETs in every region leave none on iad or sin', async () => {
    const b = uniqueBucket('eu');
    await createWith(r('iad'), b, 'fra');
    const objects = new Map<string, Buffer>();
    for (const region of cluster.regions) {
      for (const size of [300 * 1024, 1500]) {
        const key = `${region.name}-${size}`;
        const bytes = randomBytes(size);
        objects.set(key, bytes);
        await region.s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: bytes }));
      }
    }
    // a copy made where the bytes are not kept, and one where they are
    await r('sin').s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copied-in-sin', CopySource: `${b}/iad-${300 * 1024}` }));
    objects.set('copied-in-sin', objects.get(`iad-${300 * 1024}`)!);
    await waitFor(`sin-1500 in fra`, () => r('fra').s3.send(new HeadObjectCommand({ Bucket: b, Key: 'sin-1500' })).catch(() => undefined));
    await r('fra').s3.send(new CopyObjectCommand({ Bucket: b, Key: 'copied-in-fra', CopySource: `${b}/sin-1500` }));
    objects.set('copied-in-fra', objects.get('sin-1500')!);
    // a multipart upload in iad: its parts rest there only until the completion has placed them
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(3000)];
    const { UploadId } = await r('iad').s3.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'multi' }));
    const etags: string[] = [];
    for (const [i, part] of parts.entries()) etags.push((await r('iad').s3.send(new UploadPartCommand({ Bucket: b, Key: 'multi', UploadId, PartNumber: i + 1, Body: part }))).ETag!);
    await r('iad').s3.send(
      new CompleteMultipartUploadCommand({ Bucket: b, Key: 'multi', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }),
    );
    objects.set('multi', Buffer.concat(parts));

    // one write placed by its header, in a bucket that is global
    const g = uniqueBucket('glob');
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: g }));
    const headed = randomBytes(200 * 1024);
    await waitFor(`${g} in sin`, () => r('sin').s3.send(new HeadBucketCommand({ Bucket: g })));
    await r('sin').s3.send(withHeaders(new PutObjectCommand({ Bucket: g, Key: 'headed', Body: headed }), { 'X-Tigris-Regions': 'fra' }));

    for (const region of cluster.regions) {
      for (const [key, bytes] of objects) {
        const got = await waitFor(`${key} in ${region.name}`, () => get(region, b, key).catch(() => undefined));
        expect(got!.equals(bytes), `${key} read in ${region.name}`).toBe(true);
        // twice: a second read is where a cached copy would be served from
        expect((await get(region, b, key)).equals(bytes)).toBe(true);
      }
      const got = await waitFor(`headed in ${region.name}`, () => get(region, g, 'headed').catch(() => undefined));
      expect(got!.equals(headed)).toBe(true);
    }
    for (const region of cluster.regions) await waitFor(`${region.name}'s outbox empty`, async () => (await region.outboxDepth()) === 0);

    const needles = [...objects.values(), headed].flatMap(needlesOf);
    // the scan finds bytes where they are: fra holds every object
    for (const bytes of [...objects.values(), headed]) expect(await filesHolding(r('fra').dataDir, needlesOf(bytes))).not.toEqual([]);
    expect(await filesHolding(r('iad').dataDir, needles)).toEqual([]);
    expect(await filesHolding(r('sin').dataDir, needles)).toEqual([]);
  }, 120_000);

  it('reads from another listed region when one is away, and answers a PUT 503 leaving nothing visible', async () => {
    const b = uniqueBucket('cut');
    await createWith(r('iad'), b, 'fra,iad');
    const placed = randomBytes(64 * 1024);
    await r('sin').s3.send(new PutObjectCommand({ Bucket: b, Key: 'placed', Body: placed }));
    cluster.cut('fra');
    try {
      // sin keeps none of it: with fra (which committed it) away, it streams it from iad
      expect((await get(r('sin'), b, 'placed')).equals(placed)).toBe(true);
      const err = await sdkError(r('sin').s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: randomBytes(100_000) })));
      expect(err).toMatchObject({ name: 'ServiceUnavailable', status: 503 });
      expect(err.message).toMatch(/fra/);
    } finally {
      cluster.heal('fra');
    }
    for (const region of cluster.regions) {
      expect((await sdkError(region.s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })))).status, region.name).toBe(404);
    }
    // the regions still take writes to the bucket once fra answers
    await r('sin').s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'after' }));
    expect((await get(r('fra'), b, 'k')).toString()).toBe('after');
  }, 60_000);

  it('reports x-amz-replication-status: PENDING until every region applied the version, then COMPLETED; REPLICA where it was received', async () => {
    const b = uniqueBucket('st');
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: b }));
    await waitFor(`${b} everywhere`, async () => {
      for (const region of cluster.regions) await region.s3.send(new HeadBucketCommand({ Bucket: b }));
      return true;
    });
    cluster.cut('sin');
    let head: HeadObjectCommandOutput;
    try {
      await r('iad').s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'status' }));
      head = await r('iad').s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }));
      expect(head.ReplicationStatus).toBe('PENDING');
      const replica = await waitFor('k in fra', () => r('fra').s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' })).catch(() => undefined));
      expect(replica!.ReplicationStatus).toBe('REPLICA');
      // fra has it, sin has not: still pending where it was written
      expect((await r('iad').s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ReplicationStatus).toBe('PENDING');
    } finally {
      cluster.heal('sin');
    }
    await waitFor('COMPLETED in iad', async () => (await r('iad').s3.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ReplicationStatus === 'COMPLETED', 40_000);
    const got = await r('sin').s3.send(new GetObjectCommand({ Bucket: b, Key: 'k' }));
    expect(got.ReplicationStatus).toBe('REPLICA');
    await bodyBytes(got.Body);
  }, 90_000);

  it('acknowledges a PUT to a bucket located in iad,fra only once both hold it: sin killed right after, both serve it', async () => {
    const b = uniqueBucket('two');
    await createWith(r('fra'), b, 'fra,iad');
    const big = randomBytes(2 * 1024 * 1024 + 123);
    const small = randomBytes(700);
    await r('sin').s3.send(new PutObjectCommand({ Bucket: b, Key: 'small', Body: small }));
    await r('sin').s3.send(new PutObjectCommand({ Bucket: b, Key: 'big', Body: big }));
    await r('sin').s3.send(new PutObjectCommand({ Bucket: b, Key: 'empty', Body: Buffer.alloc(0) }));
    // nothing is waited for: what the answer promised holds at once
    await r('sin').killGateway();
    for (const name of ['iad', 'fra']) {
      expect((await get(r(name), b, 'big')).equals(big), `big in ${name}`).toBe(true);
      expect((await get(r(name), b, 'small')).equals(small), `small in ${name}`).toBe(true);
      expect((await get(r(name), b, 'empty')).length, `empty in ${name}`).toBe(0);
    }
    // sin, not listed, kept none of the bytes
    expect(await filesHolding(r('sin').dataDir, [...needlesOf(big), ...needlesOf(small)])).toEqual([]);
  }, 60_000);
});
