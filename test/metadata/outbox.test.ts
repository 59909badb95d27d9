/**
 * The replication outbox on real LMDB: a write's changes become entries in the write's own
 * transaction, one pending mark per other region, read oldest first, acknowledged region by
 * region, counted for status.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { Outbox, outboxSink } from '../../metadata/outbox.js';
import { makeVersionId } from '../../metadata/version-id.js';

let dir: string;
let kv: KvStore;
let outbox: Outbox;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erne-outbox-'));
  kv = await openLmdb(dir);
  outbox = new Outbox(kv);
});
afterEach(async () => {
  await kv.close();
  await rm(dir, { recursive: true, force: true });
});

const id = (wall: number, logical = 0, region = 'iad') => makeVersionId({ wall, logical }, region, null);

function purge(key: string, stampWall: number, stampLogical = 0): Change {
  return { kind: 'purge', bucketCreatedAt: 1, bucket: 'b', key, versionId: id(1), stamp: id(stampWall, stampLogical) };
}

async function record(changes: Change[], dests = ['fra', 'sin'], at = 1000): Promise<void> {
  const sink = outboxSink(dests, () => at);
  await kv.transact(async (tx) => {
    for (const c of changes) sink(tx, c);
  });
}

const ids = (entries: { change: Change }[]) => entries.map((e) => (e.change as Extract<Change, { kind: 'purge' }>).key);

describe('the outbox', () => {
  it('records one entry per change, pending for every other region, oldest first', async () => {
    await record([purge('late', 30), purge('early', 10)], ['fra', 'sin'], 1234);
    await record([purge('middle', 20, 5)]);
    for (const dest of ['fra', 'sin']) {
      const page = await outbox.pending(dest, undefined, 10);
      expect(ids(page)).toEqual(['early', 'middle', 'late']);
      expect(page[0]).toMatchObject({ pending: ['fra', 'sin'], at: 1234, change: purge('early', 10) });
    }
    expect(await outbox.pending('iad', undefined, 10)).toEqual([]);
  });

  it('records nothing when there is no other region', async () => {
    await record([purge('k', 10)], []);
    expect(await outbox.depth('fra')).toEqual({ count: 0 });
    expect(await kv.read((tx) => tx.getRange(Buffer.from([0]), Buffer.from([0xff])))).toEqual([]);
  });

  it('commits with the write or not at all', async () => {
    const sink = outboxSink(['fra']);
    await expect(
      kv.transact(async (tx) => {
        sink(tx, purge('k', 10));
        throw new Error('the write failed');
      }),
    ).rejects.toThrow('the write failed');
    expect(await outbox.pending('fra', undefined, 10)).toEqual([]);
  });

  it('pages after an id, at most `limit` at a time', async () => {
    await record([1, 2, 3, 4, 5].map((w) => purge(`k${w}`, w)));
    const first = await outbox.pending('fra', undefined, 2);
    expect(ids(first)).toEqual(['k1', 'k2']);
    const second = await outbox.pending('fra', first[1]!.id, 2);
    expect(ids(second)).toEqual(['k3', 'k4']);
    expect(ids(await outbox.pending('fra', second[1]!.id, 2))).toEqual(['k5']);
  });

  it('an acknowledgement clears one region; the entry goes when the last one has it; again is a no-op', async () => {
    await record([purge('a', 1), purge('b', 2)]);
    const [a, b] = await outbox.pending('fra', undefined, 10);
    await outbox.ack('fra', [a!.id]);
    expect(ids(await outbox.pending('fra', undefined, 10))).toEqual(['b']);
    expect(await outbox.get('fra', [a!.id, b!.id])).toMatchObject([{ id: b!.id }]);
    expect(await outbox.get('sin', [a!.id])).toMatchObject([{ id: a!.id, pending: ['sin'] }]);
    await outbox.ack('sin', [a!.id]);
    await outbox.ack('sin', [a!.id]);
    await outbox.ack('fra', [a!.id]);
    expect(await outbox.get('sin', [a!.id])).toEqual([]);
    expect(ids(await outbox.pending('sin', undefined, 10))).toEqual(['b']);
    expect(await outbox.depth('fra')).toMatchObject({ count: 1 });
  });

  it('depth counts what waits per region, with the commit time of the oldest', async () => {
    expect(await outbox.depth('fra')).toEqual({ count: 0 });
    await record([purge('a', 5)], ['fra', 'sin'], 2000);
    await record([purge('b', 1)], ['fra'], 3000);
    expect(await outbox.depth('fra')).toEqual({ count: 2, oldestAt: 3000 });
    expect(await outbox.depth('sin')).toEqual({ count: 1, oldestAt: 2000 });
  });

  it('two changes with one stamp for different keys are two entries', async () => {
    // a process restarted behind the clock of its last run can issue an id again, for another key
    await record([purge('x', 7, 3)]);
    await record([purge('y', 7, 3)]);
    expect(ids(await outbox.pending('fra', undefined, 10)).sort()).toEqual(['x', 'y']);
  });
});
