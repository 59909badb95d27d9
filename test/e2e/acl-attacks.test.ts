/**
 * Attacks on the access rules (issue 9, S1, S2, S7), each replayed against a real gateway
 * with @aws-sdk/client-s3 for the owner's setup and raw requests for the attacker:
 * - S1: `?versionId=null` must be authorized against the null version it serves, not the current one;
 * - S2: PutObjectAcl / GetObjectAcl with `versionId=null` act on the null version;
 * - S7: a bucket named like an Object.prototype property (`constructor`) is no role of a scoped key.
 */
import {
  CreateBucketCommand,
  GetObjectAclCommand,
  PutBucketVersioningCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCreate, parseGrants } from '../../cli/keys.js';
import { REGION, s3Client, startTestGateway, tempDir, uniqueBucket, type Creds, type TestGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const scoped: Creds = { accessKeyId: 'ATTACKSCOPED01', secretAccessKey: 'attack-scoped-secret-0001' };
const granted = uniqueBucket('granted');

let t: TestGateway;
let s3: S3Client;

beforeAll(async () => {
  const dataDir = tempDir('erne-acl-attacks-');
  // the key commands need a region a gateway has made: one starts and stops first
  await (await startTestGateway({ dataDir })).gw.close();
  await keysCreate({ 'access-key': scoped.accessKeyId, 'secret-key': scoped.secretAccessKey, bucket: granted, role: 'ReadOnly', json: true, 'data-dir': dataDir, region: REGION }, () => undefined);
  t = await startTestGateway({ dataDir });
  s3 = s3Client(t.gw);
});

afterAll(async () => {
  s3?.destroy();
  await t?.stop();
});

const anon = (method: string, path: string, query?: string) => rawRequest(t.gw, { method, path, query, creds: null });

/** a versioned bucket whose key `k` has a null version (written before versioning) and a newer current one */
async function nullAndCurrent(nullAcl: 'private' | 'public-read', currentAcl: 'private' | 'public-read') {
  const b = uniqueBucket('s1');
  await s3.send(new CreateBucketCommand({ Bucket: b }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'null version', ACL: nullAcl }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
  await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'current version', ACL: currentAcl }));
  return b;
}

describe('S1: anonymous ?versionId=null is authorized against the null version', () => {
  it('a private null version stays private when the current version is public-read', async () => {
    const b = await nullAndCurrent('private', 'public-read');
    expect((await anon('GET', `/${b}/k`)).text).toBe('current version');
    const get = await anon('GET', `/${b}/k`, 'versionId=null');
    expect([get.status, parseError(get.text).Code]).toEqual([403, 'AccessDenied']);
    expect(get.text).not.toContain('null version');
    expect((await anon('HEAD', `/${b}/k`, 'versionId=null')).status).toBe(403);
  });

  it('a public-read null version is readable while the current version is private', async () => {
    const b = await nullAndCurrent('public-read', 'private');
    expect((await anon('GET', `/${b}/k`)).status).toBe(403);
    const get = await anon('GET', `/${b}/k`, 'versionId=null');
    expect([get.status, get.text]).toEqual([200, 'null version']);
  });
});

describe('S2: PutObjectAcl and GetObjectAcl with versionId=null act on the null version', () => {
  it('PUT ?acl&versionId=null publishes the null version, not the current one', async () => {
    const b = await nullAndCurrent('private', 'private');
    await s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', VersionId: 'null', ACL: 'public-read' }));
    expect((await anon('GET', `/${b}/k`)).status).toBe(403);
    const get = await anon('GET', `/${b}/k`, 'versionId=null');
    expect([get.status, get.text]).toEqual([200, 'null version']);
  });

  it('GET ?acl&versionId=null reports the null version’s ACL', async () => {
    const b = await nullAndCurrent('private', 'public-read');
    const uris = async (versionId?: string) =>
      ((await s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k', VersionId: versionId }))).Grants ?? []).map((g) => g.Grantee?.URI).filter(Boolean);
    expect(await uris()).toEqual([ALL_USERS]);
    expect(await uris('null')).toEqual([]);
  });
});

describe('S7: bucket names that are Object.prototype properties', () => {
  it('a scoped key does not see or read a bucket named `constructor` it has no role on', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: granted }));
    await s3.send(new CreateBucketCommand({ Bucket: 'constructor' }));
    await s3.send(new PutObjectCommand({ Bucket: 'constructor', Key: 'secret', Body: 'root only' }));
    const list = await rawRequest(t.gw, { method: 'GET', path: '/', creds: scoped });
    const names = [...list.text.matchAll(/<Name>([^<]+)<\/Name>/g)].map((m) => m[1]);
    expect(names).toEqual([granted]);
    for (const [path, query] of [['/constructor/secret'], ['/constructor', 'list-type=2'], ['/constructor', 'versions=']] as const) {
      const r = await rawRequest(t.gw, { method: 'GET', path, query, creds: scoped });
      expect([r.status, parseError(r.text).Code]).toEqual([403, 'AccessDenied']);
    }
  });
});

describe('S7: request input named like Object.prototype properties', () => {
  // (not __proto__: the aws4 signer of test/helpers/raw.ts drops it from the query it signs)
  it.each(['constructor', 'toString', 'hasOwnProperty'])('a long query parameter %s is ignored like any unknown one (no 500)', async (name) => {
    const b = uniqueBucket('s7q');
    await s3.send(new CreateBucketCommand({ Bucket: b }));
    const r = await rawRequest(t.gw, { method: 'GET', path: `/${b}`, query: `list-type=2&${name}=${'a'.repeat(1100)}` });
    expect(r.status).toBe(200);
  });
});

describe('S7: role names', () => {
  it.each(['constructor', 'toString', '__proto__'])('`erne keys create --role %s` is a usage error, not a role', (role) => {
    expect(() => parseGrants({ bucket: 'b', role })).toThrow(/--role: expected Editor or ReadOnly/);
  });
});
