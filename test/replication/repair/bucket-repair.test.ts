/**
 * Buckets under repair and collection, with three real regions (in-process gateways, each with
 * its own LMDB and redis-server; iad is the control region that decides bucket names):
 *
 * - a region that lost a bucket-created change (its outbox entry acknowledged unsent) and a
 *   bucket-deleted change (its metadata restored from a copy taken before the deletion) holds
 *   the same buckets as the others after `erne replication repair`;
 * - under create/delete cycles the gone markers of deleted buckets pile up, and after
 *   quiescence a collection round in every region leaves none; a late copy of a deleted
 *   incarnation's creation, or of a write into it, is still refused afterwards.
 */
import { execFile } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, HeadBucketCommand, ListBucketsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, expect, it } from 'vitest';
import type { Change } from '../../../metadata/changes.js';
import { openLmdb } from '../../../metadata/lmdb.js';
import { Outbox } from '../../../metadata/outbox.js';
import { countGoneMarkers } from '../../../metadata/tombstone-collect.js';
import { makeVersionId } from '../../../metadata/version-id.js';
import { ClusterCaller } from '../../../replication/cluster-call.js';
import { callRepair } from '../../../replication/repair/http-repair-peer.js';
import type { RepairHello } from '../../../replication/repair/pass.js';
import { encodeApplyBody } from '../../../replication/wire.js';
import { CLUSTER_SECRET, post, signApply, testTopology, versionChange } from '../../helpers/cluster.js';
import { bodyBytes, tempDir, uniqueBucket } from '../../helpers/gateway.js';
import { useRegions, type TestRegion } from '../../helpers/regions.js';
import { redisServer } from '../../helpers/redis.js';
import { describeNeeds } from '../../helpers/requires.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);
const ERNE = new URL('../../../dist/cli/erne.js', import.meta.url).pathname;
const NAMES = ['iad', 'fra', 'sin'];

describeNeeds(redisServer)('buckets under repair and tombstone collection', () => {
  const cluster = useRegions(NAMES, { repair: { intervalMs: 0, graceMs: 0, inflightMs: 300 } });
  const r = (name: string) => cluster.region(name);
  const snapshots: string[] = [];
  afterAll(() => snapshots.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const exists = (region: TestRegion, bucket: string) => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true, () => false);

  async function outboxDepth(region: TestRegion, dest?: string): Promise<number> {
    const doc = (await (await fetch(`${region.url}/.erne/replication`)).json()) as { destinations: { dest: string; outboxDepth: number }[] };
    return doc.destinations.filter((d) => dest === undefined || d.dest === dest).reduce((n, d) => n + d.outboxDepth, 0);
  }
  const quiet = () => waitFor('every outbox empty', async () => (await Promise.all(NAMES.map((n) => outboxDepth(r(n))))).every((d) => d === 0));

  async function bucketNames(region: TestRegion, prefix: string): Promise<string[]> {
    const got = await region.s3.send(new ListBucketsCommand({}));
    return (got.Buckets ?? []).map((b) => b.Name!).filter((n) => n.startsWith(prefix)).sort();
  }

  /** the bucket's incarnation in `region`, as the repair endpoint tells it */
  async function createdAt(region: TestRegion, bucket: string): Promise<number> {
    const caller = new ClusterCaller(testTopology('operator', { operator: ['http://127.0.0.1:1'], [region.name]: [region.url] }), 5000);
    try {
      return (await callRepair<RepairHello>(caller, region.name, { op: 'hello', bucket })).buckets[0]!.createdAt;
    } finally {
      caller.close();
    }
  }

  /** with the region stopped, opens its metadata */
  async function offline<T>(region: TestRegion, f: (kv: Awaited<ReturnType<typeof openLmdb>>) => Promise<T>): Promise<T> {
    await region.stop();
    const kv = await openLmdb(region.metaDir);
    try {
      return await f(kv);
    } finally {
      await kv.close();
      await region.start();
    }
  }

  it('a region that lost a bucket-created and a bucket-deleted change holds the same buckets as the others after `erne replication repair`', async () => {
    const prefix = uniqueBucket('brep');
    const doomed = `${prefix}-doomed`;
    const late = `${prefix}-late`;
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: doomed }));
    for (const n of NAMES) await waitFor(`${doomed} in ${n}`, () => exists(r(n), doomed));
    await quiet();

    // fra's metadata as it is now, before the deletion
    const snap = tempDir('erne-fra-meta-snap-');
    snapshots.push(snap);
    await r('fra').stop();
    cpSync(r('fra').metaDir, snap, { recursive: true });
    await r('fra').start();

    await r('sin').s3.send(new DeleteBucketCommand({ Bucket: doomed }));
    for (const n of NAMES) await waitFor(`${doomed} gone in ${n}`, async () => !(await exists(r(n), doomed)));
    await quiet();

    // fra is restored from the copy (the deletion never happened there) and stays down while
    // iad creates a bucket; iad's messages to fra are then lost
    await r('fra').stop();
    rmSync(r('fra').metaDir, { recursive: true, force: true });
    cpSync(snap, r('fra').metaDir, { recursive: true });
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: late }));
    await r('iad').s3.send(new PutObjectCommand({ Bucket: late, Key: 'k', Body: 'made while fra was down' }));
    await waitFor('sin has what iad wrote', async () => (await outboxDepth(r('iad'), 'sin')) === 0);
    await r('iad').stop();
    const lost = await (async () => {
      const kv = await openLmdb(r('iad').metaDir);
      try {
        const outbox = new Outbox(kv);
        const ids = await outbox.pendingIds('fra', undefined, 10_000);
        await outbox.ack('fra', ids);
        return ids.length;
      } finally {
        await kv.close();
      }
    })();
    expect(lost).toBeGreaterThanOrEqual(2); // the bucket's creation and the object
    await r('iad').start();
    await r('fra').start();
    await quiet();

    expect(await bucketNames(r('fra'), prefix)).toEqual([doomed]);
    expect(await bucketNames(r('sin'), prefix)).toEqual([late]);

    const { stdout } = await run(process.execPath, [ERNE, 'replication', 'repair', '--endpoint', r('fra').url, '--json'], { env: { ...process.env, ERNE_CLUSTER_SECRET: CLUSTER_SECRET } });
    const doc = JSON.parse(stdout) as { runs: { run: { peers: { peer: string; fetched: number; error?: string }[] } }[] };
    const peers = doc.runs[0]!.run.peers;
    expect(peers.map((p) => p.error)).toEqual([undefined, undefined]);
    expect(peers.find((p) => p.peer === 'iad')!.fetched).toBeGreaterThanOrEqual(3); // the marker, the record, the object

    for (const n of NAMES) expect(await bucketNames(r(n), prefix), n).toEqual([late]);
    const got = await r('fra').s3.send(new GetObjectCommand({ Bucket: late, Key: 'k' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('made while fra was down');
    const again = await r('fra').gw!.gw.repair!.run();
    for (const p of again.peers) expect('error' in p ? p.error : [p.fetched, p.sent]).toEqual([0, 0]);
  }, 120_000);

  it('gone markers of deleted buckets return to zero after create/delete churn and a collection round; late changes for them stay refused', async () => {
    const prefix = uniqueBucket('bgc');
    const names = [0, 1, 2, 3].map((i) => `${prefix}-${i}`);
    const incarnations: { name: string; createdAt: number }[] = [];
    for (let cycle = 0; cycle < 4; cycle++) {
      for (const [i, name] of names.entries()) {
        const at = r(NAMES[(i + cycle) % 3]!);
        await at.s3.send(new CreateBucketCommand({ Bucket: name }));
        incarnations.push({ name, createdAt: await createdAt(at, name) });
        for (const n of NAMES) await waitFor(`${name} in ${n}`, () => exists(r(n), name));
        await r(NAMES[(i + cycle + 1) % 3]!).s3.send(new DeleteBucketCommand({ Bucket: name }));
      }
    }
    await quiet();
    for (const n of NAMES) expect(await bucketNames(r(n), prefix), n).toEqual([]);
    const before = await offline(r('sin'), countGoneMarkers);
    expect(before).toBeGreaterThanOrEqual(names.length);

    await waitFor('every gone marker collected in every region', async () => {
      const runs = await Promise.all(NAMES.map((n) => r(n).gw!.gw.repair!.run()));
      return runs.every((x) => x.collection?.collected && x.collection.collected.bucketMarks + x.collection.collected.kept.bucketMarks === 0);
    });
    for (const n of NAMES) expect(await offline(r(n), countGoneMarkers), n).toBe(0);

    // late copies for the first incarnation of a name, arriving after its marker went: its
    // creation does not bring the bucket back, a write into it is dropped (not held back
    // waiting for a bucket that will never come)
    const first = incarnations[0]!;
    const record = { name: first.name, owner: 'AKIDEXAMPLE', region: 'iad', createdAt: first.createdAt, versioning: 'Unversioned' as const, acl: 'private' as const };
    const changes: Change[] = [
      { kind: 'bucket-created', record, stamp: makeVersionId({ wall: first.createdAt, logical: 0 }, 'iad', null) },
      versionChange(first.name, first.createdAt, 'late', 'too late', 'iad'),
    ];
    for (const c of changes) {
      const res = await post(r('fra').url, signApply(encodeApplyBody([c]), { region: 'iad' }));
      expect(res.status, c.kind).toBe(204);
    }
    expect(await exists(r('fra'), first.name)).toBe(false);
    expect(await offline(r('fra'), countGoneMarkers)).toBe(0);
  }, 180_000);
});
