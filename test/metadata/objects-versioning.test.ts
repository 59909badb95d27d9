/**
 * Versioning in the object layer on real LMDB: Enabled keeps versions, delete markers hide a
 * key, deleting a version by id promotes the next newest, Suspended writes replace the null
 * version, copies share blobs by reference, tags live in the version. A model-based property
 * test pages through ListObjectVersions after random operations and compares with a model.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { NewObject, ObjectVersion, VersionEntry } from '../../metadata/types.js';
import { s3VersionId } from '../../metadata/version-order.js';
import { inlineObject, useBucketLayer } from './lmdb-temp.js';

const obj = inlineObject;
const blobObj = (key: string, blobId: string): NewObject => ({ ...obj(key, ''), size: 1 << 20, etag: 'e-' + blobId, body: { kind: 'blob', blobId, node: 'n1' } });
const text = (v: ObjectVersion) => Buffer.from((v.body as { data: Uint8Array }).data).toString();

async function allVersions(layer: ObjectLayer, bucket: string, maxKeys = 1000, extra: { prefix?: string; delimiter?: string } = {}) {
  const out: VersionEntry[] = [];
  const prefixes: string[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = await layer.listObjectVersions({ bucket, maxKeys, keyMarker, versionIdMarker, ...extra });
    out.push(...page.versions);
    prefixes.push(...page.commonPrefixes);
    if (!page.isTruncated) return { versions: out, prefixes };
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
  throw new Error('listing did not end');
}

describe('object versioning on LMDB', () => {
  const store = useBucketLayer({ region: 'eu-1', bucketRegion: '' });

  it('unversioned: one null version per key, listed as the latest', async () => {
    await store.layer.putObject(obj('k', 'one'));
    await store.layer.putObject(obj('k', 'two'));
    const { versions } = await allVersions(store.layer, 'bkt');
    expect(versions.map((e) => [e.version.key, s3VersionId(e.version), e.isLatest])).toEqual([['k', 'null', true]]);
    expect(text(await store.layer.getObject('bkt', 'k', 'null'))).toBe('two');
  });

  it('enabled: versions kept, marker hides the key, deleting versions promotes the next newest', async () => {
    await store.layer.putObject(obj('k', 'pre')); // the null version from before versioning
    await store.layer.setBucketVersioning('bkt', 'Enabled');
    const v1 = await store.layer.putObject(obj('k', 'one'));
    const v2 = await store.layer.putObject(obj('k', 'two'));
    expect(v1.isNull).toBeUndefined();
    expect(text(await store.layer.getObject('bkt', 'k'))).toBe('two');
    expect(text(await store.layer.getObject('bkt', 'k', v1.versionId))).toBe('one');
    expect(text(await store.layer.getObject('bkt', 'k', 'null'))).toBe('pre');

    const del = await store.layer.deleteObject('bkt', 'k');
    expect(del.deleteMarker).toBe(true);
    await expect(store.layer.getObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey', deleteMarker: { versionId: del.versionId } });
    await expect(store.layer.getObject('bkt', 'k', del.versionId)).rejects.toMatchObject({ code: 'MethodNotAllowed' });
    expect((await store.layer.listObjects({ bucket: 'bkt', maxKeys: 10 })).contents).toEqual([]);
    const listed = (await allVersions(store.layer, 'bkt')).versions;
    expect(listed.map((e) => [s3VersionId(e.version), e.version.deleteMarker, e.isLatest])).toEqual([
      [del.versionId, true, true],
      [v2.versionId, false, false],
      [v1.versionId, false, false],
      ['null', false, false],
    ]);

    // removing the marker brings v2 back; removing v2 (current) makes v1 current
    expect(await store.layer.deleteObject('bkt', 'k', del.versionId)).toEqual({ key: 'k', versionId: del.versionId, deleteMarker: true });
    expect(text(await store.layer.getObject('bkt', 'k'))).toBe('two');
    await store.layer.deleteObject('bkt', 'k', v2.versionId);
    expect(text(await store.layer.getObject('bkt', 'k'))).toBe('one');
    expect((await store.layer.listObjects({ bucket: 'bkt', maxKeys: 10 })).contents.map((c) => c.etag)).toEqual(['etag-one']);
    await store.layer.deleteObject('bkt', 'k', 'null');
    await store.layer.deleteObject('bkt', 'k', v1.versionId);
    await expect(store.layer.getObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
    await store.layer.deleteBucket('bkt');
  });

  it('suspended: puts and deletes replace the null version wherever it sits', async () => {
    await store.layer.setBucketVersioning('bkt', 'Enabled');
    const v1 = await store.layer.putObject(obj('k', 'one'));
    await store.layer.setBucketVersioning('bkt', 'Suspended');
    const n1 = await store.layer.putObject(obj('k', 'null-1'));
    expect(n1.isNull).toBe(true);
    await store.layer.setBucketVersioning('bkt', 'Enabled');
    const v2 = await store.layer.putObject(obj('k', 'two'));
    await store.layer.setBucketVersioning('bkt', 'Suspended');
    await store.layer.putObject(obj('k', 'null-2'));
    let ids = (await allVersions(store.layer, 'bkt')).versions.map((e) => s3VersionId(e.version));
    expect(ids).toEqual(['null', v2.versionId, v1.versionId]);
    expect(text(await store.layer.getObject('bkt', 'k'))).toBe('null-2');
    const del = await store.layer.deleteObject('bkt', 'k');
    expect(del).toEqual({ key: 'k', versionId: 'null', deleteMarker: true });
    ids = (await allVersions(store.layer, 'bkt')).versions.map((e) => s3VersionId(e.version));
    expect(ids).toEqual(['null', v2.versionId, v1.versionId]);
    await expect(store.layer.getObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
  });

  it('blob references: versions and copies share a blob; it becomes garbage after the last one goes', async () => {
    await store.layer.setBucketVersioning('bkt', 'Enabled');
    const v1 = await store.layer.putObject(blobObj('k', 'B1'));
    await store.layer.putObject(obj('k', 'small'));
    expect(await store.layer.isBlobReferenced('B1')).toBe(true); // the old version keeps it
    await store.layer.createBucket({ name: 'other', owner: 'AK1', region: '' });
    const { version: copy } = await store.layer.copyObject({
      source: { bucket: 'bkt', key: 'k', versionId: v1.versionId },
      bucket: 'other',
      key: 'copy',
      owner: 'AK1',
      derive: (s) => ({ headers: s.headers, userMetadata: { from: 'copy' } }),
    });
    expect(copy.body).toEqual({ kind: 'blob', blobId: 'B1', node: 'n1' });
    await store.layer.deleteObject('bkt', 'k', v1.versionId);
    expect(await store.layer.isBlobReferenced('B1')).toBe(true);
    expect(await store.layer.garbage(10)).toEqual([]);
    await store.layer.deleteObject('other', 'copy');
    expect(await store.layer.garbage(10)).toEqual([{ blobId: 'B1', node: 'n1' }]);
  });

  it('copy of an object onto itself on an unversioned bucket keeps its blob', async () => {
    await store.layer.putObject(blobObj('k', 'B2'));
    await store.layer.copyObject({ source: { bucket: 'bkt', key: 'k' }, bucket: 'bkt', key: 'k', owner: 'AK1', derive: () => ({ headers: { contentType: 'x/y' }, userMetadata: {} }) });
    expect(await store.layer.isBlobReferenced('B2')).toBe(true);
    expect(await store.layer.garbage(10)).toEqual([]);
    expect((await store.layer.getObject('bkt', 'k')).headers.contentType).toBe('x/y');
  });

  it('tags: set on current and on an older version, kept per version', async () => {
    await store.layer.setBucketVersioning('bkt', 'Enabled');
    const v1 = await store.layer.putObject({ ...obj('k', 'one'), tags: { a: '1' } });
    await store.layer.putObject(obj('k', 'two'));
    expect((await store.layer.getObject('bkt', 'k', v1.versionId)).tags).toEqual({ a: '1' });
    await store.layer.setObjectTags('bkt', 'k', undefined, { b: '2' });
    expect((await store.layer.getObject('bkt', 'k')).tags).toEqual({ b: '2' });
    expect((await store.layer.listObjects({ bucket: 'bkt', maxKeys: 1 })).contents[0]!.tags).toEqual({ b: '2' });
    await store.layer.setObjectTags('bkt', 'k', v1.versionId, {});
    expect((await store.layer.getObject('bkt', 'k', v1.versionId)).tags).toBeUndefined();
  });

  it('listing versions: prefix, delimiter, markers that land mid-key', async () => {
    await store.layer.setBucketVersioning('bkt', 'Enabled');
    for (const k of ['a', 'd/1', 'd/2', 'e']) for (let i = 0; i < 3; i++) await store.layer.putObject(obj(k, k + i));
    const all = await allVersions(store.layer, 'bkt', 1000, { delimiter: '/' });
    expect(all.prefixes).toEqual(['d/']);
    expect(all.versions.map((e) => e.version.key)).toEqual(['a', 'a', 'a', 'e', 'e', 'e']);
    for (const n of [1, 2, 4]) {
      const paged = await allVersions(store.layer, 'bkt', n, { delimiter: '/' });
      expect(paged).toEqual(all);
    }
    const d = await allVersions(store.layer, 'bkt', 2, { prefix: 'd/' });
    expect(d.versions.map((e) => [e.version.key, e.isLatest])).toEqual([
      ['d/1', true], ['d/1', false], ['d/1', false], ['d/2', true], ['d/2', false], ['d/2', false],
    ]);
  });

  it('property: after random puts, deletes and state changes, paged version listing matches a model', async () => {
    type M = { id: string; marker: boolean; isNull: boolean; text: string };
    const op = fc.oneof(
      fc.record({ t: fc.constant('put' as const), k: fc.constantFrom('a', 'b/x', 'b/y', 'c') }),
      fc.record({ t: fc.constant('del' as const), k: fc.constantFrom('a', 'b/x', 'c') }),
      fc.record({ t: fc.constant('delv' as const), k: fc.constantFrom('a', 'b/x', 'b/y'), i: fc.nat(5) }),
      fc.record({ t: fc.constant('state' as const), s: fc.constantFrom('Enabled' as const, 'Suspended' as const) }),
    );
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.integer({ min: 1, max: 5 }), async (ops, pageSize) => {
        const bucket = `p${round++}`;
        await store.layer.createBucket({ name: bucket, owner: 'AK1', region: '' });
        let state: 'Unversioned' | 'Enabled' | 'Suspended' = 'Unversioned';
        const model = new Map<string, M[]>(); // newest first
        const stack = (k: string) => model.get(k) ?? (model.set(k, []), model.get(k)!);
        let n = 0;
        for (const o of ops) {
          if (o.t === 'state') {
            state = o.s;
            await store.layer.setBucketVersioning(bucket, o.s);
          } else if (o.t === 'put') {
            const t = `v${n++}`;
            const v = await store.layer.putObject(obj(o.k, t, bucket));
            const s = stack(o.k).filter((m) => state === 'Enabled' || !m.isNull);
            model.set(o.k, [{ id: s3VersionId(v), marker: false, isNull: state !== 'Enabled', text: t }, ...s]);
          } else if (o.t === 'del') {
            const r = await store.layer.deleteObject(bucket, o.k);
            if (state === 'Unversioned') model.set(o.k, []);
            else {
              const s = stack(o.k).filter((m) => state === 'Enabled' || !m.isNull);
              model.set(o.k, [{ id: r.versionId!, marker: true, isNull: state === 'Suspended', text: '' }, ...s]);
            }
          } else {
            const s = stack(o.k);
            const victim = s[o.i % Math.max(1, s.length)];
            if (!victim) continue;
            await store.layer.deleteObject(bucket, o.k, victim.id);
            model.set(o.k, s.filter((m) => m !== victim));
          }
        }
        const expected = [...model.keys()].sort().flatMap((k) => model.get(k)!.map((m, i) => [k, m.id, m.marker, i === 0]));
        const got = (await allVersions(store.layer, bucket, pageSize)).versions.map((e) => [e.version.key, s3VersionId(e.version), e.version.deleteMarker, e.isLatest]);
        expect(got).toEqual(expected);
        for (const [k, s] of model) {
          if (s[0] && !s[0].marker) expect(text(await store.layer.getObject(bucket, k))).toBe(s[0].text);
          else await expect(store.layer.getObject(bucket, k)).rejects.toMatchObject({ code: 'NoSuchKey' });
        }
        const listed = (await store.layer.listObjects({ bucket, maxKeys: 1000 })).contents.map((c) => c.key);
        expect(listed).toEqual([...model.keys()].filter((k) => model.get(k)![0] && !model.get(k)![0]!.marker).sort());
      }),
      { numRuns: 60 },
    );
  });
});
