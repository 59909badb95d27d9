/**
 * Strong consistency on request and home-region buckets, through three real region processes
 * (iad, fra, sin; each its own gateway and redis-server, reached through cut-able proxies)
 * driven by @aws-sdk/client-s3:
 *
 * - `X-Tigris-Consistent: true` sends the request to the key's leader (the bucket's home
 *   region), so If-Match compare-and-swap increments from 3 regions × 20 clients lose no
 *   update; the same run without the header may lose some, and the test reports how many;
 * - with the leader cut off, a consistent request is a prompt 503 saying why, while requests
 *   without the header are still served where they arrive;
 * - `erne buckets update --consistent` makes the header the bucket's default;
 * - a bucket whose locations are `home:fra` reads its writes from every region at once, and
 *   with fra's gateway killed it answers 503 naming fra while other buckets keep working.
 */
import http from 'node:http';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBucketConfigStore } from '../../metadata/bucket-config.js';
import { formatLocations, LOCATIONS_KIND, storedLocations } from '../../metadata/bucket-locations.js';
import { toolWriter } from '../../metadata/cluster-record.js';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { erneCli } from '../helpers/child.js';
import { ROOT, sdkError, uniqueBucket } from '../helpers/gateway.js';
import { startProcCluster, type ProcCluster, type ProcRegion } from '../helpers/region-procs.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const NAMES = ['iad', 'fra', 'sin'];
const CLIENTS_PER_REGION = 20;
/** compare-and-swap attempts per client (a count, not a time budget) */
const ATTEMPTS = 20;

type HeaderBag = { headers: Record<string, string> };

/** a client of `region` with its own connections; `consistent`: every request sends X-Tigris-Consistent: true */
function client(region: ProcRegion, consistent: boolean, opts: { requestTimeout?: number } = {}): S3Client {
  const s3 = new S3Client({
    endpoint: region.url,
    region: region.name,
    forcePathStyle: true,
    credentials: ROOT,
    maxAttempts: 1,
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true }), ...(opts.requestTimeout ? { requestTimeout: opts.requestTimeout } : {}) },
  });
  if (consistent) {
    s3.middlewareStack.add(
      (next) => async (args) => {
        (args.request as HeaderBag).headers['x-tigris-consistent'] = 'true';
        return next(args);
      },
      { step: 'build', name: 'consistentHeader' },
    );
  }
  return s3;
}

/** the region that answered the last request of `s3` ('' when it was served where it arrived) */
function servedBy(s3: S3Client): () => string {
  let last = '';
  s3.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      last = (out.response as HeaderBag).headers['x-erne-served-by-region'] ?? '';
      return out;
    },
    { step: 'deserialize', name: 'servedBy' },
  );
  return () => last;
}

const text = async (s3: S3Client, Bucket: string, Key: string) => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToString();

describeNeeds(redisServer)('consistent requests and home-region buckets, three region processes', () => {
  let cluster: ProcCluster;
  const r = (name: string) => cluster.region(name);
  const metas = new Map<string, KvStore>();
  /** the region's metadata, opened once in this process (as `erne buckets` would) */
  const meta = async (name: string) => {
    let kv = metas.get(name);
    if (!kv) metas.set(name, (kv = await openLmdb(join(r(name).dataDir, 'meta'))));
    return kv;
  };

  beforeAll(async () => {
    cluster = await startProcCluster(NAMES);
  }, 90_000);
  afterAll(async () => {
    for (const kv of metas.values()) await kv.close();
    await cluster?.stop();
  }, 60_000);

  async function bucketEverywhere(tag: string, creator: string): Promise<string> {
    const bucket = uniqueBucket(tag);
    await r(creator).s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const region of cluster.regions) await waitFor(`${bucket} in ${region.name}`, () => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true));
    return bucket;
  }

  /** 3 regions × 20 clients, each GET then PUT If-Match value+1, ATTEMPTS times; the successful swaps */
  async function casRun(bucket: string, key: string, consistent: boolean): Promise<number> {
    const clients = cluster.regions.flatMap((region) => Array.from({ length: CLIENTS_PER_REGION }, () => client(region, consistent)));
    try {
      const counts = await Promise.all(
        clients.map(async (s3) => {
          let swaps = 0;
          for (let i = 0; i < ATTEMPTS; i++) {
            const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            const value = Number(await got.Body!.transformToString());
            try {
              await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: String(value + 1), IfMatch: got.ETag }));
              swaps++;
            } catch (err) {
              if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 412) throw err;
            }
          }
          return swaps;
        }),
      );
      return counts.reduce((a, b) => a + b, 0);
    } finally {
      for (const s3 of clients) s3.destroy();
    }
  }

  it('If-Match increments with X-Tigris-Consistent from 3 regions × 20 clients lose no update (and without it, the loss is counted)', async () => {
    // created in fra: fra leads its keys, iad and sin forward their consistent requests there
    const bucket = await bucketEverywhere('cas', 'fra');
    for (const key of ['strong', 'weak']) {
      await r('fra').s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '0' }));
      for (const region of cluster.regions) await waitFor(`${key} = 0 in ${region.name}`, async () => (await text(region.s3, bucket, key)) === '0');
    }

    const strongSwaps = await casRun(bucket, 'strong', true);
    const leaderView = client(r('iad'), true);
    const strongFinal = Number(await text(leaderView, bucket, 'strong'));
    leaderView.destroy();
    console.log(`consistent: ${strongSwaps} successful swaps of ${NAMES.length * CLIENTS_PER_REGION * ATTEMPTS} attempts, final value ${strongFinal}`);
    expect(strongSwaps).toBeGreaterThan(0);
    expect(strongFinal).toBe(strongSwaps);

    const weakSwaps = await casRun(bucket, 'weak', false);
    // once replication has settled, every region holds the same value
    const settled = await waitFor('the same weak counter in every region', async () => {
      const seen = await Promise.all(cluster.regions.map((region) => text(region.s3, bucket, 'weak')));
      return seen.every((v) => v === seen[0]) ? { weakFinal: Number(seen[0]) } : undefined;
    }, 60_000);
    const weakFinal = settled!.weakFinal;
    console.log(`without the header: ${weakSwaps} successful swaps, final value ${weakFinal}: ${weakSwaps - weakFinal} updates lost`);
  }, 240_000);

  it('with the leader cut off, a consistent request is a prompt 503 saying why; requests without the header are served locally', async () => {
    const bucket = await bucketEverywhere('cut', 'fra');
    await r('fra').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'before' }));
    await waitFor('k in iad', async () => (await text(r('iad').s3, bucket, 'k')) === 'before');
    // the SDK's own timeout stays far above the forward's answer deadline: a hang fails the test
    const strong = client(r('iad'), true, { requestTimeout: 30_000 });
    const weak = client(r('iad'), false);
    cluster.cut('fra');
    try {
      const [get, put] = await Promise.all([
        sdkError(strong.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))),
        sdkError(strong.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'during' }))),
      ]);
      for (const e of [get, put]) {
        expect(e.status).toBe(503);
        expect(e.name).toBe('ServiceUnavailable');
        expect(e.message).toContain(`leader region fra, which cannot be reached now`);
      }
      // without the header: served by iad as usual, the cut notwithstanding
      expect(await text(weak, bucket, 'k')).toBe('before');
      await weak.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'local' }));
      expect(await text(weak, bucket, 'k')).toBe('local');
    } finally {
      cluster.heal('fra');
      strong.destroy();
      weak.destroy();
    }
    // healed: the leader has iad's write by replication, and a consistent read there sees it
    const again = client(r('sin'), true);
    await waitFor('the leader has iad’s write', async () => (await text(again, bucket, 'k')) === 'local', 60_000);
    again.destroy();
  }, 120_000);

  it('a consistent request for a bucket not known yet where it arrives goes through the control region to the leader', async () => {
    // sin hears nothing from iad (control) and fra until healed: a bucket made in fra stays unknown there
    const links = [cluster.link('iad', 'sin'), cluster.link('fra', 'sin')];
    for (const l of links) l.cut();
    const s3 = client(r('sin'), true);
    const served = servedBy(s3);
    try {
      const bucket = uniqueBucket('fresh');
      await r('fra').s3.send(new CreateBucketCommand({ Bucket: bucket }));
      expect((await sdkError(r('sin').s3.send(new HeadBucketCommand({ Bucket: bucket })))).status).toBe(404);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'first', IfNoneMatch: '*' }));
      expect(served()).toBe('fra');
      expect(await text(s3, bucket, 'k')).toBe('first');
      expect((await sdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'second', IfNoneMatch: '*' })))).status).toBe(412);
      // a bucket no region has: NoSuchBucket from the control region
      expect((await sdkError(s3.send(new GetObjectCommand({ Bucket: uniqueBucket('never'), Key: 'k' })))).name).toBe('NoSuchBucket');
    } finally {
      for (const l of links) l.heal();
      s3.destroy();
    }
  }, 60_000);

  it('erne buckets update --consistent makes every object request of the bucket consistent; --no-consistent ends it', async () => {
    const bucket = await bucketEverywhere('bydefault', 'fra');
    const s3 = client(r('iad'), false);
    const served = servedBy(s3);
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one' }));
      expect(served()).toBe('');
      const update = (flag: string) => erneCli(['buckets', 'update', bucket, flag, '--data-dir', r('iad').dataDir, '--region', 'iad']);
      expect(await update('--consistent')).toContain(`bucket ${bucket}: consistent`);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'two' }));
      expect(served()).toBe('fra');
      expect(await text(s3, bucket, 'k')).toBe('two');
      expect(served()).toBe('fra');
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
      expect(served()).toBe('fra');
      expect(await update('--no-consistent')).toContain(`bucket ${bucket}: not consistent by default`);
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' }));
      expect(served()).toBe('');
    } finally {
      s3.destroy();
    }
  }, 60_000);

  it('a bucket homed in fra reads its writes from every region at once; fra killed → 503 naming fra for it, other buckets unaffected', async () => {
    const bucket = await bucketEverywhere('home', 'iad');
    const other = await bucketEverywhere('other', 'iad');
    // set as `erne buckets set-locations` would: a replicated bucket config register, written in iad
    const kv = await meta('iad');
    const configs = createBucketConfigStore(kv, await toolWriter(kv, 'iad'));
    await configs.put(bucket, LOCATIONS_KIND, formatLocations({ type: 'home', region: 'fra' }));
    for (const name of NAMES) {
      const there = createBucketConfigStore(await meta(name), { region: name });
      await waitFor(`home:fra known in ${name}`, async () => storedLocations(await there.get<unknown>(bucket, LOCATIONS_KIND)).type === 'home', 30_000);
    }

    // one key overwritten from each region in turn, and read from every region right after
    for (const writer of NAMES) {
      const body = `written in ${writer}`;
      await r(writer).s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'same', Body: body }));
      for (const reader of NAMES) expect(await text(r(reader).s3, bucket, 'same'), `${reader} after a PUT in ${writer}`).toBe(body);
    }
    const s3 = client(r('sin'), false);
    const served = servedBy(s3);
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'same' }));
    expect(served()).toBe('fra');
    s3.destroy();

    await r('fra').killGateway();
    for (const name of ['iad', 'sin']) {
      for (const attempt of [
        r(name).s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'same' })),
        r(name).s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'new', Body: 'x' })),
      ]) {
        const e = await sdkError(attempt);
        expect(e.status, name).toBe(503);
        expect(e.name).toBe('ServiceUnavailable');
        expect(e.message).toContain(`Bucket ${bucket} is served by its home region fra, which cannot be reached now`);
      }
      // another bucket: written and read as usual
      await r(name).s3.send(new PutObjectCommand({ Bucket: other, Key: `from-${name}`, Body: name }));
      expect(await text(r(name).s3, other, `from-${name}`)).toBe(name);
    }
    await waitFor('sin reads what iad wrote in the other bucket', async () => (await text(r('sin').s3, other, 'from-iad')) === 'iad');
  }, 120_000);
});
