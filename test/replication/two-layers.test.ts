/**
 * Two regions on real LMDB, no network: every kind of S3 write is made through region A's
 * object layer and bucket-config store; A's outbox entries are applied to region B in any
 * order, some twice. B then answers every read as A does: versions (ids, markers, null
 * versions, ETags, tags), the bytes of small objects, object ACLs, bucket settings, the
 * bucket record and access keys.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucketConfigStore, type BucketConfigStore } from '../../metadata/bucket-config.js';
import type { Change, OutboxEntry } from '../../metadata/changes.js';
import { HybridClock } from '../../metadata/hlc.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import { Outbox, outboxSink } from '../../metadata/outbox.js';
import type { BucketRecord, NewObject, ObjectVersion } from '../../metadata/types.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { applyChanges, NotReadyError } from '../../replication/apply.js';
import { inlineObject, tempLayer, type TempLayer } from '../metadata/lmdb-temp.js';

const BUCKET = 'shared';
const KINDS = ['cors', 'policy', 'public', 'lifecycle', 'tagging'];

let a: TempLayer;
let aConfigs: BucketConfigStore;
let bucket: BucketRecord;
let entries: OutboxEntry[];

const obj = (key: string, text: string) => inlineObject(key, text, BUCKET);
const blob = (key: string, blobId: string): NewObject => ({ ...obj(key, ''), size: 1 << 20, etag: 'e-' + blobId, body: { kind: 'blob', blobId, node: 'n1' } });

/** every kind of replicated write, in an order a user could make them */
async function writeEverything(layer: ObjectLayer, configs: BucketConfigStore): Promise<void> {
  // unversioned: null versions replace each other; DELETE erases
  await layer.putObject(obj('a', 'one'));
  await layer.putObject(obj('a', 'two'));
  await layer.putObject(obj('b', 'bee'));
  await layer.deleteObject(BUCKET, 'b');
  await layer.putObject(blob('c', 'blob-c'));
  const acl = await layer.putObject(obj('acl', 'open'));
  await configs.putObjectAcl(BUCKET, 'acl', acl.versionId, 'public-read');
  await layer.setObjectTags(BUCKET, 'a', undefined, { phase: 'unversioned' });
  await configs.put(BUCKET, 'cors', [{ allowedOrigins: ['*'], allowedMethods: ['GET'] }]);
  await configs.put(BUCKET, 'policy', '{"Version":"2012-10-17","Statement":[]}');
  await configs.put(BUCKET, 'public', true);
  await configs.delete(BUCKET, 'public');
  await configs.put(BUCKET, 'tagging', { team: 'x' });
  await configs.put(BUCKET, 'tagging', { team: 'y' });

  // enabled: versions kept, markers, a version deleted for good, a copy, tags and ACLs on versions
  await layer.setBucketVersioning(BUCKET, 'Enabled');
  const three = await layer.putObject(obj('a', 'three'));
  const four = await layer.putObject(obj('a', 'four'));
  await layer.setObjectTags(BUCKET, 'a', four.versionId, { phase: 'enabled' });
  await configs.putObjectAcl(BUCKET, 'a', four.versionId, { grants: [{ grantee: { kind: 'AllUsers' }, permission: 'READ' }] });
  await layer.deleteObject(BUCKET, 'a');
  await layer.deleteObject(BUCKET, 'a', three.versionId);
  const derive = (s: ObjectVersion) => ({ headers: s.headers, userMetadata: s.userMetadata, tags: { copied: 'yes' } });
  await layer.copyObject({ source: { bucket: BUCKET, key: 'c' }, bucket: BUCKET, key: 'd', owner: 'AK1', derive });
  await layer.copyObject({ source: { bucket: BUCKET, key: 'acl' }, bucket: BUCKET, key: 'acl-copy', owner: 'AK1', derive });
  await layer.putObject({ ...obj('mp', ''), size: 12 << 20, etag: 'abc-2', body: { kind: 'parts', uploadId: 'up-1', partCount: 2 } });
  await layer.deleteObjects(BUCKET, [{ key: 'b' }, { key: 'acl-copy' }, { key: 'nothing', versionId: 'null' }]);

  // suspended: null versions again, a null delete marker; the null version from before is replaced
  await layer.setBucketVersioning(BUCKET, 'Suspended');
  await layer.putObject(obj('e', 'null-1'));
  await layer.putObject(obj('e', 'null-2'));
  await layer.putObject(obj('a', 'suspended'));
  await layer.deleteObject(BUCKET, 'e');
  await configs.put(BUCKET, 'lifecycle', [{ enabled: true, filter: { prefix: 'tmp/' }, expiration: { days: 1 } }]);

  // access keys
  await layer.putAccessKey({ accessKeyId: 'AK-1', secretAccessKey: 's1', root: false, createdAt: 1 });
  await layer.putAccessKey({ accessKeyId: 'AK-2', secretAccessKey: 's2', root: false, createdAt: 2, grants: { [BUCKET]: 'Editor' } });
  await layer.deleteAccessKey('AK-1');
  await layer.putAccessKey({ accessKeyId: 'AK-2', secretAccessKey: 's2-new', root: false, createdAt: 2 });
}

/** everything a client of the region can read about the bucket and the keys */
async function view(layer: ObjectLayer, configs: BucketConfigStore) {
  const { versions } = await layer.listObjectVersions({ bucket: BUCKET, maxKeys: 1000 });
  const objects = [];
  for (const { version: v, isLatest } of versions) {
    const got = v.deleteMarker ? undefined : await layer.getObject(BUCKET, v.key, v.versionId);
    objects.push({
      ...v,
      isLatest,
      bytes: got?.body?.kind === 'inline' ? Buffer.from(got.body.data).toString() : undefined,
      acl: v.deleteMarker ? undefined : await configs.getObjectAcl(BUCKET, v.key, v.versionId),
    });
  }
  const settings: Record<string, unknown> = {};
  for (const k of KINDS) settings[k] = await configs.get(BUCKET, k);
  return {
    bucket: await layer.getBucket(BUCKET),
    current: (await layer.listObjects({ bucket: BUCKET, maxKeys: 1000 })).contents.map((v) => [v.key, v.versionId]),
    objects,
    settings,
    keys: await layer.listAccessKeys(),
  };
}

/** delivers as a sender would: a change that must wait is sent again later */
async function deliver(target: TempLayer, changes: Change[]): Promise<void> {
  const queue = changes.map((c) => [c]);
  for (let tries = 0; queue.length > 0; tries++) {
    if (tries > 10 * changes.length) throw new Error('delivery made no progress');
    const next = queue.shift()!;
    try {
      await applyChanges(target.kv, next, { observe: (h) => target.layer.observeClock(h) });
    } catch (e) {
      if (!(e instanceof NotReadyError)) throw e;
      queue.push(next);
    }
  }
}

beforeAll(async () => {
  const changes = outboxSink(['fra']);
  const clock = new HybridClock();
  a = await tempLayer('iad', { changes, clock });
  aConfigs = createBucketConfigStore(a.kv, { region: 'iad', changes, clock });
  bucket = await a.layer.createBucket({ name: BUCKET, owner: 'AK1', region: 'iad' });
  await writeEverything(a.layer, aConfigs);
  entries = await new Outbox(a.kv).pending('fra', undefined, 10_000);
});
afterAll(() => a?.cleanup());

describe('writes in one region, applied in another in any order', () => {
  it('the outbox holds a change for every write', () => {
    const kinds = new Set(entries.map((e) => e.change.kind + ('name' in e.change ? ':' + e.change.name : '')));
    expect([...kinds].sort()).toEqual(
      ['access-key', 'bucket-created', 'bucket-register:cors', 'bucket-register:lifecycle', 'bucket-register:policy', 'bucket-register:public', 'bucket-register:tagging', 'bucket-register:versioning', 'purge', 'version', 'version-register:acl', 'version-register:tags'].sort(),
    );
  });

  it('the other region reads what this one reads', async () => {
    const here = await view(a.layer, aConfigs);
    // bytes held in a blob or in parts here are named by this region over there
    const held = (v: ObjectVersion['body']) => (v && (v.kind === 'blob' || v.kind === 'parts') ? { kind: 'remote', region: 'iad' } : v);
    const expected = { ...here, objects: here.objects.map((o) => ({ ...o, body: held(o.body) })) };
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }),
        fc.subarray(entries, { maxLength: 5 }),
        async (order, again) => {
          const b = await tempLayer('fra');
          try {
            // the bucket itself comes from the control region, ahead of or after its objects
            const created: Change = { kind: 'bucket-created', record: bucket, stamp: makeVersionId({ wall: bucket.createdAt, logical: 0 }, 'iad') };
            const changes = [...order, ...again].map((e) => e.change);
            changes.splice(Math.floor(changes.length / 2), 0, created);
            await deliver(b, changes);
            const got = await view(b.layer, createBucketConfigStore(b.kv, { region: 'fra' }));
            expect(got).toEqual(expected);
          } finally {
            await b.cleanup();
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
