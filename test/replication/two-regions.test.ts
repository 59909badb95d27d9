/**
 * Two regions for real: two gateways (iad, fra), each with its own LMDB metadata and its own
 * `redis-server`, joined by one topology. Changes committed in one region's outbox travel
 * through that region's Redis (relay, BullMQ) and the other's internal endpoint (HTTP, cluster
 * HMAC) and are read through the other region's S3 API; the outbox empties once they are
 * applied. A change that must wait for its bucket is retried until the bucket is there; a
 * region that is down gets what was written meanwhile once it is back.
 */
import { rmSync } from 'node:fs';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import { Outbox, outboxSink } from '../../metadata/outbox.js';
import type { Topology } from '../../replication/topology.js';
import { freePort } from '../helpers/child.js';
import { testTopology, versionChange } from '../helpers/cluster.js';
import { bodyBytes, ROOT, s3Client, startTestGateway, tempDir, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { redisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const CREATED = 1_700_000_000_000;

interface Region {
  name: string;
  port: number;
  metaDir: string;
  dataDir: string;
  redis: TestRedis;
  gw?: TestGateway;
  /** the region's metadata, opened beside its gateway (one LMDB environment, shared) */
  kv: KvStore;
  s3?: S3Client;
  /** what its gateway logged */
  logs: string[];
}

describeNeeds(redisServer)('two regions, each its own gateway, metadata and redis-server', () => {
  const regions: Region[] = [];
  let topology: (self: string) => Topology;
  const bucket = uniqueBucket('two');

  async function startRegion(r: Region): Promise<void> {
    r.gw = await startTestGateway({
      region: r.name,
      port: r.port,
      dataDir: r.dataDir,
      metadata: { backend: 'lmdb', dir: r.metaDir },
      cluster: { topology: topology(r.name), redisUrl: r.redis.url, backoff: { baseMs: 20, capMs: 200 } },
      log: (l) => r.logs.push(l),
    });
    r.s3 = s3Client(r.gw.gw);
  }

  beforeAll(async () => {
    for (const name of ['iad', 'fra']) {
      const metaDir = tempDir(`erne-${name}-meta-`);
      regions.push({ name, port: await freePort(), metaDir, dataDir: tempDir(`erne-${name}-data-`), redis: await startRedis(), kv: await openLmdb(metaDir), logs: [] });
    }
    const urls = Object.fromEntries(regions.map((r) => [r.name, [`http://127.0.0.1:${r.port}`]]));
    topology = (self) => testTopology(self, urls);
    for (const r of regions) await startRegion(r);
    for (const r of regions) await createObjectLayer(r.kv, { region: r.name }).createBucket({ name: bucket, owner: ROOT.accessKeyId, region: 'iad', createdAt: CREATED });
  });

  afterAll(async () => {
    for (const r of regions) {
      await r.gw?.gw.close();
      await r.kv.close();
      await r.redis.stop();
      rmSync(r.metaDir, { recursive: true, force: true });
      rmSync(r.dataDir, { recursive: true, force: true });
    }
  });

  const region = (name: string) => regions.find((r) => r.name === name)!;

  /** commits changes in `from`'s outbox, as its object layer does in a write's transaction */
  async function commitIn(from: Region, changes: Change[]): Promise<void> {
    const sink = outboxSink(regions.filter((r) => r !== from).map((r) => r.name));
    await from.kv.transact(async (tx) => {
      for (const c of changes) sink(tx, c);
    });
  }

  async function read(r: Region, b: string, key: string): Promise<{ text: string; etag?: string; meta?: Record<string, string> } | undefined> {
    try {
      const got = await r.s3!.send(new GetObjectCommand({ Bucket: b, Key: key }));
      return { text: (await bodyBytes(got.Body)).toString(), etag: got.ETag, meta: got.Metadata };
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  const depth = async (from: Region, dest: string) => (await new Outbox(from.kv).depth(dest)).count;

  it('changes committed in iad are applied in fra and read through its S3; iad’s outbox empties', async () => {
    const [iad, fra] = [region('iad'), region('fra')];
    const changes = Array.from({ length: 25 }, (_, i) => versionChange(bucket, CREATED, `from-iad/${i}`, `iad wrote ${i}`, 'iad'));
    await commitIn(iad, changes);
    await waitFor('every change read in fra', async () => (await Promise.all(changes.map((_, i) => read(fra, bucket, `from-iad/${i}`)))).every(Boolean));
    const got = await read(fra, bucket, 'from-iad/7');
    expect(got).toEqual({ text: 'iad wrote 7', etag: `"${(changes[7] as Extract<Change, { kind: 'version' }>).version.etag}"`, meta: { from: 'iad' } });
    await waitFor('iad’s outbox for fra empty', async () => (await depth(iad, 'fra')) === 0);
  });

  it('and the other way: fra to iad', async () => {
    const [iad, fra] = [region('iad'), region('fra')];
    await commitIn(fra, [versionChange(bucket, CREATED, 'from-fra', 'fra wrote this', 'fra')]);
    await waitFor('read in iad', async () => (await read(iad, bucket, 'from-fra'))?.text === 'fra wrote this');
    await waitFor('fra’s outbox for iad empty', async () => (await depth(fra, 'iad')) === 0);
  });

  it('a change whose bucket has not reached fra is retried until the bucket is there', async () => {
    const [iad, fra] = [region('iad'), region('fra')];
    const later = uniqueBucket('later');
    await createObjectLayer(iad.kv, { region: 'iad' }).createBucket({ name: later, owner: ROOT.accessKeyId, region: 'iad', createdAt: CREATED + 5 });
    await commitIn(iad, [versionChange(later, CREATED + 5, 'k', 'waited for its bucket', 'iad')]);
    await waitFor('fra refusing it as not ready', () => iad.logs.some((l) => /replication to fra is failing .*409: not ready/.test(l)));
    expect(await depth(iad, 'fra')).toBe(1);
    await createObjectLayer(fra.kv, { region: 'fra' }).createBucket({ name: later, owner: ROOT.accessKeyId, region: 'iad', createdAt: CREATED + 5 });
    await waitFor('read in fra', async () => (await read(fra, later, 'k'))?.text === 'waited for its bucket');
    await waitFor('iad’s outbox for fra empty', async () => (await depth(iad, 'fra')) === 0);
  });

  it('what iad commits while fra’s gateway is down reaches fra once it is back', async () => {
    const [iad, fra] = [region('iad'), region('fra')];
    await fra.gw!.gw.close();
    await commitIn(iad, [versionChange(bucket, CREATED, 'while-down', 'fra was away', 'iad')]);
    await waitFor('deliveries to fra failing', () => iad.logs.some((l) => /replication to fra is failing .*could not be reached/.test(l)));
    expect(await depth(iad, 'fra')).toBe(1);
    await startRegion(fra);
    await waitFor('read in fra', async () => (await read(fra, bucket, 'while-down'))?.text === 'fra was away', 30_000);
    await waitFor('iad’s outbox for fra empty', async () => (await depth(iad, 'fra')) === 0);
  });
});
