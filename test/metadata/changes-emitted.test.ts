/**
 * What the object layer and the bucket-config store promise to other regions: each write
 * records exactly its change in the outbox, in its own transaction (real LMDB). Local writes
 * follow the merge, so an unversioned DELETE keeps a later-arriving older PUT from coming back,
 * and a local write sorts after whatever a faster remote clock already wrote.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBucketConfigStore, type BucketConfigStore, uploadAclKind } from '../../metadata/bucket-config.js';
import type { Change } from '../../metadata/changes.js';
import { HybridClock } from '../../metadata/hlc.js';
import { createLifecycleJob } from '../../metadata/lifecycle-runner.js';
import { isNewer } from '../../metadata/merge.js';
import { Outbox, outboxSink } from '../../metadata/outbox.js';
import { decode } from '../../metadata/records.js';
import { subspaceRange } from '../../metadata/tuple.js';
import type { BucketRecord, NewObject, ObjectVersion } from '../../metadata/types.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { kNull } from '../../metadata/version-store.js';
import { applyChanges } from '../../replication/apply.js';
import { inlineObject, tempLayer, type TempLayer } from './lmdb-temp.js';

let t: TempLayer;
let configs: BucketConfigStore;
let outbox: Outbox;
let bucket: BucketRecord;
/** what creating the test's bucket recorded */
let created: Change[];

beforeEach(async () => {
  const writer = { changes: outboxSink(['fra', 'sin']), clock: new HybridClock() };
  t = await tempLayer('iad', writer);
  configs = createBucketConfigStore(t.kv, { region: 'iad', ...writer });
  outbox = new Outbox(t.kv);
  bucket = await t.layer.createBucket({ name: 'bkt', owner: 'AK1', region: 'iad' });
  created = await taken();
});
afterEach(() => t?.cleanup());

/** the changes recorded since the last call, oldest first; both other regions get the same */
async function taken(): Promise<Change[]> {
  const fra = await outbox.pending('fra', undefined, 1000);
  const sin = await outbox.pending('sin', undefined, 1000);
  expect(sin.map((e) => e.id)).toEqual(fra.map((e) => e.id));
  await outbox.ack('fra', fra.map((e) => e.id));
  await outbox.ack('sin', sin.map((e) => e.id));
  return fra.map((e) => e.change);
}

const blobObject = (key: string, blobId: string): NewObject => ({ ...inlineObject(key, ''), size: 1 << 20, etag: 'e-' + blobId, body: { kind: 'blob', blobId, node: 'n1' } });
const versionChange = (v: ObjectVersion, body: unknown, extra: object = {}): Change =>
  ({ kind: 'version', bucketCreatedAt: bucket.createdAt, version: { ...v, ...(body === undefined ? {} : { body }) }, ...extra }) as Change;
const remoteIad = { kind: 'remote', region: 'iad' };

async function enableVersioning(): Promise<void> {
  await t.layer.setBucketVersioning('bkt', 'Enabled');
  await taken();
}

describe('changes the object layer records', () => {
  it('creating and deleting a bucket record its incarnation (in a cluster only the control region does either)', async () => {
    expect(created).toEqual([{ kind: 'bucket-created', record: bucket, stamp: expect.any(String) }]);
    await t.layer.deleteBucket('bkt');
    expect(await taken()).toEqual([{ kind: 'bucket-deleted', name: 'bkt', createdAt: bucket.createdAt, stamp: expect.any(String) }]);
  });

  it('a PUT: its version, inline bytes travelling with it', async () => {
    const v = await t.layer.putObject(inlineObject('k', 'hello'));
    expect(await taken()).toEqual([versionChange(v, { kind: 'inline', data: Buffer.from('hello') })]);
    expect(v.isNull).toBe(true);
  });

  it('a blob PUT and a multipart completion: bytes stay here, named by this region', async () => {
    const a = await t.layer.putObject(blobObject('a', 'blob-1'));
    const b = await t.layer.putObject({ ...inlineObject('b', ''), size: 10 << 20, body: { kind: 'parts', uploadId: 'up-1', partCount: 2 } });
    expect(await taken()).toEqual([versionChange(a, remoteIad), versionChange(b, remoteIad)]);
  });

  it('a copy: the new version (inline bytes copied, a blob named by this region)', async () => {
    await t.layer.putObject(inlineObject('src', 'abc'));
    await t.layer.putObject(blobObject('big', 'blob-2'));
    await taken();
    const derive = (s: ObjectVersion) => ({ headers: s.headers, userMetadata: s.userMetadata });
    const c1 = await t.layer.copyObject({ source: { bucket: 'bkt', key: 'src' }, bucket: 'bkt', key: 'dst', owner: 'AK1', derive });
    const c2 = await t.layer.copyObject({ source: { bucket: 'bkt', key: 'big' }, bucket: 'bkt', key: 'dst2', owner: 'AK1', derive });
    expect(await taken()).toEqual([
      versionChange(c1.version, { kind: 'inline', data: Buffer.from('abc') }),
      versionChange(c2.version, remoteIad),
    ]);
  });

  it('a DELETE on a versioned bucket: the delete marker', async () => {
    await enableVersioning();
    await t.layer.putObject(inlineObject('k', 'x'));
    await taken();
    const del = await t.layer.deleteObject('bkt', 'k');
    const [c] = await taken();
    expect(c).toMatchObject({ kind: 'version', bucketCreatedAt: bucket.createdAt, version: { key: 'k', versionId: del.versionId, deleteMarker: true } });
    expect((c as Extract<Change, { kind: 'version' }>).version.body).toBeUndefined();
  });

  it('DELETE and DeleteObjects with a version id: a purge stamped after the version', async () => {
    await enableVersioning();
    const v1 = await t.layer.putObject(inlineObject('k', 'one'));
    const v2 = await t.layer.putObject(inlineObject('k', 'two'));
    const v3 = await t.layer.putObject(inlineObject('j', 'three'));
    await taken();
    await t.layer.deleteObject('bkt', 'k', v1.versionId);
    await t.layer.deleteObjects('bkt', [{ key: 'k', versionId: v2.versionId }, { key: 'j', versionId: v3.versionId }, { key: 'j', versionId: 'null' }]);
    const got = await taken();
    expect(got.map((c) => c.kind === 'purge' && [c.bucketCreatedAt, c.bucket, c.key, c.versionId])).toEqual([
      [bucket.createdAt, 'bkt', 'k', v1.versionId],
      [bucket.createdAt, 'bkt', 'k', v2.versionId],
      [bucket.createdAt, 'bkt', 'j', v3.versionId],
    ]);
    for (const c of got) if (c.kind === 'purge') expect(isNewer(c.stamp, c.versionId)).toBe(true);
  });

  it('a version another region may still be sending: deleting it by id leaves a tombstone and a purge', async () => {
    await enableVersioning();
    const id = makeVersionId({ wall: Date.now() - 1000, logical: 0 }, 'sin', null);
    await t.layer.deleteObject('bkt', 'k', id);
    expect(await taken()).toMatchObject([{ kind: 'purge', key: 'k', versionId: id }]);
    // when it arrives, it stays deleted
    await applyChanges(t.kv, [remoteVersion('k', id, 'late')]);
    await expect(t.layer.getObject('bkt', 'k', id)).rejects.toMatchObject({ code: 'NoSuchVersion' });
    // an id far in the future is no version anyone wrote: nothing is recorded
    await t.layer.deleteObject('bkt', 'k', makeVersionId({ wall: Date.now() + 86_400_000, logical: 0 }, 'sin', null));
    expect(await taken()).toEqual([]);
  });

  it('an unversioned DELETE: a null change that erases, and an older PUT arriving later stays deleted', async () => {
    const put = await t.layer.putObject(inlineObject('k', 'mine'));
    // another region's PUT of the same key, made after ours but before our DELETE
    const theirs = makeVersionId({ wall: put.hlc.wall, logical: put.hlc.logical + 1 }, 'sin', null);
    await taken();
    const del = await t.layer.deleteObject('bkt', 'k');
    expect(del).toEqual({ key: 'k', versionId: 'null', deleteMarker: false });
    const [c] = await taken();
    expect(c).toMatchObject({ kind: 'version', erase: true, bucketCreatedAt: bucket.createdAt, version: { key: 'k', isNull: true, deleteMarker: false } });
    const eraser = (c as Extract<Change, { kind: 'version' }>).version;
    expect(eraser.body).toBeUndefined();
    expect(isNewer(eraser.versionId, theirs)).toBe(true);
    // the key's null mark moved to the erasing id
    expect(decode<string>((await t.kv.read((tx) => tx.get(kNull('bkt', 'k'))))!)).toBe(eraser.versionId);
    await applyChanges(t.kv, [remoteVersion('k', theirs, 'theirs', true)]);
    await expect(t.layer.getObject('bkt', 'k')).rejects.toMatchObject({ code: 'NoSuchKey' });
    expect((await t.layer.listObjectVersions({ bucket: 'bkt', maxKeys: 10 })).versions).toEqual([]);
  });

  it('tags: a version register stamped after the version', async () => {
    const v = await t.layer.putObject(inlineObject('k', 'x'));
    await taken();
    await t.layer.setObjectTags('bkt', 'k', undefined, { colour: 'red' });
    const [c] = await taken();
    expect(c).toMatchObject({ kind: 'version-register', bucketCreatedAt: bucket.createdAt, bucket: 'bkt', key: 'k', versionId: v.versionId, name: 'tags', value: { colour: 'red' } });
    expect(isNewer((c as { stamp: string }).stamp, v.versionId)).toBe(true);
  });

  it('an object ACL: a version register; the ACL read back is the one written', async () => {
    const v = await t.layer.putObject(inlineObject('k', 'x'));
    await taken();
    await configs.putObjectAcl('bkt', 'k', v.versionId, 'public-read');
    await configs.putObjectAcl('bkt', 'k', v.versionId, 'private');
    const got = await taken();
    expect(got).toMatchObject([
      { kind: 'version-register', bucketCreatedAt: bucket.createdAt, key: 'k', versionId: v.versionId, name: 'acl', value: 'public-read' },
      { kind: 'version-register', versionId: v.versionId, name: 'acl', value: 'private' },
    ]);
    expect(isNewer((got[1] as { stamp: string }).stamp, (got[0] as { stamp: string }).stamp)).toBe(true);
    expect(await configs.getObjectAcl('bkt', 'k', v.versionId)).toBeUndefined();
  });

  it('bucket settings and versioning: bucket registers; a removal is a null value; an upload\'s ACL stays here', async () => {
    await configs.put('bkt', 'cors', [{ allowedOrigins: ['*'] }]);
    await configs.delete('bkt', 'cors');
    await configs.put('bkt', uploadAclKind('up-1'), 'public-read');
    await t.layer.setBucketVersioning('bkt', 'Enabled');
    const got = await taken();
    expect(got).toMatchObject([
      { kind: 'bucket-register', bucketCreatedAt: bucket.createdAt, bucket: 'bkt', name: 'cors', value: [{ allowedOrigins: ['*'] }] },
      { kind: 'bucket-register', bucketCreatedAt: bucket.createdAt, bucket: 'bkt', name: 'cors', value: null },
      { kind: 'bucket-register', bucketCreatedAt: bucket.createdAt, bucket: 'bkt', name: 'versioning', value: 'Enabled' },
    ]);
    expect(await configs.get('bkt', uploadAclKind('up-1'))).toBe('public-read');
    expect((await t.layer.getBucket('bkt')).versioning).toBe('Enabled');
  });

  it('access keys: the record, and null when deleted; deleting an absent key records nothing', async () => {
    const rec = { accessKeyId: 'AKX', secretAccessKey: 's', root: false, createdAt: 1 };
    await t.layer.putAccessKey(rec);
    expect(await t.layer.deleteAccessKey('AKX')).toBe(true);
    expect(await t.layer.deleteAccessKey('AKX')).toBe(false);
    expect(await taken()).toMatchObject([
      { kind: 'access-key', accessKeyId: 'AKX', record: rec },
      { kind: 'access-key', accessKeyId: 'AKX', record: null },
    ]);
  });

  it('lifecycle expiry of noncurrent versions: purges', async () => {
    await enableVersioning();
    const old = await t.layer.putObject(inlineObject('k', 'old'));
    await t.layer.putObject(inlineObject('k', 'new'));
    await configs.put('bkt', 'lifecycle', [{ enabled: true, filter: {}, noncurrentExpiration: { days: 1 } }]);
    await taken();
    const job = createLifecycleJob({ layer: t.layer, configs }, { now: () => Date.now() + 10 * 86_400_000 });
    expect((await job.runOnce()).noncurrentExpired).toBe(1);
    expect(await taken()).toMatchObject([{ kind: 'purge', key: 'k', versionId: old.versionId }]);
  });
});

describe('the region clock', () => {
  it('a PUT after a remote erase from a clock running ahead is still stored, and sorts after it', async () => {
    const ahead = { wall: Date.now() + 3_600_000, logical: 0 };
    await applyChanges(t.kv, [{ ...remoteVersion('k', makeVersionId(ahead, 'sin', null), '', true), erase: true }]);
    const v = await t.layer.putObject(inlineObject('k', 'after'));
    expect(v.hlc.wall).toBeGreaterThanOrEqual(ahead.wall);
    expect((await t.layer.getObject('bkt', 'k')).versionId).toBe(v.versionId);
  });

  it('observeClock: what is written afterwards is later than the remote time', async () => {
    const ahead = { wall: Date.now() + 3_600_000, logical: 5 };
    t.layer.observeClock(ahead);
    const v = await t.layer.putObject(inlineObject('other', 'x'));
    expect(v.hlc.wall > ahead.wall || (v.hlc.wall === ahead.wall && v.hlc.logical > ahead.logical)).toBe(true);
  });
});

describe('one region (no change sink)', () => {
  it('nothing is written to the outbox', async () => {
    const solo = await tempLayer('iad');
    try {
      const soloConfigs = createBucketConfigStore(solo.kv, { region: 'iad' });
      await solo.layer.createBucket({ name: 'b', owner: 'AK1', region: 'iad' });
      const v = await solo.layer.putObject(inlineObject('k', 'x', 'b'));
      await solo.layer.setObjectTags('b', 'k', undefined, { a: '1' });
      await soloConfigs.putObjectAcl('b', 'k', v.versionId, 'public-read');
      await soloConfigs.put('b', 'cors', []);
      await solo.layer.deleteObject('b', 'k');
      await solo.layer.setBucketVersioning('b', 'Enabled');
      await solo.layer.putAccessKey({ accessKeyId: 'AKS', secretAccessKey: 's', root: false, createdAt: 1 });
      for (const space of ['ob', 'obp']) {
        const r = subspaceRange([space]);
        expect(await solo.kv.read((tx) => tx.getRange(r.begin, r.end))).toEqual([]);
      }
    } finally {
      await solo.cleanup();
    }
  });
});

/** a version of `bkt` written by region sin */
function remoteVersion(key: string, versionId: string, text: string, isNull = false): Extract<Change, { kind: 'version' }> {
  return {
    kind: 'version',
    bucketCreatedAt: bucket.createdAt,
    version: {
      bucket: 'bkt',
      key,
      versionId,
      hlc: { wall: 1, logical: 0 },
      region: 'sin',
      deleteMarker: false,
      size: text.length,
      etag: 'e-' + text,
      lastModified: 1,
      owner: 'AK1',
      headers: {},
      userMetadata: {},
      checksums: {},
      ...(isNull ? { isNull: true } : {}),
      body: { kind: 'inline', data: Buffer.from(text) },
    },
  };
}
