/**
 * Object ACL records live beside the version they belong to: they are written only while the
 * version exists, and go when it goes, so none outlives its version.
 */
import { beforeEach, expect, it } from 'vitest';
import { createBucketConfigStore, type BucketConfigStore } from '../../metadata/bucket-config.js';
import { subspaceRange } from '../../metadata/tuple.js';
import { inlineObject, useBucketLayer } from './lmdb-temp.js';

const obj = inlineObject;

const store = useBucketLayer();
let configs: BucketConfigStore;

beforeEach(async () => {
  configs = createBucketConfigStore(store.env.kv, { region: 'test-1' });
  await store.layer.setBucketVersioning('bkt', 'Enabled');
});

async function aclRecords(): Promise<number> {
  const r = subspaceRange(['oa', 'bkt']);
  return store.env.kv.read(async (tx) => (await tx.getRange(r.begin, r.end)).length);
}

it('an ACL for a version that was deleted is refused with NoSuchVersion and stores nothing', async () => {
  const v = await store.layer.putObject(obj('k', 'one'));
  await store.layer.deleteObject('bkt', 'k', v.versionId);
  await expect(configs.putObjectAcl('bkt', 'k', v.versionId, 'public-read')).rejects.toMatchObject({ code: 'NoSuchVersion' });
  expect(await aclRecords()).toBe(0);
});

it('an ACL on a live version is kept, and deleting the version removes it', async () => {
  const v = await store.layer.putObject(obj('k', 'one'));
  await configs.putObjectAcl('bkt', 'k', v.versionId, 'public-read');
  expect(await configs.getObjectAcl('bkt', 'k', v.versionId)).toBe('public-read');
  expect(await aclRecords()).toBe(1);
  await store.layer.deleteObject('bkt', 'k', v.versionId);
  expect(await aclRecords()).toBe(0);
});
