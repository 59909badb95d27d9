/**
 * Deletes guarded by `ifCurrent` (what the lifecycle job uses): a delete decided from a
 * listing removes the version it saw, never a write that replaced it since.
 */
import { describe, expect, it } from 'vitest';
import { inlineObject, useBucketLayer } from './lmdb-temp.js';

const obj = inlineObject;

describe('deleteObjects with ifCurrent', () => {
  const store = useBucketLayer();

  it('unversioned: skips a key overwritten after it was listed, deletes one that was not', async () => {
    const { layer } = store;
    const seenA = await layer.putObject(obj('a', 'old'));
    const seenB = await layer.putObject(obj('b', 'only'));
    await layer.putObject(obj('a', 'new')); // lands between the listing and the delete
    const res = await layer.deleteObjects('bkt', [
      { key: 'a', ifCurrent: seenA.versionId },
      { key: 'b', ifCurrent: seenB.versionId },
    ]);
    expect(res[0]).toMatchObject({ key: 'a', skipped: true });
    expect(res[1]).not.toHaveProperty('skipped');
    const a = await layer.getObject('bkt', 'a');
    expect(Buffer.from((a.body as { data: Uint8Array }).data).toString()).toBe('new');
    await expect(layer.getObject('bkt', 'b')).rejects.toMatchObject({ code: 'NoSuchKey' });
  });

  it('versioned: no delete marker hides a version written after the listing', async () => {
    const { layer } = store;
    await layer.setBucketVersioning('bkt', 'Enabled');
    const seen = await layer.putObject(obj('k', 'v1'));
    const newer = await layer.putObject(obj('k', 'v2'));
    const [skipped] = await layer.deleteObjects('bkt', [{ key: 'k', ifCurrent: seen.versionId }]);
    expect(skipped).toMatchObject({ skipped: true });
    expect((await layer.getObject('bkt', 'k')).versionId).toBe(newer.versionId);
    const [marked] = await layer.deleteObjects('bkt', [{ key: 'k', ifCurrent: newer.versionId }]);
    expect(marked).toMatchObject({ deleteMarker: true });
    await expect(layer.getObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
  });

  it('an absent key is skipped, not an error', async () => {
    const [r] = await store.layer.deleteObjects('bkt', [{ key: 'gone', ifCurrent: 'whatever' }]);
    expect(r).toMatchObject({ key: 'gone', skipped: true });
  });
});
