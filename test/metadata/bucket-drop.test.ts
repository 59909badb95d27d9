/**
 * Deleting a bucket with multipart uploads in progress (metadata/bucket-drop.ts) on a real
 * LMDB environment: the uploads are aborted and their parts queued for the janitor; more
 * uploads than one transaction handles go in batches; a delete a crash cut short blocks a new
 * bucket of that name (OperationAborted) and refuses parts until the janitor finishes it.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ABORT_BATCH, dropBucketBatch } from '../../metadata/bucket-drop.js';
import type { MetadataError } from '../../metadata/errors.js';
import { createMultipartLayer, type MultipartLayer } from '../../metadata/multipart.js';
import { pack, subspaceRange } from '../../metadata/tuple.js';
import { inlineObject, tempLayer, type TempLayer } from './lmdb-temp.js';

const B = 'drop-me';
let t: TempLayer;
let mp: MultipartLayer;
let blobSeq = 0;

beforeEach(async () => {
  t = await tempLayer();
  mp = createMultipartLayer(t.kv);
  await t.layer.createBucket({ name: B, owner: 'o', region: 'test-1' });
});

afterEach(() => t?.cleanup());

const upload = (key: string) => mp.createUpload({ bucket: B, key, owner: 'o', headers: {}, userMetadata: {} });
const part = (n: number) => ({ partNumber: n, size: 10, etag: 'e'.repeat(32), checksums: {}, lastModified: 1, blobId: (++blobSeq).toString(16).padStart(24, '0'), node: 'n1' });
const uploadsOf = async (bucket: string) => (await mp.listUploads({ bucket, maxUploads: 1000 })).uploads;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as MetadataError).code;
  }
  return 'ok';
}

describe('deleteBucket with uploads in progress', () => {
  it('aborts them; their parts become garbage once the janitor releases them', async () => {
    const a = await upload('a');
    await upload('b');
    const p = part(1);
    await mp.putPart(B, 'a', a.uploadId, p);
    await t.layer.deleteBucket(B);
    expect(await code(t.layer.getBucket(B))).toBe('NoSuchBucket');
    expect(await code(mp.getUpload(B, 'a', a.uploadId))).toBe('NoSuchUpload');
    expect(await code(mp.putPart(B, 'a', a.uploadId, part(2)))).toBe('NoSuchUpload');
    await mp.releaseQueued();
    expect(await t.layer.isBlobReferenced(p.blobId)).toBe(false);
    expect((await t.layer.garbage(100)).map((g) => g.blobId)).toContain(p.blobId);
    // the name is free, and the new bucket has no uploads
    await t.layer.createBucket({ name: B, owner: 'o2', region: 'test-1' });
    expect(await uploadsOf(B)).toEqual([]);
  });

  it('an object left: BucketNotEmpty, and the uploads stay', async () => {
    const a = await upload('a');
    await t.layer.putObject(inlineObject('k', 'x', B));
    expect(await code(t.layer.deleteBucket(B))).toBe('BucketNotEmpty');
    expect((await uploadsOf(B)).map((u) => u.uploadId)).toEqual([a.uploadId]);
  });

  it(`${ABORT_BATCH + 3} uploads are aborted in bounded batches`, async () => {
    for (let i = 0; i < ABORT_BATCH + 3; i++) await upload(`k${String(i).padStart(4, '0')}`);
    await t.layer.deleteBucket(B);
    await t.layer.createBucket({ name: B, owner: 'o', region: 'test-1' });
    expect(await uploadsOf(B)).toEqual([]);
  });

  it('cut short by a crash: the name stays taken and parts are refused until the janitor finishes', async () => {
    const ids: string[] = [];
    for (let i = 0; i < ABORT_BATCH + 2; i++) ids.push((await upload(`k${String(i).padStart(4, '0')}`)).uploadId);
    // what deleteBucket's first transaction does, without the batches after it
    const more = await t.kv.transact(async (tx) => {
      tx.clear(pack(['b', B]));
      return dropBucketBatch(tx, B);
    });
    expect(more).toBe(true);
    const last = `k${String(ABORT_BATCH + 1).padStart(4, '0')}`;
    expect((await mp.getUpload(B, last, ids.at(-1)!)).state).toBe('open');
    expect(await code(mp.putPart(B, last, ids.at(-1)!, part(1)))).toBe('NoSuchUpload');
    expect(await code(t.layer.createBucket({ name: B, owner: 'o', region: 'test-1' }))).toBe('OperationAborted');
    await mp.releaseQueued();
    await t.layer.createBucket({ name: B, owner: 'o', region: 'test-1' });
    expect(await uploadsOf(B)).toEqual([]);
  });
});

describe('deleting a bucket leaves nothing of it behind', () => {
  it('null marks and tombstones go with it, and a bucket made again in the same millisecond is a later incarnation', async () => {
    await t.layer.putObject(inlineObject('k', 'x', B));
    await t.layer.deleteObject(B, 'k'); // an unversioned DELETE leaves the key's null mark
    const first = await t.layer.getBucket(B);
    const now = vi.spyOn(Date, 'now').mockReturnValue(first.createdAt);
    try {
      await t.layer.deleteBucket(B);
      for (const space of ['nv', 't', 'v', 'c']) {
        const r = subspaceRange([space, B]);
        expect(await t.kv.read((tx) => tx.getRange(r.begin, r.end))).toEqual([]);
      }
      const again = await t.layer.createBucket({ name: B, owner: 'o', region: 'test-1' });
      expect(again.createdAt).toBeGreaterThan(first.createdAt);
    } finally {
      now.mockRestore();
    }
  });
});
