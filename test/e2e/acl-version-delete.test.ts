/**
 * An object version's canned ACL lives in its own metadata record ('oa', bucket, key,
 * versionId). Whatever removes a version for good must remove that record in the same
 * transaction: DeleteObject and DeleteObjects with a version id, an unversioned DELETE or
 * overwrite, and the lifecycle job expiring noncurrent versions. Driven through a real gateway
 * with @aws-sdk/client-s3 and anonymous raw requests; the records are read straight from the
 * gateway's metadata store.
 */
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectAclCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KvStore } from '../../metadata/kv.js';
import { openMetadataStore } from '../../metadata/open.js';
import { pack, subspaceRange, unpackAfter } from '../../metadata/tuple.js';
import { s3Client, startTestGateway, testMetadata, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';

const DAY = 86_400_000;
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
let t: TestGateway;
let s3: S3Client;
let kv: KvStore;
let offset = 0;
const meta = testMetadata();

beforeAll(async () => {
  t = await startTestGateway({ ...(meta.metadata ? { metadata: meta.metadata } : {}), lifecycle: { now: () => Date.now() + offset } });
  s3 = s3Client(t.gw);
  kv = await openMetadataStore(meta.metadata?.backend === 'fdb' ? meta.metadata : { backend: 'lmdb', dir: join(t.dataDir, 'meta') });
});

beforeEach(() => {
  offset = 0;
});

afterAll(async () => {
  s3?.destroy();
  await kv?.close();
  await t?.stop();
  await meta.drop();
});

/** the object ACL records stored for a bucket, as [key, versionId] */
async function aclRecords(bucket: string): Promise<[string, string][]> {
  const r = subspaceRange(['oa', bucket]);
  const pairs = await kv.read((tx) => tx.getRange(r.begin, r.end));
  return pairs.map((p) => unpackAfter(pack(['oa', bucket]), p.key) as [string, string]);
}

async function newBucket(versioned: boolean): Promise<string> {
  const b = uniqueBucket('aclv');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  if (versioned) await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  return b;
}

/** the real id of the version a write made (unversioned buckets answer no id: read the record) */
const realIds = async (b: string) => (await aclRecords(b)).map(([, v]) => v);

const anonGet = (b: string, key: string, versionId?: string) =>
  rawRequest(t.gw, { method: 'GET', path: `/${b}/${key}`, ...(versionId ? { query: `versionId=${versionId}` } : {}), creds: null });

async function grantsAllUsers(b: string, key: string): Promise<boolean> {
  const acl = await s3.send(new GetObjectAclCommand({ Bucket: b, Key: key }));
  return (acl.Grants ?? []).some((g) => g.Grantee?.URI === ALL_USERS);
}

describe('a version deleted for good takes its ACL with it', () => {
  it('DeleteObject with a version id', async () => {
    const b = await newBucket(true);
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'one', ACL: 'public-read' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'two' }))).VersionId!;
    await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', VersionId: v2, ACL: 'public-read' }));
    expect(await aclRecords(b)).toEqual(expect.arrayContaining([['k', v1], ['k', v2]]));
    expect((await anonGet(b, 'k', v1)).status).toBe(200);

    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v1 }));
    expect(await aclRecords(b)).toEqual([['k', v2]]);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k', VersionId: v2 }));
    expect(await aclRecords(b)).toEqual([]);

    // a new object at the key is private
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'three' }));
    expect((await anonGet(b, 'k')).status).toBe(403);
    expect(await grantsAllUsers(b, 'k')).toBe(false);
    expect(await aclRecords(b)).toEqual([]);
  });

  it('DeleteObjects with version ids', async () => {
    const b = await newBucket(true);
    const a1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a1', ACL: 'public-read' }))).VersionId!;
    const c1 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'c1', ACL: 'public-read' }))).VersionId!;
    const c2 = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'c', Body: 'c2', ACL: 'public-read' }))).VersionId!;
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'a', VersionId: a1 }, { Key: 'c', VersionId: c1 }] } }));
    expect(r.Errors ?? []).toEqual([]);
    expect(await aclRecords(b)).toEqual([['c', c2]]);
    expect((await anonGet(b, 'c', c2)).status).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'a', Body: 'a2' }));
    expect((await anonGet(b, 'a')).status).toBe(403);
  });

  it('an unversioned overwrite replaces the version and its ACL; an unversioned DELETE drops both', async () => {
    const b = await newBucket(false);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'public', ACL: 'public-read' }));
    expect((await anonGet(b, 'k')).status).toBe(200);
    const [first] = await realIds(b);
    expect(first).toBeDefined();

    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'private now' }));
    expect(await aclRecords(b)).toEqual([]);
    expect((await anonGet(b, 'k')).status).toBe(403);
    expect(await grantsAllUsers(b, 'k')).toBe(false);

    await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' }));
    expect((await aclRecords(b)).length).toBe(1);
    await s3.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    expect(await aclRecords(b)).toEqual([]);
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'again' }));
    expect((await anonGet(b, 'k')).status).toBe(403);
  });

  it('the lifecycle job expiring noncurrent versions', async () => {
    const b = await newBucket(true);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: b,
        LifecycleConfiguration: { Rules: [{ ID: 'nc', Status: 'Enabled', Filter: {}, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] },
      }),
    );
    const old = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'old', ACL: 'public-read' }))).VersionId!;
    const cur = (await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'current', ACL: 'public-read' }))).VersionId!;
    expect((await aclRecords(b)).map(([, v]) => v).sort()).toEqual([old, cur].sort());
    offset = 3 * DAY;
    const stats = await t.gw.lifecycle.runOnce();
    expect(stats.noncurrentExpired).toBeGreaterThanOrEqual(1);
    expect((await anonGet(b, 'k', old)).status).not.toBe(200);
    expect(await aclRecords(b)).toEqual([['k', cur]]);
    expect((await anonGet(b, 'k')).status).toBe(200);
  });
});
