/**
 * The tombstone horizon's parts: outbox low-water marks, their minimum over every pair of
 * regions (none when a region is missing), and a collection that raises the horizon before it
 * removes what lies under it — after which a version older than the horizon is refused.
 */
import { describe, expect, it } from 'vitest';
import type { Change } from '../../../metadata/changes.js';
import { encodeBucket } from '../../../metadata/records.js';
import { collectTombstones, countTombstones } from '../../../metadata/tombstone-collect.js';
import { readHorizon } from '../../../metadata/tombstone-horizon.js';
import { makeVersionId } from '../../../metadata/version-id.js';
import { kBucket, kTombstone, kVersion } from '../../../metadata/version-store.js';
import { applyChanges } from '../../../replication/apply.js';
import { globalMark, lowWaterMarks, type LowWaterMarks } from '../../../replication/repair/horizon.js';
import { HybridClock } from '../../../metadata/hlc.js';
import { createObjectLayer } from '../../../metadata/objects.js';
import { MemoryKv } from '../../helpers/memory-kv.js';

const id = (wall: number) => makeVersionId({ wall, logical: 0 }, 'iad', null);

function put(wall: number): Change {
  return {
    kind: 'version',
    bucketCreatedAt: 1,
    version: { bucket: 'b', key: 'k', versionId: id(wall), hlc: { wall, logical: 0 }, region: 'iad', deleteMarker: false, size: 1, etag: 'e', lastModified: wall, owner: 'o', headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'inline', data: Buffer.from('x') } },
  };
}

describe('tombstone horizon', () => {
  it('a low-water mark is the oldest pending entry, or the clock less the in-flight margin', async () => {
    const pending: Record<string, string[]> = { fra: ['00000000100000000000.version.x.y'], sin: [] };
    const src = { pendingIds: async (d: string) => pending[d] ?? [] };
    expect(await lowWaterMarks(src, ['fra', 'sin'], 10_000, 500)).toEqual({ fra: 0x1000, sin: 9_500 });
  });

  it('the global mark is the minimum over every pair, and none while a region is missing', () => {
    const regions = ['iad', 'fra', 'sin'];
    const all = new Map<string, LowWaterMarks | undefined>([
      ['iad', { fra: 50, sin: 70 }],
      ['fra', { iad: 40, sin: 90 }],
      ['sin', { iad: 60, fra: 80 }],
    ]);
    expect(globalMark(regions, all)).toBe(40);
    expect(globalMark(regions, new Map([...all, ['sin', undefined]]))).toBeUndefined();
    expect(globalMark(regions, new Map([...all, ['sin', { iad: 60 }]]))).toBeUndefined();
  });

  it('collection raises the horizon first; a late copy of a collected version is refused, a newer version is not', async () => {
    const kv = new MemoryKv();
    await kv.transact(async (tx) => tx.set(kBucket('b'), encodeBucket({ name: 'b', owner: 'o', createdAt: 1, region: 'iad', versioning: 'Enabled', acl: 'private' })));
    await applyChanges(kv, [put(1000), { kind: 'purge', bucketCreatedAt: 1, bucket: 'b', key: 'k', versionId: id(1000), stamp: id(1001) }]);
    expect(await kv.read((tx) => tx.get(kTombstone('b', 'k', id(1000))))).toBeDefined();
    const c = await collectTombstones(kv, 2000);
    expect(c).toMatchObject({ horizon: 2000, tombstones: 1, kept: { tombstones: 0, nullMarks: 0 } });
    expect(await countTombstones(kv)).toEqual({ tombstones: 0, erasedMarks: 0 });
    // a lower horizon asked later changes nothing: it only grows
    expect((await collectTombstones(kv, 1500)).horizon).toBe(2000);
    expect(await kv.read((tx) => readHorizon(tx))).toBe(2000);
    await applyChanges(kv, [put(1000), put(3000)]);
    expect(await kv.read((tx) => tx.get(kVersion('b', 'k', id(1000))))).toBeUndefined();
    expect(await kv.read((tx) => tx.get(kVersion('b', 'k', id(3000))))).toBeDefined();
  });

  it('a process whose clock is behind the horizon still writes versions that are kept', async () => {
    const kv = new MemoryKv();
    await kv.transact(async (tx) => tx.set(kBucket('b'), encodeBucket({ name: 'b', owner: 'o', createdAt: 1, region: 'iad', versioning: 'Enabled', acl: 'private' })));
    await collectTombstones(kv, 2000);
    const layer = createObjectLayer(kv, { region: 'iad', clock: new HybridClock(() => 500) });
    const v = await layer.putObject({ bucket: 'b', key: 'fresh', size: 1, etag: 'e', owner: 'o', headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'inline', data: Buffer.from('x') } });
    expect(v.hlc.wall).toBeGreaterThanOrEqual(2000);
    expect(await kv.read((tx) => tx.get(kVersion('b', 'fresh', v.versionId)))).toBeDefined();
  });
});
