import { describe, expect, it } from 'vitest';
import type { NewObject } from '../../metadata/types.js';
import { parseVersionId } from '../../metadata/version-id.js';
import { useBucketLayer } from './lmdb-temp.js';

const inline = (bucket: string, key: string, text: string, etag = 'etag-' + text): NewObject => ({
  bucket,
  key,
  size: Buffer.byteLength(text),
  etag,
  owner: 'AK1',
  headers: { contentType: 'text/plain' },
  userMetadata: { color: 'blue' },
  checksums: { CRC32: 'AAAAAA==' },
  body: { kind: 'inline', data: Buffer.from(text) },
});
const blob = (bucket: string, key: string, blobId: string, etag = 'etag-' + blobId): NewObject => ({
  ...inline(bucket, key, ''),
  size: 1 << 20,
  etag,
  body: { kind: 'blob', blobId, node: 'node-a' },
});
const text = (v: { body?: { kind: string; data?: Uint8Array } }) => Buffer.from(v.body!.data!).toString();

describe('object layer on LMDB', () => {
  const store = useBucketLayer({ region: 'eu-1', bucketRegion: '' });

  describe('access keys', () => {
    it('put, get, list, delete', async () => {
      const rec = { accessKeyId: 'AK1', secretAccessKey: 's1', root: true, createdAt: 1, name: 'root' };
      await store.layer.putAccessKey(rec);
      await store.layer.putAccessKey({ accessKeyId: 'AK2', secretAccessKey: 's2', root: false, createdAt: 2 });
      expect(await store.layer.getAccessKey('AK1')).toEqual(rec);
      expect(await store.layer.getAccessKey('nope')).toBeUndefined();
      expect((await store.layer.listAccessKeys()).map((k) => k.accessKeyId)).toEqual(['AK1', 'AK2']);
      expect(await store.layer.deleteAccessKey('AK1')).toBe(true);
      expect(await store.layer.deleteAccessKey('AK1')).toBe(false);
      expect((await store.layer.listAccessKeys()).map((k) => k.accessKeyId)).toEqual(['AK2']);
    });
  });

  describe('buckets', () => {
    it('create fills defaults; get and list return it', async () => {
      const b = await store.layer.getBucket('bkt');
      expect(b).toMatchObject({ name: 'bkt', owner: 'AK1', region: 'eu-1', versioning: 'Unversioned', acl: 'private' });
      expect(b.createdAt).toBeGreaterThan(0);
      await store.layer.createBucket({ name: 'abc', owner: 'AK2', region: 'us-2' });
      expect((await store.layer.listBuckets()).map((x) => [x.name, x.region])).toEqual([
        ['abc', 'us-2'],
        ['bkt', 'eu-1'],
      ]);
    });

    it('listBucketsPage: name order from after a name, within a prefix, at most limit', async () => {
      for (const name of ['ab-1', 'ab-2', 'ab-3', 'ac-1', 'b\u00e9']) await store.layer.createBucket({ name, owner: 'AK1', region: '' });
      const page = async (input: { prefix?: string; after?: string; limit: number }) => (await store.layer.listBucketsPage(input)).map((b) => b.name);
      expect(await page({ limit: 3 })).toEqual(['ab-1', 'ab-2', 'ab-3']);
      expect(await page({ after: 'ab-2', limit: 10 })).toEqual(['ab-3', 'ac-1', 'bkt', 'b\u00e9']);
      expect(await page({ prefix: 'ab-', after: 'ab-1', limit: 10 })).toEqual(['ab-2', 'ab-3']);
      // an `after` before the prefix starts from the prefix; one past it finds nothing
      expect(await page({ prefix: 'ac', after: 'aa', limit: 10 })).toEqual(['ac-1']);
      expect(await page({ prefix: 'ab-', after: 'zz', limit: 10 })).toEqual([]);
    });

    it('already owned by you / already exists', async () => {
      await expect(store.layer.createBucket({ name: 'bkt', owner: 'AK1', region: '' })).rejects.toMatchObject({
        code: 'BucketAlreadyOwnedByYou',
      });
      await expect(store.layer.createBucket({ name: 'bkt', owner: 'AK2', region: '' })).rejects.toMatchObject({
        code: 'BucketAlreadyExists',
      });
    });

    it('delete: NoSuchBucket, BucketNotEmpty, then gone', async () => {
      await expect(store.layer.deleteBucket('nope')).rejects.toMatchObject({ code: 'NoSuchBucket' });
      await store.layer.putObject(inline('bkt', 'k', 'x'));
      await expect(store.layer.deleteBucket('bkt')).rejects.toMatchObject({ code: 'BucketNotEmpty' });
      await store.layer.deleteObject('bkt', 'k');
      await store.layer.deleteBucket('bkt');
      await expect(store.layer.getBucket('bkt')).rejects.toMatchObject({ code: 'NoSuchBucket' });
      // a deleted bucket's name is free again
      await store.layer.createBucket({ name: 'bkt', owner: 'AK2', region: '' });
    });
  });

  describe('objects', () => {
    it('put then get returns the version with its inline bytes and metadata', async () => {
      const v = await store.layer.putObject(inline('bkt', 'dir/a.txt', 'hello'));
      expect(parseVersionId(v.versionId)).toEqual({ hlc: v.hlc, region: 'eu-1' });
      const got = await store.layer.getObject('bkt', 'dir/a.txt');
      expect(text(got)).toBe('hello');
      expect(got).toMatchObject({
        bucket: 'bkt',
        key: 'dir/a.txt',
        versionId: v.versionId,
        size: 5,
        etag: 'etag-hello',
        owner: 'AK1',
        region: 'eu-1',
        deleteMarker: false,
        headers: { contentType: 'text/plain' },
        userMetadata: { color: 'blue' },
        checksums: { CRC32: 'AAAAAA==' },
      });
      expect((await store.layer.getObject('bkt', 'dir/a.txt', v.versionId)).versionId).toBe(v.versionId);
      expect((await store.layer.getObject('bkt', 'dir/a.txt', 'null')).versionId).toBe(v.versionId);
    });

    it('NoSuchKey, NoSuchVersion, NoSuchBucket', async () => {
      await expect(store.layer.getObject('bkt', 'absent')).rejects.toMatchObject({ code: 'NoSuchKey' });
      await store.layer.putObject(inline('bkt', 'k', 'x'));
      await expect(store.layer.getObject('bkt', 'k', 'ffff')).rejects.toMatchObject({ code: 'NoSuchVersion' });
      await expect(store.layer.getObject('nope', 'k')).rejects.toMatchObject({ code: 'NoSuchBucket' });
      await expect(store.layer.putObject(inline('nope', 'k', 'x'))).rejects.toMatchObject({ code: 'NoSuchBucket' });
      await expect(store.layer.deleteObject('nope', 'k')).rejects.toMatchObject({ code: 'NoSuchBucket' });
    });

    it('an overwrite replaces the version with a newer id; the old inline bytes are gone', async () => {
      const v1 = await store.layer.putObject(inline('bkt', 'k', 'one'));
      const v2 = await store.layer.putObject(inline('bkt', 'k', 'two'));
      expect(v2.versionId < v1.versionId).toBe(true); // newest sorts first
      expect(text(await store.layer.getObject('bkt', 'k'))).toBe('two');
      await expect(store.layer.getObject('bkt', 'k', v1.versionId)).rejects.toMatchObject({ code: 'NoSuchVersion' });
      const page = await store.layer.listObjects({ bucket: 'bkt', maxKeys: 10 });
      expect(page.contents.map((c) => [c.key, c.etag])).toEqual([['k', 'etag-two']]);
    });

    it('blob bookkeeping: replaced and deleted blobs become garbage, referenced ones do not', async () => {
      await store.layer.putObject(blob('bkt', 'k', 'blob-1'));
      expect(await store.layer.isBlobReferenced('blob-1')).toBe(true);
      expect(await store.layer.garbage(10)).toEqual([]);
      await store.layer.putObject(blob('bkt', 'k', 'blob-2'));
      expect(await store.layer.isBlobReferenced('blob-1')).toBe(false);
      expect(await store.layer.isBlobReferenced('blob-2')).toBe(true);
      expect(await store.layer.garbage(10)).toEqual([{ blobId: 'blob-1', node: 'node-a' }]);
      const got = await store.layer.getObject('bkt', 'k');
      expect(got.body).toEqual({ kind: 'blob', blobId: 'blob-2', node: 'node-a' });
      await store.layer.putObject(inline('bkt', 'k', 'small now'));
      await store.layer.putObject(blob('bkt', 'k2', 'blob-3'));
      await store.layer.deleteObject('bkt', 'k2');
      expect((await store.layer.garbage(10)).map((g) => g.blobId)).toEqual(['blob-1', 'blob-2', 'blob-3']);
      expect((await store.layer.garbage(2)).length).toBe(2);
      await store.layer.clearGarbage(['blob-1', 'blob-3']);
      expect((await store.layer.garbage(10)).map((g) => g.blobId)).toEqual(['blob-2']);
    });

    it('conditional writes: If-None-Match *, If-Match etag (quoted or not) and *', async () => {
      await store.layer.putObject(inline('bkt', 'k', 'one'), { ifNoneMatch: '*' });
      await expect(store.layer.putObject(inline('bkt', 'k', 'two'), { ifNoneMatch: '*' })).rejects.toMatchObject({
        code: 'PreconditionFailed',
      });
      await expect(store.layer.putObject(inline('bkt', 'k', 'two'), { ifMatch: '"wrong"' })).rejects.toMatchObject({
        code: 'PreconditionFailed',
      });
      expect(text(await store.layer.getObject('bkt', 'k'))).toBe('one');
      await store.layer.putObject(inline('bkt', 'k', 'two'), { ifMatch: '"etag-one"' });
      await store.layer.putObject(inline('bkt', 'k', 'three'), { ifMatch: 'etag-two' });
      await store.layer.putObject(inline('bkt', 'k', 'four'), { ifMatch: '*' });
      expect(text(await store.layer.getObject('bkt', 'k'))).toBe('four');
      // S3 answers If-Match on a missing key with 404 NoSuchKey
      await expect(store.layer.putObject(inline('bkt', 'new', 'x'), { ifMatch: 'etag-x' })).rejects.toMatchObject({
        code: 'NoSuchKey',
      });
      await expect(store.layer.putObject(inline('bkt', 'new', 'x'), { ifMatch: '*' })).rejects.toMatchObject({
        code: 'NoSuchKey',
      });
    });

    it('If-None-Match * lets exactly one of many concurrent creators win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.layer.putObject(inline('bkt', 'race', `w${i}`), { ifNoneMatch: '*' })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'PreconditionFailed' });
      const winner = (won[0] as PromiseFulfilledResult<{ etag: string }>).value;
      expect((await store.layer.getObject('bkt', 'race')).etag).toBe(winner.etag);
    });

    it('delete: absent keys succeed; the key disappears from get and listing', async () => {
      expect(await store.layer.deleteObject('bkt', 'absent')).toEqual({ key: 'absent', deleteMarker: false });
      await store.layer.putObject(inline('bkt', 'k', 'x'));
      expect(await store.layer.deleteObject('bkt', 'k')).toEqual({ key: 'k', versionId: 'null', deleteMarker: false });
      await expect(store.layer.getObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
      expect((await store.layer.listObjects({ bucket: 'bkt', maxKeys: 10 })).contents).toEqual([]);
    });

    it('deleteObjects: many keys across bounded transactions, one result per input in order', async () => {
      const keys = Array.from({ length: 250 }, (_, i) => `k${String(i).padStart(3, '0')}`);
      for (const k of keys) await store.layer.putObject(inline('bkt', k, k));
      const items = [...keys.map((key) => ({ key })), { key: 'never-existed' }];
      const results = await store.layer.deleteObjects('bkt', items);
      expect(results.map((r) => r.key)).toEqual(items.map((i) => i.key));
      expect((await store.layer.listObjects({ bucket: 'bkt', maxKeys: 1000 })).contents).toEqual([]);
      await store.layer.deleteBucket('bkt');
    });

    it('keys with any UTF-8, NUL and characters below "/" round-trip', async () => {
      const keys = ['a b', 'a!b', 'a\u0000b', 'é/ü', '\u{1f600}', 'x'.repeat(1024)];
      for (const k of keys) await store.layer.putObject(inline('bkt', k, k.slice(0, 10)));
      for (const k of keys) expect((await store.layer.getObject('bkt', k)).key).toBe(k);
      const page = await store.layer.listObjects({ bucket: 'bkt', maxKeys: 100 });
      expect(page.contents.map((c) => c.key)).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    });

    it('survives a reopen of the store', async () => {
      const v = await store.layer.putObject(inline('bkt', 'k', 'persisted'));
      await store.layer.putAccessKey({ accessKeyId: 'AK9', secretAccessKey: 's', root: false, createdAt: 1 });
      await store.env.reopen();
      expect(text(await store.layer.getObject('bkt', 'k'))).toBe('persisted');
      expect((await store.layer.getObject('bkt', 'k')).versionId).toBe(v.versionId);
      expect(await store.layer.getAccessKey('AK9')).toMatchObject({ secretAccessKey: 's' });
      // the new clock issues newer versions than what is stored
      expect((await store.layer.putObject(inline('bkt', 'k', 'again'))).versionId < v.versionId).toBe(true);
    });
  });
});
