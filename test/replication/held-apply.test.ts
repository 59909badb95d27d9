/**
 * A placed version stored with this region's own blob (replication/held-apply.ts), on real
 * LMDB: whether it arrives before or after the same version came by replication (naming the
 * committing region as the holder of its bytes), the region ends holding the bytes itself;
 * applying it again changes nothing, and a bucket not yet here is NotReadyError.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import { encodeBucket } from '../../metadata/records.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { kBucket } from '../../metadata/version-store.js';
import { applyChanges, NotReadyError } from '../../replication/apply.js';
import { applyHeldVersion } from '../../replication/held-apply.js';
import { tempLayer, type TempLayer } from '../metadata/lmdb-temp.js';

const CREATED = 1_700_000_000_000;
let t: TempLayer;

beforeAll(async () => {
  t = await tempLayer('iad');
  await t.kv.transact(async (tx) => tx.set(kBucket('b'), encodeBucket({ name: 'b', owner: 'AK1', createdAt: CREATED, region: 'fra', versioning: 'Unversioned', acl: 'private' })));
});
afterAll(async () => {
  await t.cleanup();
});

function placed(key: string, wall: number): Extract<Change, { kind: 'version' }> {
  return {
    kind: 'version',
    bucketCreatedAt: CREATED,
    version: {
      bucket: 'b', key, versionId: makeVersionId({ wall, logical: 0 }, 'fra', null), hlc: { wall, logical: 0 }, region: 'fra', isNull: true,
      deleteMarker: false, size: 5, etag: 'e', lastModified: wall, owner: 'AK1', headers: {}, userMetadata: {}, checksums: {}, keptIn: ['fra', 'iad'],
      body: { kind: 'remote', region: 'fra' },
    },
  };
}

const blob = { blobId: 'a'.repeat(32), node: 'n1' };

it('holds the bytes here when the placed version comes first, and replication of it afterwards changes nothing', async () => {
  const c = placed('first', CREATED + 10);
  await applyHeldVersion(t.kv, CREATED, c.version, blob);
  await applyChanges(t.kv, [c]);
  const v = await t.layer.getObject('b', 'first');
  expect(v.body).toEqual({ kind: 'blob', ...blob });
  expect(v.keptIn).toEqual(['fra', 'iad']);
});

it('switches to the bytes held here when replication brought the version first', async () => {
  const c = placed('second', CREATED + 20);
  await applyChanges(t.kv, [c]);
  expect((await t.layer.getObject('b', 'second')).body).toEqual({ kind: 'remote', region: 'fra' });
  await applyHeldVersion(t.kv, CREATED, c.version, blob);
  const v = await t.layer.getObject('b', 'second');
  expect(v.body).toEqual({ kind: 'blob', ...blob });
  expect(await t.layer.isBlobReferenced(blob.blobId)).toBe(true);
  // listed: the current index carries the held body too
  const page = await t.layer.listObjects({ bucket: 'b', maxKeys: 10 });
  expect(page.contents.find((x) => x.key === 'second')?.body).toEqual({ kind: 'blob', ...blob });
});

it('waits for a bucket that has not arrived', async () => {
  const c = placed('k', CREATED + 30);
  await expect(applyHeldVersion(t.kv, CREATED + 1, { ...c.version, bucket: 'later' }, blob)).rejects.toBeInstanceOf(NotReadyError);
});
