/**
 * Steady churn does not grow the tombstone and outbox tables: 10,000 overwrite/delete cycles
 * over three regions (a PUT in one region, then a DELETE — of that version for good in a
 * versioned bucket, of the object in an unversioned one — in a region picked at random), then
 * quiescence, then collection rounds: every region ends with no tombstone, no null mark naming
 * nothing, and no outbox entry, counted in its own LMDB.
 */
import { CreateBucketCommand, DeleteObjectCommand, HeadBucketCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { openLmdb } from '../../../metadata/lmdb.js';
import { countTombstones } from '../../../metadata/tombstone-collect.js';
import { subspaceRange } from '../../../metadata/tuple.js';
import { uniqueBucket } from '../../helpers/gateway.js';
import { useRegions, type TestRegion } from '../../helpers/regions.js';
import { redisServer } from '../../helpers/redis.js';
import { describeNeeds } from '../../helpers/requires.js';
import { waitFor } from '../../helpers/wait.js';

const CYCLES = Number(process.env.ERNE_CHURN_CYCLES ?? 10_000);
const KEYS = 200;
const CONCURRENCY = 16;

describeNeeds(redisServer)('tombstones under churn', () => {
  const cluster = useRegions(['iad', 'fra', 'sin'], { repair: { intervalMs: 0, graceMs: 0, inflightMs: 500 } });
  const names = ['iad', 'fra', 'sin'];
  const r = (name: string) => cluster.region(name);

  async function outboxDepth(region: TestRegion): Promise<number> {
    const doc = (await (await fetch(`${region.url}/.erne/replication`)).json()) as { destinations: { outboxDepth: number }[] };
    return doc.destinations.reduce((n, d) => n + d.outboxDepth, 0);
  }

  it(`after ${CYCLES} overwrite/delete cycles and quiescence, tombstones and outbox entries return to zero in every region`, async () => {
    const ver = uniqueBucket('churn-ver');
    const plain = uniqueBucket('churn-plain');
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: ver }));
    await r('iad').s3.send(new PutBucketVersioningCommand({ Bucket: ver, VersioningConfiguration: { Status: 'Enabled' } }));
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: plain }));
    for (const n of names) for (const b of [ver, plain]) await waitFor(`${b} in ${n}`, () => r(n).s3.send(new HeadBucketCommand({ Bucket: b })).then(() => true, () => false));
    await waitFor('versioning everywhere', async () => (await Promise.all(names.map((n) => outboxDepth(r(n))))).every((d) => d === 0));

    let next = 0;
    const started = Date.now();
    const worker = async () => {
      for (let i = next++; i < CYCLES; i = next++) {
        const versioned = i % 2 === 0;
        const bucket = versioned ? ver : plain;
        const key = `k${i % KEYS}`;
        const put = await r(names[i % 3]!).s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `cycle ${i}` }));
        const del = r(names[(i * 7 + 1) % 3]!).s3;
        await del.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(versioned ? { VersionId: put.VersionId } : {}) }));
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const churnMs = Date.now() - started;
    await waitFor('every outbox empty', async () => (await Promise.all(names.map((n) => outboxDepth(r(n))))).every((d) => d === 0), 120_000, 250);
    const quietMs = Date.now() - started - churnMs;

    let rounds = 0;
    const collected = { tombstones: 0, nullMarks: 0 };
    await waitFor(
      'collection rounds leave nothing in any region',
      async () => {
        rounds++;
        const runs = await Promise.all(names.map((n) => r(n).gw!.gw.repair!.run()));
        for (const x of runs) {
          collected.tombstones += x.collection?.collected?.tombstones ?? 0;
          collected.nullMarks += x.collection?.collected?.nullMarks ?? 0;
        }
        return runs.every((x) => x.collection?.collected && x.collection.collected.kept.tombstones + x.collection.collected.kept.nullMarks === 0);
      },
      30_000,
      200,
    );
    const counts: Record<string, unknown> = {};
    for (const n of names) {
      await r(n).stop();
      const kv = await openLmdb(r(n).metaDir);
      const outbox = await kv.read(async (tx) => {
        let rows = 0;
        for (const space of ['ob', 'obp']) rows += (await tx.getRange(subspaceRange([space]).begin, subspaceRange([space]).end)).length;
        return rows;
      });
      counts[n] = { ...(await countTombstones(kv)), outboxRows: outbox };
      await kv.close();
      await r(n).start();
    }
    console.log(`${CYCLES} cycles in ${churnMs} ms, quiet ${quietMs} ms later, ${rounds} collection round(s) collected ${JSON.stringify(collected)} over the regions; left: ${JSON.stringify(counts)}`);
    // the churn made tombstones (versions deleted for good) and null marks (unversioned deletes) in every region
    // (every other cycle purges its own version; the others end with one null mark per key they use)
    expect(collected.tombstones).toBeGreaterThanOrEqual(3 * Math.floor(CYCLES / 2));
    expect(collected.nullMarks).toBeGreaterThanOrEqual(3 * Math.min(KEYS / 2, Math.floor(CYCLES / 2)));
    for (const n of names) expect(counts[n], n).toEqual({ tombstones: 0, erasedMarks: 0, outboxRows: 0 });
  }, 1_800_000);
});
