/**
 * Three regions as real processes (per region a redis-server and an `erne serve --cluster`
 * gateway; regions reach each other only through proxies the test can cut), driven by
 * @aws-sdk/client-s3:
 * - conflicting PUTs, copies, DELETEs, DeleteObjects and version deletes of the same keys in
 *   all three regions at once, on a versioned, an unversioned and a suspended bucket, end with
 *   every region's outbox empty, every region listing the same versions and keys and serving
 *   the same bytes, and no acknowledged version lost;
 * - GETs and copies of a key every region keeps overwriting serve a version they found;
 * - during a burst of writes in every region: a region's Redis SIGKILLed while it holds jobs
 *   (deliveries to one region hang, so new entries go through the queue) and restarted empty,
 *   a region's gateway SIGKILLed with deliveries under way and restarted, the control region
 *   cut off from the others and healed. Each ends converged, with every acknowledged PUT
 *   readable, byte for byte, in every region.
 * The seed of the random choices is printed (replay with ERNE_FAULTS_SEED; ERNE_FAULTS_OPS
 * lengthens the conflict runs). Figures per run are printed. Needs `npm run build`.
 */
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sdkError, uniqueBucket } from '../helpers/gateway.js';
import type { ReplicationStatus } from '../../replication/monitor.js';
import { startProcCluster, type ProcCluster, type ProcRegion } from '../helpers/region-procs.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';
import { ackedSince, body, has, missingWrites, rng, startBurst, type Burst } from './burst.js';
import { ConflictRun } from './conflicts.js';
import { getBytes, listing, md5, waitConverged } from './convergence.js';

const NAMES = ['iad', 'fra', 'sin'];
/**
 * How long a region's Redis stays down: long enough for a Redis client's reconnection back-off
 * to grow past a few seconds (BullMQ's default retries after 1, 2 … 6, 7.1, 10.1, then 18.2 s).
 */
const REDIS_OUTAGE_MS = 10_500;
/** a delivery a killed gateway had under way is done again within this of its restart (README: about 15 s; BullMQ's defaults took 30 s or more) */
const RESTARTED_DELIVERY_MS = 22_000;
/** a GET of bytes only a cut-off region holds answers 503 within this (README: 5 s to answer) */
const UNREACHABLE_ANSWER_MS = 8_000;
/** operations per writer in the conflict tests (raise it for a longer soak) */
const OPS = Number(process.env['ERNE_FAULTS_OPS'] ?? 12);
const SEED = Number(process.env['ERNE_FAULTS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

describeNeeds(redisServer)('three region processes under conflicts and faults', () => {
  let cluster: ProcCluster;
  const r = (name: string) => cluster.region(name);

  beforeAll(async () => {
    console.log(`faults: seed ${SEED} (replay with ERNE_FAULTS_SEED=${SEED})`);
    cluster = await startProcCluster(NAMES);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  /** a bucket made in iad, present (and versioned when asked) in every region */
  async function bucketEverywhere(tag: string, versioned: boolean): Promise<string> {
    const bucket = uniqueBucket(tag);
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const region of cluster.regions) await waitFor(`${bucket} in ${region.name}`, () => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true));
    if (versioned) await versioningEverywhere(bucket, 'Enabled');
    return bucket;
  }

  /** sets the bucket's versioning in iad and waits until every region has it */
  async function versioningEverywhere(bucket: string, Status: 'Enabled' | 'Suspended'): Promise<void> {
    await r('iad').s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status } }));
    for (const region of cluster.regions) {
      await waitFor(`versioning ${Status} in ${region.name}`, async () => (await region.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status === Status);
    }
  }

  /** after convergence: every key's GET (and, in a versioned bucket, every version's) gives the same bytes in every region */
  async function sameBytesEverywhere(bucket: string, rows: string[], versioned: boolean): Promise<Map<string, string>> {
    const seen = new Map<string, string>();
    const targets = versioned
      ? rows.filter((row) => !row.includes(' marker ')).map((row) => row.split(' ').slice(0, 2) as [string, string])
      : rows.map((row) => [row.split(' ')[0]!, undefined] as [string, string | undefined]);
    for (const [key, versionId] of targets) {
      const got = await Promise.all(cluster.regions.map((region) => getBytes(region.s3, bucket, key, versionId)));
      const digests = got.map((g) => (g === 'missing' ? 'missing' : md5(g)));
      expect(new Set(digests).size, `${bucket}/${key}${versionId ? `?versionId=${versionId}` : ''}: ${NAMES.map((n, i) => `${n} ${digests[i]}`).join(', ')}`).toBe(1);
      seen.set(`${key} ${versionId ?? ''}`, digests[0]!);
    }
    return seen;
  }

  it.each([
    ['versioned', 'Enabled', 1],
    ['unversioned', 'Unversioned', 2],
    ['versioning suspended over versions', 'Suspended', 3],
  ] as const)('conflicting PUTs, copies, DELETEs, DeleteObjects and version deletes of the same keys in every region at once converge (%s)', async (label, state, salt) => {
    const bucket = await bucketEverywhere(`conflict-${salt}`, state !== 'Unversioned');
    const run = new ConflictRun(cluster.regions, bucket, state, rng(SEED + salt));
    if (state === 'Suspended') {
      await run.versionEveryKey();
      await versioningEverywhere(bucket, 'Suspended');
    }
    const started = Date.now();
    await run.ops(OPS, 'all');
    await convergedAfter(run, `conflicts (${label})`, Date.now() - started);
  }, 120_000);

  it.each([
    ['versioned', 'Enabled', 4],
    ['unversioned', 'Unversioned', 5],
  ] as const)('conflicting writes of the same keys while a region is cut off, and after it is back, converge (%s)', async (label, state, salt) => {
    const bucket = await bucketEverywhere(`conflict-cut-${salt}`, state === 'Enabled');
    const run = new ConflictRun(cluster.regions, bucket, state, rng(SEED + salt));
    const started = Date.now();
    cluster.cut('sin');
    try {
      // sin deletes versions it has not seen, the others delete versions sin wrote: tombstones wait for them
      await run.ops(Math.ceil(OPS / 2), 'cut', { copies: false });
      if (state === 'Enabled') {
        const [iad, sin] = await Promise.all([listing(r('iad').s3, bucket), listing(r('sin').s3, bucket)]);
        expect(JSON.stringify(sin.versions), 'sin, cut off, lists what iad lists').not.toBe(JSON.stringify(iad.versions));
      }
    } finally {
      cluster.heal('sin');
    }
    await run.ops(Math.ceil(OPS / 2), 'healed');
    await convergedAfter(run, `conflicts with sin cut off for half of them (${label})`, Date.now() - started);
  }, 120_000);

  /** quiescence, the same bytes everywhere, and (versioned) every acknowledged version kept unless deleted for good */
  async function convergedAfter(run: ConflictRun, label: string, wrote: number): Promise<void> {
    const done = await waitConverged(cluster.regions, run.bucket, { timeoutMs: 60_000 });
    const listed = new Set(done.listing.versions.map((row) => row.split(' ').slice(0, 2).join(' ')));
    const bytes = await sameBytesEverywhere(run.bucket, run.state === 'Unversioned' ? done.listing.current : done.listing.versions, run.state !== 'Unversioned');
    const c = run.counts;
    console.log(
      `faults: ${label}: ${c.put} PUTs, ${c.copy} copies, ${c.delete} DELETEs, ${c.batch} DeleteObjects, ${c.purge} version deletes acknowledged in ${wrote} ms; ` +
        `converged ${done.ms} ms later (${done.polls} polls): ${done.listing.versions.length} versions, ${done.listing.current.length} current keys`,
    );
    if (run.state !== 'Enabled') return;
    for (const [versionId, v] of run.acked) {
      if (run.purged.has(versionId)) expect(listed.has(`${v.key} ${versionId}`), `${v.key} ${versionId} was deleted for good`).toBe(false);
      else expect(bytes.get(`${v.key} ${versionId}`), `${v.key} ${versionId} acknowledged`).toBe(v.md5);
    }
  }

  it.each([
    ['unversioned', false],
    ['versioned', true],
  ])('GetObject and CopyObject of a key every region keeps overwriting serve a version they found, whichever region holds its bytes (%s)', async (label, versioned) => {
    const bucket = await bucketEverywhere(`copy-race-${label}`, versioned);
    const source = 'copy/source';
    const bodies = new Set<string>();
    // bytes written in iad (local to it) and in fra and sin (held there, so iad copies them by their bytes)
    const put = async (region: ProcRegion, n: number) => {
      const data = body(`${region.name} ${n}`, true);
      bodies.add(md5(data));
      await region.s3.send(new PutObjectCommand({ Bucket: bucket, Key: source, Body: data }));
    };
    await put(r('iad'), -1);
    let writing = true;
    const writers = cluster.regions.map(async (region) => {
      for (let n = 0; writing; n++) await put(region, n);
    });
    const failures: string[] = [];
    let copies = 0;
    let reads = 0;
    try {
      for (let i = 0; i < 40; i++) {
        await r('iad')
          .s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `copy/target-${i % 3}`, CopySource: `${bucket}/${source}` }))
          .then(
            () => (copies += 1),
            (err: Error) => failures.push(`CopyObject: ${err.name}: ${err.message}`),
          );
        await getBytes(r('iad').s3, bucket, source).then(
          (got) => (got !== 'missing' && bodies.has(md5(got)) ? (reads += 1) : failures.push(`GetObject: ${got === 'missing' ? 'missing' : 'bytes of no write'}`)),
          (err: Error) => failures.push(`GetObject: ${err.name}: ${err.message}`),
        );
      }
    } finally {
      writing = false;
      await Promise.all(writers);
    }
    console.log(`faults: overwrite race (${label}): ${copies} copies and ${reads} GETs in iad of a key written ${bodies.size} times meanwhile; ${failures.length} failed`);
    expect([...new Set(failures)]).toEqual([]);
    const done = await waitConverged(cluster.regions, bucket, { timeoutMs: 60_000 });
    for (const row of done.listing.current.filter((row) => row.startsWith('copy/target-'))) {
      const got = await getBytes(r('sin').s3, bucket, row.split(' ')[0]!);
      expect(got !== 'missing' && bodies.has(md5(got)), `${row}: one of the bodies written`).toBe(true);
    }
  }, 120_000);

  /** converged, and every acknowledged write of the burst is read, byte for byte, in every region */
  async function nothingLost(bucket: string, burst: Burst, label: string, faultMs: number, timeoutMs = 60_000): Promise<void> {
    const stoppedAt = Date.now();
    const done = await waitConverged(cluster.regions, bucket, { timeoutMs });
    const { missing, slowestMs } = await missingWrites(cluster.regions, bucket, burst, done);
    const per = NAMES.map((n) => `${n} ${burst.ackedBy.get(n)} acked/${burst.failedBy.get(n)} failed`).join(', ');
    console.log(
      `faults: ${label}: ${per}; fault lasted ${faultMs} ms; converged ${done.ms} ms after the burst (${done.listing.current.length} keys, ${done.listing.versions.length} versions); ` +
        `every acknowledged PUT read in every region ${Date.now() - stoppedAt} ms after it (slowest GET ${slowestMs} ms)`,
    );
    expect(missing, missing.slice(0, 20).join('\n')).toEqual([]);
  }

  /** jobs waiting, delayed or running in `from`'s queue for `dest` (0 while its Redis does not answer) */
  async function queueDepth(from: ProcRegion, dest: string): Promise<number> {
    const status = (await (await fetch(`${from.url}/.erne/replication`)).json()) as ReplicationStatus;
    return status.destinations.find((d) => d.dest === dest)?.queueDepth ?? 0;
  }

  it("a region's Redis SIGKILLed mid-burst holding jobs, and restarted empty: every acknowledged write arrives everywhere, and writes after it replicate at once", async () => {
    const bucket = await bucketEverywhere('redis-kill', false);
    const burst = startBurst(cluster.regions, bucket, 'redis', 400);
    await burst.more(NAMES, 5, 'before the kill');
    // fra's deliveries to iad hang (their timeout is longer than this test waits), so what it
    // writes next for iad goes into its queue: jobs in its Redis when it dies
    const fraToIad = cluster.link('fra', 'iad');
    fraToIad.cut();
    await burst.more(['fra'], 10, 'while fra cannot reach iad');
    await waitFor('jobs for iad in fra’s Redis', async () => (await queueDepth(r('fra'), 'iad')) > 0);
    const killedAt = Date.now();
    await r('fra').redis.kill();
    // fra keeps acknowledging: what it writes goes straight to sin, Redis or not, and waits in its outbox for iad
    await burst.more(NAMES, 10, 'while fra has no Redis');
    const held = ackedSince(burst, 'fra', killedAt);
    await waitFor(`${held}, written in fra while its Redis was down, in sin`, () => has(r('sin'), bucket, held));
    expect(await has(r('iad'), bucket, held), `${held}, written in fra while it could not reach iad, reached iad`).toBe(false);
    // the outage lasts long enough for a Redis client's reconnection back-off to grow (the fault's length, not a wait for an outcome)
    await new Promise((res) => setTimeout(res, REDIS_OUTAGE_MS - (Date.now() - killedAt)));
    await r('fra').redis.restart();
    fraToIad.heal();
    const faultMs = Date.now() - killedAt;
    // once Redis answers, fra replicates as before the outage: a write made now is everywhere within moments
    const restartedAt = Date.now();
    await r('fra').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'redis/after-restart', Body: 'after' }));
    for (const name of ['iad', 'sin']) await waitFor(`a write made in fra after its Redis restarted, in ${name}`, () => has(r(name), bucket, 'redis/after-restart'), 5_000);
    console.log(`faults: a write made in fra ${Date.now() - restartedAt} ms after its Redis restarted is in iad and sin`);
    await burst.more(NAMES, 10, 'after the restart');
    await burst.stop();
    // what the lost jobs carried is enqueued again by the relay (10 s after it was last enqueued)
    await nothingLost(bucket, burst, 'Redis of fra SIGKILLed holding jobs, restarted empty', faultMs);
  }, 120_000);

  it("a region's gateway SIGKILLed mid-burst while its deliveries are under way, restarted: every acknowledged write arrives everywhere, soon", async () => {
    const bucket = await bucketEverywhere('gateway-kill', false);
    const burst = startBurst(cluster.regions, bucket, 'gateway');
    await burst.more(NAMES, 5, 'before the kill');
    // what sin sends iad goes nowhere for now: its deliveries to iad are in progress when it dies
    cluster.link('sin', 'iad').cut();
    const heldAt = Date.now();
    await burst.more(['sin'], 5, 'while sin cannot reach iad');
    const inFlight = ackedSince(burst, 'sin', heldAt);
    await waitFor(`${inFlight} in fra (sin's workers took its jobs)`, () => has(r('fra'), bucket, inFlight));
    const killedAt = Date.now();
    await r('sin').killGateway();
    await burst.more(['iad', 'fra'], 10, 'while the sin gateway is down');
    await r('sin').startGateway();
    cluster.link('sin', 'iad').heal();
    const restartedAt = Date.now();
    const faultMs = restartedAt - killedAt;
    await burst.more(NAMES, 10, 'after the restart');
    await burst.stop();
    expect(burst.failedBy.get('sin'), 'writes to sin failed while its gateway was down').toBeGreaterThan(0);
    // a delivery its dead gateway had started is taken up again within seconds of the restart (its job's lock lapses), not after half a minute
    await nothingLost(bucket, burst, 'gateway of sin SIGKILLed mid-delivery, restarted', faultMs, RESTARTED_DELIVERY_MS - (Date.now() - restartedAt));
  }, 120_000);

  it('the control region cut off from the others mid-burst (its traffic dropped until deliveries time out), then healed: every acknowledged write and version arrives everywhere', async () => {
    const bucket = await bucketEverywhere('cut', true);
    // bytes only iad holds, their metadata in fra (HEAD never fetches bytes, so fra has no copy)
    const heldByIad = body('held by iad', true);
    await r('iad').s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'cut/held-by-iad', Body: heldByIad }));
    await waitFor('cut/held-by-iad known in fra', () => r('fra').s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'cut/held-by-iad' })).then(() => true));
    const burst = startBurst(cluster.regions, bucket, 'cut', 300);
    await burst.more(NAMES, 5, 'before the cut');
    const marks = new Map(cluster.regions.map((region) => [region.name, region.output().length]));
    const cutAt = Date.now();
    // iad decides bucket names; object traffic never waits on it
    cluster.cut('iad');
    await burst.more(NAMES, 5, 'while iad is cut off');
    // cut both ways: what iad took does not reach fra, what fra took does not reach iad; fra and sin still replicate to each other
    const fromIad = ackedSince(burst, 'iad', cutAt);
    const fromFra = ackedSince(burst, 'fra', cutAt);
    expect(await has(r('fra'), bucket, fromIad), `${fromIad}, written in iad while cut off, reached fra`).toBe(false);
    expect(await has(r('iad'), bucket, fromFra), `${fromFra}, written in fra while iad was cut off, reached iad`).toBe(false);
    await waitFor(`${fromFra} in sin while iad is cut off`, () => has(r('sin'), bucket, fromFra));
    // a GET in fra of bytes only iad holds is a prompt 503 naming iad, not a wait for the partition to end
    const askedAt = Date.now();
    const refused = await sdkError(r('fra').s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cut/held-by-iad' })));
    const answeredMs = Date.now() - askedAt;
    expect([refused.status, refused.name, refused.message], `answered in ${answeredMs} ms`).toEqual([503, 'ServiceUnavailable', expect.stringContaining('region iad')]);
    expect(answeredMs, 'ms before the 503').toBeLessThan(UNREACHABLE_ANSWER_MS);
    console.log(`faults: a GET in fra of bytes only iad (cut off) holds answered 503 in ${answeredMs} ms`);
    // the cut lasts until deliveries each way have given up waiting for an answer
    const gaveUp = (name: string, dest: RegExp) => waitFor(`${name} giving up on a delivery to ${dest.source}`, () => dest.test(r(name).output().slice(marks.get(name))), 30_000);
    await Promise.all([gaveUp('fra', /replication to iad is failing/), gaveUp('iad', /replication to (fra|sin) is failing/)]);
    cluster.heal('iad');
    const faultMs = Date.now() - cutAt;
    await burst.more(NAMES, 5, 'after healing');
    await burst.stop();
    await nothingLost(bucket, burst, 'iad (control) cut off, healed', faultMs);
  }, 120_000);
});
