/**
 * `erne serve --region R --cluster FILE --redis-url URL` as a user (or `erne dev --regions`)
 * runs it: two regions as child processes, each with its own redis-server, the secret from
 * ERNE_CLUSTER_SECRET; fra runs two workers (one relay and one set of delivery workers for the
 * host). A change committed in iad's outbox is read through fra's S3, signed for any region of
 * the cluster. Needs `npm run build` first.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import { outboxSink } from '../../metadata/outbox.js';
import { freePort, startChildGateway, type ChildGateway } from '../helpers/child.js';
import { CLUSTER_SECRET, versionChange } from '../helpers/cluster.js';
import { bodyBytes, ROOT, s3Client, tempDir, uniqueBucket } from '../helpers/gateway.js';
import { redisClients, redisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const CREATED = 1_700_000_000_000;

describeNeeds(redisServer)('erne serve --cluster: two regions as processes', () => {
  const names = ['iad', 'fra'] as const;
  const redis = new Map<string, TestRedis>();
  const gws = new Map<string, ChildGateway>();
  const kvs = new Map<string, KvStore>();
  let dir: string;
  const bucket = uniqueBucket('cli-cluster');

  beforeAll(async () => {
    dir = tempDir('erne-cli-cluster-');
    const ports = new Map<string, number>();
    for (const n of names) ports.set(n, await freePort());
    const file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify({ regions: names.map((n) => ({ name: n, internal: [`http://127.0.0.1:${ports.get(n)}`] })) }));
    for (const n of names) {
      const r = await startRedis();
      redis.set(n, r);
      const args = ['--region', n, '--cluster', file, '--redis-url', r.url, ...(n === 'fra' ? ['--workers', '2'] : [])];
      gws.set(n, await startChildGateway({ port: ports.get(n), dataDir: join(dir, n), args, env: { ERNE_CLUSTER_SECRET: CLUSTER_SECRET } }));
    }
    await waitFor('both workers of fra serving', () => gws.get('fra')!.output().includes('2 workers are serving'));
    // each region's metadata, shared with its gateway process (LMDB works across processes)
    for (const n of names) {
      const kv = await openLmdb(join(dir, n, 'meta'));
      kvs.set(n, kv);
      await createObjectLayer(kv, { region: n }).createBucket({ name: bucket, owner: ROOT.accessKeyId, region: 'iad', createdAt: CREATED });
    }
  });

  afterAll(async () => {
    for (const kv of kvs.values()) await kv.close();
    for (const g of gws.values()) await g.stop();
    for (const r of redis.values()) await r.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says it joined the cluster and where changes queue', () => {
    expect(gws.get('iad')!.output()).toContain(`  cluster:           iad, fra (changes queue in ${redis.get('iad')!.url})`);
  });

  it('a change committed in iad is read through fra, with requests signed for any cluster region', async () => {
    const sink = outboxSink(['fra']);
    const change = versionChange(bucket, CREATED, 'hello.txt', 'from iad, via the CLI', 'iad');
    await kvs.get('iad')!.transact(async (tx) => sink(tx, change));
    const clients: S3Client[] = ['fra', 'iad', 'us-east-1'].map((region) => s3Client(gws.get('fra')!, ROOT, { config: { region } }));
    const text = async (s3: S3Client) => (await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }))).Body)).toString();
    await waitFor('read in fra', async () => (await text(clients[0]!)) === 'from iad, via the CLI');
    for (const s3 of clients) expect(await text(s3)).toBe('from iad, via the CLI');
  });

  it('fra, running two workers, relays and delivers too (its worker 0 does)', async () => {
    const sink = outboxSink(['iad']);
    await kvs.get('fra')!.transact(async (tx) => sink(tx, versionChange(bucket, CREATED, 'back.txt', 'from fra', 'fra')));
    const s3 = s3Client(gws.get('iad')!);
    await waitFor('read in iad', async () => (await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'back.txt' }))).Body)).toString() === 'from fra');
    // one process of the host talks to Redis: fra's two workers hold as many connections as iad's one process
    const iadClients = await redisClients(redis.get('iad')!.port);
    expect(iadClients).toBeGreaterThan(1);
    expect(await redisClients(redis.get('fra')!.port)).toBe(iadClients);
  });
});
