import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { NewObject, ObjectVersion } from '../../metadata/types.js';
import { tempLayer } from './lmdb-temp.js';

const obj = (bucket: string, key: string, text: string): NewObject => ({
  bucket,
  key,
  size: Buffer.byteLength(text),
  etag: 'etag-' + text,
  owner: 'AK1',
  headers: { contentType: 'text/plain' },
  userMetadata: { color: 'blue' },
  checksums: { CRC32: 'AAAAAA==' },
  body: { kind: 'inline', data: Buffer.from(text) },
});

const text = (v: ObjectVersion) => Buffer.from((v.body as { data: Uint8Array }).data).toString();

/** what a version looks like apart from its id and time, which differ between two writes */
const shape = ({ versionId: _v, hlc: _h, lastModified: _l, ...rest }: ObjectVersion) => rest;

/** putObjects (bulk load) must leave what putObject leaves: one layer written each way */
describe('ObjectLayer.putObjects', () => {
  let bulk: Awaited<ReturnType<typeof tempLayer>>;
  let single: Awaited<ReturnType<typeof tempLayer>>;
  beforeEach(async () => {
    bulk = await tempLayer('eu-1');
    single = await tempLayer('eu-1');
    for (const l of [bulk.layer, single.layer]) await l.createBucket({ name: 'bkt', owner: 'AK1', region: '' });
  });
  afterEach(async () => {
    await bulk.cleanup();
    await single.cleanup();
  });

  const both = async (fn: (l: ObjectLayer) => Promise<unknown>) => [await fn(bulk.layer), await fn(single.layer)] as const;

  it('objects read, list and list as versions exactly as ones put one by one', async () => {
    const objs = ['b/2', 'a', 'b/1', 'c'].map((k) => obj('bkt', k, 'body of ' + k));
    const returned = await bulk.layer.putObjects(objs);
    for (const o of objs) await single.layer.putObject(o);

    expect(returned.map((v) => v.key)).toEqual(['b/2', 'a', 'b/1', 'c']);
    for (const k of ['a', 'b/1', 'b/2', 'c']) {
      const [x, y] = await both((l) => l.getObject('bkt', k));
      expect(shape(x as ObjectVersion)).toEqual(shape(y as ObjectVersion));
      expect(text(x as ObjectVersion)).toBe('body of ' + k);
    }
    const [lx, ly] = await both((l) => l.listObjects({ bucket: 'bkt', delimiter: '/', maxKeys: 1000 }));
    const page = (p: unknown) => {
      const q = p as Awaited<ReturnType<ObjectLayer['listObjects']>>;
      return { ...q, contents: q.contents.map(shape) };
    };
    expect(page(lx)).toEqual(page(ly));
    expect(page(lx).contents.map((c) => c.key)).toEqual(['a', 'c']);
    const [vx, vy] = await both((l) => l.listObjectVersions({ bucket: 'bkt', maxKeys: 1000 }));
    const versions = (p: unknown) => (p as Awaited<ReturnType<ObjectLayer['listObjectVersions']>>).versions.map((e) => ({ ...e, version: shape(e.version) }));
    expect(versions(vx)).toEqual(versions(vy));
    expect(versions(vx)).toHaveLength(4);
  });

  it('replaces the null version on an unversioned bucket and keeps history on a versioned one', async () => {
    await bulk.layer.putObject(obj('bkt', 'k', 'old'));
    await bulk.layer.putObjects([obj('bkt', 'k', 'new')]);
    expect((await bulk.layer.listObjectVersions({ bucket: 'bkt', maxKeys: 1000 })).versions).toHaveLength(1);
    expect((await bulk.layer.getObject('bkt', 'k')).etag).toBe('etag-new');

    await bulk.layer.setBucketVersioning('bkt', 'Enabled');
    await bulk.layer.putObjects([obj('bkt', 'k', 'v2'), obj('bkt', 'k', 'v3')]);
    const vs = (await bulk.layer.listObjectVersions({ bucket: 'bkt', maxKeys: 1000 })).versions;
    expect(vs.map((e) => [e.version.etag, e.isLatest])).toEqual([
      ['etag-v3', true],
      ['etag-v2', false],
      ['etag-new', false],
    ]);
  });

  it('is one transaction: a missing bucket anywhere in the batch writes nothing', async () => {
    await expect(bulk.layer.putObjects([obj('bkt', 'x', '1'), obj('nope', 'y', '2')])).rejects.toMatchObject({ code: 'NoSuchBucket' });
    expect((await bulk.layer.listObjects({ bucket: 'bkt', maxKeys: 1000 })).contents).toEqual([]);
  });
});
