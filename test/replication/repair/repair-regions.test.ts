/**
 * Anti-entropy between three real regions (in-process gateways, each with its own LMDB and
 * redis-server): changes whose replication messages were lost on purpose — their outbox
 * entries acknowledged while the destination was down, so nothing will ever resend them —
 * leave the regions apart; `erne replication repair` in one region fetches what it lacks and
 * sends what the others lack, and every region converges (versions, delete markers, versions
 * deleted for good, unversioned deletes, bytes, an object ACL, a bucket setting, an access key). Then tombstone collection: with a zero grace,
 * a collection round in every region leaves no tombstone behind, and a late copy of a version
 * deleted for good is refused.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketTaggingCommand,
  GetObjectAclCommand,
  PutObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { openLmdb } from '../../../metadata/lmdb.js';
import { Outbox } from '../../../metadata/outbox.js';
import { countTombstones } from '../../../metadata/tombstone-collect.js';
import type { Change } from '../../../metadata/changes.js';
import { parseVersionId } from '../../../metadata/version-id.js';
import { encodeApplyBody } from '../../../replication/wire.js';
import { ClusterCaller } from '../../../replication/cluster-call.js';
import { callRepair } from '../../../replication/repair/http-repair-peer.js';
import type { RepairHello } from '../../../replication/repair/pass.js';
import { CLUSTER_SECRET, post, signApply, testTopology } from '../../helpers/cluster.js';
import { bodyBytes, s3Client, uniqueBucket } from '../../helpers/gateway.js';
import { useRegions, type TestRegion } from '../../helpers/regions.js';
import { redisServer } from '../../helpers/redis.js';
import { describeNeeds } from '../../helpers/requires.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);
const ERNE = new URL('../../../dist/cli/erne.js', import.meta.url).pathname;

describeNeeds(redisServer)('repair between regions', () => {
  const cluster = useRegions(['iad', 'fra', 'sin'], { repair: { intervalMs: 0, graceMs: 0, inflightMs: 300 } });
  const r = (name: string) => cluster.region(name);

  async function versions(region: TestRegion, bucket: string): Promise<string[]> {
    const got = await region.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const lines = [...(got.Versions ?? []).map((v) => `${v.Key} ${v.VersionId} ${v.ETag} ${v.IsLatest}`), ...(got.DeleteMarkers ?? []).map((m) => `${m.Key} ${m.VersionId} marker ${m.IsLatest}`)];
    return lines.sort();
  }

  async function outboxDepth(region: TestRegion, dest?: string): Promise<number> {
    const doc = (await (await fetch(`${region.url}/.erne/replication`)).json()) as { destinations: { dest: string; outboxDepth: number }[] };
    return doc.destinations.filter((d) => dest === undefined || d.dest === dest).reduce((n, d) => n + d.outboxDepth, 0);
  }

  /** the region's entries for `dest` are acknowledged without being sent: those messages are lost */
  async function loseMessages(region: TestRegion, dest: string): Promise<number> {
    await region.stop();
    const kv = await openLmdb(region.metaDir);
    const outbox = new Outbox(kv);
    const ids = await outbox.pendingIds(dest, undefined, 10_000);
    await outbox.ack(dest, ids);
    await kv.close();
    await region.start();
    return ids.length;
  }

  /** the bucket's incarnation, as the repair endpoint tells it */
  async function bucketCreatedAt(region: TestRegion, bucket: string): Promise<number> {
    const caller = new ClusterCaller(testTopology('operator', { operator: ['http://127.0.0.1:1'], [region.name]: [region.url] }), 5000);
    try {
      return (await callRepair<RepairHello>(caller, region.name, { op: 'hello', bucket })).buckets[0]!.createdAt;
    } finally {
      caller.close();
    }
  }

  const exists = (region: TestRegion, bucket: string) => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true, () => false);

  it('regions that missed changes converge after `erne replication repair`, both ways; tombstones are then collected everywhere', async () => {
    const ver = uniqueBucket('rep-ver');
    const plain = uniqueBucket('rep-plain');
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: ver }));
    await r('iad').s3.send(new PutBucketVersioningCommand({ Bucket: ver, VersioningConfiguration: { Status: 'Enabled' } }));
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: plain }));
    for (const name of ['fra', 'sin']) for (const b of [ver, plain]) await waitFor(`${b} in ${name}`, () => exists(r(name), b));
    await waitFor('versioning everywhere', async () => (await Promise.all(['iad', 'fra', 'sin'].map((n) => outboxDepth(r(n))))).every((d) => d === 0));

    // an object every region has: only a later change of it will be lost
    await r('iad').s3.send(new PutObjectCommand({ Bucket: ver, Key: 'b0', Body: 'everywhere' }));
    await waitFor('b0 everywhere', async () => (await Promise.all(['iad', 'fra', 'sin'].map((n) => outboxDepth(r(n))))).every((d) => d === 0));

    // fra is down while iad takes writes; iad's messages to fra are then lost
    await r('fra').stop();
    const iad = r('iad').s3;
    const first: string[] = [];
    for (let i = 0; i < 10; i++) {
      first.push((await iad.send(new PutObjectCommand({ Bucket: ver, Key: `a${i}`, Body: `first ${i}` }))).VersionId!);
      await iad.send(new PutObjectCommand({ Bucket: ver, Key: `a${i}`, Body: `second ${i}` }));
      await iad.send(new PutObjectCommand({ Bucket: plain, Key: `p${i}`, Body: `plain ${i}` }));
    }
    await iad.send(new DeleteObjectCommand({ Bucket: ver, Key: 'a0', VersionId: first[0] })); // deleted for good: a tombstone
    await iad.send(new DeleteObjectCommand({ Bucket: ver, Key: 'a1' })); // a delete marker
    await iad.send(new DeleteObjectCommand({ Bucket: plain, Key: 'p0' })); // an unversioned delete: a null mark
    await iad.send(new PutObjectAclCommand({ Bucket: ver, Key: 'b0', ACL: 'public-read' })); // a register of a version fra has
    await iad.send(new PutBucketTaggingCommand({ Bucket: ver, Tagging: { TagSet: [{ Key: 'team', Value: 'repair' }] } })); // a bucket setting
    const key = { accessKeyId: 'AKREPAIRTEST0000001', secretAccessKey: 'repair-test-secret-0123456789' };
    await run(process.execPath, [ERNE, 'keys', 'create', '--data-dir', r('iad').dataDir, '--metadata-dir', r('iad').metaDir, '--access-key', key.accessKeyId, '--secret-key', key.secretAccessKey]);
    await waitFor('sin has what iad wrote', async () => (await outboxDepth(r('iad'), 'sin')) === 0);
    expect(await loseMessages(r('iad'), 'fra')).toBeGreaterThan(30);
    await r('fra').start();

    // sin is down while fra takes writes; fra's messages to sin are then lost
    await r('sin').stop();
    for (let i = 0; i < 5; i++) await r('fra').s3.send(new PutObjectCommand({ Bucket: ver, Key: `f${i}`, Body: `from fra ${i}` }));
    await waitFor('iad has what fra wrote', async () => (await outboxDepth(r('fra'), 'iad')) === 0);
    expect(await loseMessages(r('fra'), 'sin')).toBe(5);
    await r('sin').start();
    await waitFor('every outbox empty', async () => (await Promise.all(['iad', 'fra', 'sin'].map((n) => outboxDepth(r(n))))).every((d) => d === 0));

    const want = await versions(r('iad'), ver);
    expect(want.length).toBe(1 + 20 - 1 + 1 + 5); // b0, 20 versions, one deleted for good, a marker, fra's five
    expect(await versions(r('fra'), ver)).not.toEqual(want);
    expect(await versions(r('sin'), ver)).not.toEqual(want);

    const { stdout } = await run(process.execPath, [ERNE, 'replication', 'repair', '--endpoint', r('fra').url, '--json'], { env: { ...process.env, ERNE_CLUSTER_SECRET: CLUSTER_SECRET } });
    const doc = JSON.parse(stdout) as { runs: { run: { peers: { peer: string; fetched: number; sent: number; error?: string }[] } }[] };
    const peers = doc.runs[0]!.run.peers;
    expect(peers.map((p) => p.error)).toEqual([undefined, undefined]);
    expect(peers.find((p) => p.peer === 'iad')!.fetched).toBeGreaterThan(0);
    expect(peers.find((p) => p.peer === 'sin')!.sent).toBeGreaterThanOrEqual(5);

    for (const name of ['iad', 'fra', 'sin']) {
      expect(await versions(r(name), ver), `${name}/${ver}`).toEqual(want);
      expect(await versions(r(name), plain), `${name}/${plain}`).toEqual(await versions(r('iad'), plain));
    }
    const acl = async (name: string) => (await r(name).s3.send(new GetObjectAclCommand({ Bucket: ver, Key: 'b0' }))).Grants;
    expect(await acl('fra')).toEqual(await acl('iad'));
    expect(JSON.stringify(await acl('fra'))).toContain('AllUsers');
    const tags = await r('fra').s3.send(new GetBucketTaggingCommand({ Bucket: ver }));
    expect(tags.TagSet).toEqual([{ Key: 'team', Value: 'repair' }]);
    const asKey = s3Client(r('fra').gw!.gw, key);
    await expect(asKey.send(new ListBucketsCommand({}))).resolves.toBeDefined();
    asKey.destroy();
    const got = await r('fra').s3.send(new GetObjectCommand({ Bucket: ver, Key: 'a5' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('second 5');
    const p0 = await r('fra').s3.send(new GetObjectCommand({ Bucket: plain, Key: 'p0' })).catch((e: Error) => e.name);
    expect(p0).toBe('NoSuchKey');

    // a second pass finds nothing to fix
    const again = await r('sin').gw!.gw.repair!.run();
    for (const p of again.peers) expect('error' in p ? p.error : [p.fetched, p.sent]).toEqual([0, 0]);

    // every region collects: the tombstone of a0's first version and p0's null mark go everywhere
    await waitFor('no tombstone left in any region', async () => {
      const runs = await Promise.all(['iad', 'fra', 'sin'].map((n) => r(n).gw!.gw.repair!.run()));
      return runs.every((x) => x.collection?.collected && x.collection.collected.kept.tombstones + x.collection.collected.kept.nullMarks === 0);
    });
    // a late copy of the version deleted for good (a delayed duplicate of its apply request) finds
    // no tombstone any more, and is refused all the same: it is older than the horizon
    const hlc = parseVersionId(first[0]!)!.hlc;
    const late: Change = {
      kind: 'version',
      bucketCreatedAt: await bucketCreatedAt(r('iad'), ver),
      version: { bucket: ver, key: 'a0', versionId: first[0]!, hlc, region: 'iad', deleteMarker: false, size: 7, etag: 'e', lastModified: hlc.wall, owner: 'x', headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'inline', data: Buffer.from('first 0') } },
    };
    expect((await post(r('fra').url, signApply(encodeApplyBody([late]), { region: 'iad' }))).status).toBe(204);
    expect(await versions(r('fra'), ver)).toEqual(want);
    for (const name of ['iad', 'fra', 'sin']) {
      await r(name).stop();
      const kv = await openLmdb(r(name).metaDir);
      expect(await countTombstones(kv), name).toEqual({ tombstones: 0, erasedMarks: 0 });
      await kv.close();
      await r(name).start();
    }
  }, 120_000);
});
