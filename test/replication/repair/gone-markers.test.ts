/**
 * Gone markers of deleted buckets under the tombstone horizon (metadata/bucket-drop.ts,
 * tombstone-collect.ts): a marker keeps its incarnation's deletion time, one stored before
 * deletion times were kept (a bare number) is still read, given a deletion time by the next
 * collection and collected once the horizon passes it; the changes of a collected incarnation
 * stay refused.
 */
import { describe, expect, it } from 'vitest';
import { encodeBucket, encode } from '../../../metadata/records.js';
import { kBucketGone, kDropped, readGone } from '../../../metadata/bucket-drop.js';
import { collectTombstones, countGoneMarkers } from '../../../metadata/tombstone-collect.js';
import { makeVersionId } from '../../../metadata/version-id.js';
import { kBucket } from '../../../metadata/version-store.js';
import { applyChanges } from '../../../replication/apply.js';
import type { BucketRecord } from '../../../metadata/types.js';
import { MemoryKv } from '../../helpers/memory-kv.js';

const rec = (name: string, createdAt: number): BucketRecord => ({ name, owner: 'o', region: 'iad', createdAt, versioning: 'Unversioned', acl: 'private' });
const stamp = (wall: number) => makeVersionId({ wall, logical: 0 }, 'iad', null);
const bucketIn = (kv: MemoryKv, name: string) => kv.read((tx) => tx.get(kBucket(name)));

describe('gone markers', () => {
  it('a deletion applied here records its time; the marker goes once the horizon passes both creation and deletion', async () => {
    const kv = new MemoryKv();
    await applyChanges(kv, [{ kind: 'bucket-created', record: rec('b', 1000), stamp: stamp(1000) }]);
    await applyChanges(kv, [{ kind: 'bucket-deleted', name: 'b', createdAt: 1000, stamp: stamp(5000) }]);
    expect(await kv.read((tx) => readGone(tx, 'b'))).toEqual({ createdAt: 1000, deletedAt: { wall: 5000, logical: 0 } });
    // a later copy of the deletion (the control region's own) moves the time on, never back
    await applyChanges(kv, [{ kind: 'bucket-deleted', name: 'b', createdAt: 1000, stamp: stamp(6000) }]);
    await applyChanges(kv, [{ kind: 'bucket-deleted', name: 'b', createdAt: 1000, stamp: stamp(1001) }]);
    expect((await kv.read((tx) => readGone(tx, 'b')))?.deletedAt).toEqual({ wall: 6000, logical: 0 });

    expect(await collectTombstones(kv, 5500)).toMatchObject({ bucketMarks: 0, kept: { bucketMarks: 1 } });
    expect(await collectTombstones(kv, 6001)).toMatchObject({ bucketMarks: 1, kept: { bucketMarks: 0 } });
    expect(await countGoneMarkers(kv)).toBe(0);

    // late copies of that incarnation: refused, and no marker comes back
    await applyChanges(kv, [
      { kind: 'bucket-created', record: rec('b', 1000), stamp: stamp(1000) },
      { kind: 'bucket-deleted', name: 'b', createdAt: 1000, stamp: stamp(6000) },
      { kind: 'bucket-register', bucketCreatedAt: 1000, bucket: 'b', name: 'versioning', value: 'Enabled', stamp: stamp(3000) },
    ]);
    expect(await bucketIn(kv, 'b')).toBeUndefined();
    expect(await countGoneMarkers(kv)).toBe(0);
    // a newer incarnation is created as ever
    await applyChanges(kv, [{ kind: 'bucket-created', record: rec('b', 7000), stamp: stamp(7000) }]);
    expect(await bucketIn(kv, 'b')).toBeDefined();
  });

  it('a marker stored without its deletion time is read, given one by a collection, and collected after it', async () => {
    const kv = new MemoryKv();
    await kv.transact(async (tx) => tx.set(kBucketGone('old'), encode(1000)));
    expect(await kv.read((tx) => readGone(tx, 'old'))).toEqual({ createdAt: 1000 });
    // an older incarnation's change is still refused by it (not held back waiting)
    await applyChanges(kv, [{ kind: 'bucket-register', bucketCreatedAt: 900, bucket: 'old', name: 'versioning', value: 'Enabled', stamp: stamp(950) }]);
    // no clock given: it stays as it is
    expect(await collectTombstones(kv, 2000)).toMatchObject({ bucketMarks: 0, kept: { bucketMarks: 1 } });
    expect(await collectTombstones(kv, 2000, undefined, 3000)).toMatchObject({ bucketMarks: 0, kept: { bucketMarks: 1 } });
    expect(await kv.read((tx) => readGone(tx, 'old'))).toEqual({ createdAt: 1000, deletedAt: { wall: 3000, logical: 0 } });
    expect(await collectTombstones(kv, 3001, undefined, 4000)).toMatchObject({ bucketMarks: 1 });
    expect(await countGoneMarkers(kv)).toBe(0);
  });

  it('a marker whose bucket records are still being dropped stays', async () => {
    const kv = new MemoryKv();
    await kv.transact(async (tx) => tx.set(kBucket('d'), encodeBucket(rec('d', 1000))));
    await applyChanges(kv, [{ kind: 'bucket-deleted', name: 'd', createdAt: 1000, stamp: stamp(2000) }]);
    await kv.transact(async (tx) => tx.set(kDropped('d'), Buffer.alloc(0)));
    expect(await collectTombstones(kv, 5000)).toMatchObject({ bucketMarks: 0, kept: { bucketMarks: 1 } });
  });
});
