/**
 * A region's process can restart with its clock behind what the region has already seen (its
 * clock had moved past its wall clock to follow a region ahead of it; the new process starts
 * from the wall clock). Its next write of a key must still sort after everything the key has
 * seen — not only the versions stored, but the null mark an unversioned DELETE left and the
 * versions deleted for good — or the merge drops the write in every other region while it
 * stays here: an acknowledged write lost, and regions that never converge.
 */
import { describe, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import { HybridClock } from '../../metadata/hlc.js';
import type { KvStore } from '../../metadata/kv.js';
import { createObjectLayer } from '../../metadata/objects.js';
import { encodeBucket } from '../../metadata/records.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { kBucket } from '../../metadata/version-store.js';
import { applyChanges } from '../../replication/apply.js';
import { MemoryKv } from '../helpers/memory-kv.js';
import { inlineObject } from './lmdb-temp.js';

const CREATED = 1_000;
const AHEAD = 50_000;
const BEHIND = 10_000;

async function withBucket(versioning: 'Enabled' | 'Unversioned'): Promise<KvStore> {
  const kv = new MemoryKv();
  await kv.transact(async (tx) => tx.set(kBucket('bkt'), encodeBucket({ name: 'bkt', owner: 'AK1', createdAt: CREATED, region: 'fra', versioning, acl: 'private' })));
  return kv;
}

function nullVersion(wall: number, opts: { erase?: boolean } = {}): Change {
  const hlc = { wall, logical: 0 };
  return {
    kind: 'version',
    bucketCreatedAt: CREATED,
    ...(opts.erase ? { erase: true as const } : {}),
    version: {
      bucket: 'bkt', key: 'k', versionId: makeVersionId(hlc, 'fra', null), hlc, region: 'fra', deleteMarker: false, size: 1, etag: 'e',
      lastModified: wall, owner: 'AK1', headers: {}, userMetadata: {}, checksums: {},
      isNull: true,
      ...(opts.erase ? {} : { body: { kind: 'inline' as const, data: Buffer.from('x') } }),
    },
  };
}

/** the layer of a process that has just started: a clock that has seen nothing, behind the others */
const restarted = (kv: KvStore) => createObjectLayer(kv, { region: 'iad', clock: new HybridClock(() => BEHIND) });

describe('a write after a restart with the clock behind', () => {
  it('an unversioned PUT sorts after the null mark of a DELETE it has seen', async () => {
    const kv = await withBucket('Unversioned');
    // from a region whose clock runs ahead: a PUT, then the unversioned DELETE of it
    await applyChanges(kv, [nullVersion(AHEAD), nullVersion(AHEAD + 1, { erase: true })]);
    const v = await restarted(kv).putObject(inlineObject('k', 'new', 'bkt'));
    expect(v.versionId < makeVersionId({ wall: AHEAD + 1, logical: 0 }, 'fra', null)).toBe(true);
  });

  it('a versioned PUT never takes the id of a version deleted for good', async () => {
    const kv = await withBucket('Enabled');
    // the last run, its clock ahead (it followed a region ahead): two versions
    const before = createObjectLayer(kv, { region: 'iad', clock: new HybridClock(() => AHEAD) });
    await before.putObject(inlineObject('k', 'one', 'bkt'));
    const gone = await before.putObject(inlineObject('k', 'two', 'bkt'));
    // the second is deleted for good (here from another region: it leaves a tombstone)
    await applyChanges(kv, [{ kind: 'purge', bucketCreatedAt: CREATED, bucket: 'bkt', key: 'k', versionId: gone.versionId, stamp: makeVersionId({ wall: AHEAD + 1, logical: 0 }, 'fra', null) }]);
    const v = await restarted(kv).putObject(inlineObject('k', 'new', 'bkt'));
    // the same id would be dropped by every other region as the version deleted for good
    expect(v.versionId).not.toBe(gone.versionId);
    expect(v.versionId < gone.versionId).toBe(true);
  });
});
