/**
 * ACLs as S3 has them, through @aws-sdk/client-s3, another account's key and anonymous raw
 * HTTP: a public-read BUCKET lets anyone list it, not read its objects; an object is read
 * through its own version's ACL; AllUsers grants count for signed callers too; canned ACLs
 * public-read-write and authenticated-read; explicit grants (AccessControlPolicy bodies and
 * x-amz-grant-* headers) to the groups and to a key's canonical id; owners named by canonical
 * id and key name everywhere.
 */
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type Grant,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCreate } from '../../cli/keys.js';
import { REGION, ROOT, s3Client, sdkError, startTestGateway, tempDir, uniqueBucket, useGateway, type Creds } from '../helpers/gateway.js';
import { md5Base64, parseError, parseXml, rawRequest } from '../helpers/raw.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTH_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
const canonical = (accessKeyId: string) => createHash('sha256').update(accessKeyId).digest('hex');
const ROOT_ID = canonical(ROOT.accessKeyId);

/** another account: a non-root key with no role on the buckets below, named for DisplayName */
const other: Creds = { accessKeyId: 'ACLOTHERKEY001', secretAccessKey: 'acl-other-secret-000001' };
const OTHER_ID = canonical(other.accessKeyId);
const dataDir = tempDir('erne-acl-');
beforeAll(async () => {
  // the key commands need a region a gateway has made: one starts and stops first
  await (await startTestGateway({ dataDir })).gw.close();
  await keysCreate({ 'access-key': other.accessKeyId, 'secret-key': other.secretAccessKey, name: 'other-account', json: true, 'data-dir': dataDir, region: REGION }, () => undefined);
});
const erne = useGateway({ dataDir });
let otherS3: S3Client;
beforeAll(() => {
  otherS3 = s3Client(erne.gw, other);
});
afterAll(() => otherS3?.destroy());

const anon = (method: string, path: string, query?: string, body?: string) => rawRequest(erne.gw, { method, path, query, body, creds: null });
const asOther = (method: string, path: string, query?: string, body?: string) => rawRequest(erne.gw, { method, path, query, body, creds: other });

function grants(acl: { Grants?: Grant[] }) {
  return (acl.Grants ?? []).map((g) => [g.Grantee?.Type, g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]);
}

async function bucketWith(tag: string, acl?: 'public-read' | 'public-read-write' | 'authenticated-read'): Promise<string> {
  const b = uniqueBucket(tag);
  await erne.s3.send(new CreateBucketCommand({ Bucket: b, ACL: acl }));
  return b;
}

describe('a public-read bucket (item 3: S3 semantics)', () => {
  let pub: string;
  beforeAll(async () => {
    pub = await bucketWith('pub', 'public-read');
    await erne.s3.send(new PutObjectCommand({ Bucket: pub, Key: 'dir/a.txt', Body: 'private a' }));
    await erne.s3.send(new PutObjectCommand({ Bucket: pub, Key: 'dir/open.txt', Body: 'open', ACL: 'public-read' }));
  });

  it('lets anyone list it and HEAD it', async () => {
    const v2 = await anon('GET', `/${pub}`, 'list-type=2&prefix=dir/');
    expect(v2.status).toBe(200);
    expect((parseXml(v2.text).Contents as { Key: string }[]).map((c) => c.Key)).toEqual(['dir/a.txt', 'dir/open.txt']);
    expect((await anon('GET', `/${pub}`)).status).toBe(200);
    expect((await anon('GET', `/${pub}`, 'versions=')).status).toBe(200);
    expect((await anon('HEAD', `/${pub}`)).status).toBe(200);
  });

  it('does not make its objects readable: each object’s own ACL decides', async () => {
    const get = await anon('GET', `/${pub}/dir/a.txt`);
    expect([get.status, parseError(get.text).Code]).toEqual([403, 'AccessDenied']);
    expect((await anon('HEAD', `/${pub}/dir/a.txt`)).status).toBe(403);
    const open = await anon('GET', `/${pub}/dir/open.txt`);
    expect([open.status, open.text]).toEqual([200, 'open']);
  });

  it('answers NoSuchKey to anonymous reads of missing keys (anyone may list it)', async () => {
    const r = await anon('GET', `/${pub}/missing`);
    expect([r.status, parseError(r.text).Code]).toEqual([404, 'NoSuchKey']);
  });

  it.each([
    ['PUT an object', 'PUT', 'dir/b.txt', undefined, 'x'],
    ['DELETE an object', 'DELETE', 'dir/a.txt', undefined, undefined],
    ['read the ACL', 'GET', '', 'acl=', undefined],
    ['change the ACL', 'PUT', '', 'acl=', undefined],
    ['delete the bucket', 'DELETE', '', undefined, undefined],
    ['read the CORS rules', 'GET', '', 'cors=', undefined],
  ])('refuses anonymous requests to %s', async (_n, method, key, query, body) => {
    const r = await anon(method, `/${pub}${key ? '/' + key : ''}`, query, body);
    expect([r.status, parseError(r.text).Code]).toEqual([403, 'AccessDenied']);
  });

  it('GetBucketAcl shows the owner (canonical id) and the AllUsers READ grant', async () => {
    const acl = await erne.s3.send(new GetBucketAclCommand({ Bucket: pub }));
    expect(acl.Owner).toEqual({ ID: ROOT_ID, DisplayName: expect.any(String) });
    expect(grants(acl)).toEqual([
      ['CanonicalUser', ROOT_ID, 'FULL_CONTROL'],
      ['Group', ALL_USERS, 'READ'],
    ]);
  });
});

describe('AllUsers and AuthenticatedUsers grants', () => {
  it('another account’s key reads a public-read object (AllUsers includes signed callers)', async () => {
    const b = await bucketWith('allusers');
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'open', Body: 'for everyone', ACL: 'public-read' }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'closed', Body: 'owner only' }));
    const got = await otherS3.send(new GetObjectCommand({ Bucket: b, Key: 'open' }));
    expect(await got.Body!.transformToString()).toBe('for everyone');
    expect((await sdkError(otherS3.send(new GetObjectCommand({ Bucket: b, Key: 'closed' })))).name).toBe('AccessDenied');
  });

  it('another account’s key copies a public-read object into its own bucket, but not a private one', async () => {
    const src = await bucketWith('copysrc');
    await erne.s3.send(new PutObjectCommand({ Bucket: src, Key: 'open', Body: 'copy me', ACL: 'public-read' }));
    await erne.s3.send(new PutObjectCommand({ Bucket: src, Key: 'closed', Body: 'not me' }));
    const dst = uniqueBucket('copydst');
    await otherS3.send(new CreateBucketCommand({ Bucket: dst }));
    await otherS3.send(new CopyObjectCommand({ Bucket: dst, Key: 'copied', CopySource: `${src}/open` }));
    expect(await (await otherS3.send(new GetObjectCommand({ Bucket: dst, Key: 'copied' }))).Body!.transformToString()).toBe('copy me');
    expect((await sdkError(otherS3.send(new CopyObjectCommand({ Bucket: dst, Key: 'stolen', CopySource: `${src}/closed` })))).name).toBe('AccessDenied');
    expect((await sdkError(otherS3.send(new GetObjectCommand({ Bucket: dst, Key: 'stolen' })))).name).toBe('NoSuchKey');
  });

  it('public-read-write: WRITE deletes objects, never versions for good (DeleteObjectVersion is no ACL right)', async () => {
    const b = await bucketWith('rwv', 'public-read-write');
    await erne.s3.send(new PutBucketVersioningCommand({ Bucket: b, VersioningConfiguration: { Status: 'Enabled' } }));
    const v = (await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'kept' }))).VersionId!;
    const one = await anon('DELETE', `/${b}/k`, `versionId=${v}`);
    expect([one.status, parseError(one.text).Code]).toEqual([403, 'AccessDenied']);
    const body = `<Delete><Object><Key>k</Key><VersionId>${v}</VersionId></Object></Delete>`;
    const many = await rawRequest(erne.gw, { method: 'POST', path: `/${b}`, query: 'delete=', body, creds: null, headers: { 'Content-MD5': md5Base64(body) } });
    expect(many.status).toBe(200);
    expect(parseXml(many.text).Error).toMatchObject({ Key: 'k', VersionId: v, Code: 'AccessDenied' });
    expect(await (await erne.s3.send(new GetObjectCommand({ Bucket: b, Key: 'k', VersionId: v }))).Body!.transformToString()).toBe('kept');
    // a plain DELETE (a delete marker) is WRITE
    expect((await anon('DELETE', `/${b}/k`)).headers['x-amz-delete-marker']).toBe('true');
  });

  it('authenticated-read: any signed key reads, anonymous callers do not', async () => {
    const b = await bucketWith('authread', 'authenticated-read');
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'signed only', ACL: 'authenticated-read' }));
    expect((await asOther('GET', `/${b}/k`)).text).toBe('signed only');
    expect((await otherS3.send(new ListObjectsV2Command({ Bucket: b }))).Contents?.map((c) => c.Key)).toEqual(['k']);
    expect((await anon('GET', `/${b}/k`)).status).toBe(403);
    expect((await anon('GET', `/${b}`, 'list-type=2')).status).toBe(403);
    expect(grants(await erne.s3.send(new GetBucketAclCommand({ Bucket: b })))).toEqual([
      ['CanonicalUser', ROOT_ID, 'FULL_CONTROL'],
      ['Group', AUTH_USERS, 'READ'],
    ]);
  });

  it('public-read-write: anyone writes and lists, but reads only what an object’s ACL opens', async () => {
    const b = await bucketWith('rw', 'public-read-write');
    const put = await anon('PUT', `/${b}/dropped`, undefined, 'anonymous bytes');
    expect(put.status).toBe(200);
    expect((await erne.s3.send(new GetObjectCommand({ Bucket: b, Key: 'dropped' })).then((r) => r.Body!.transformToString()))).toBe('anonymous bytes');
    expect((await anon('GET', `/${b}`, 'list-type=2')).text).toContain('<Key>dropped</Key>');
    expect((await anon('GET', `/${b}/dropped`)).status).toBe(403);
    // opening access while writing stays the owner's decision
    const opened = await rawRequest(erne.gw, { method: 'PUT', path: `/${b}/opened`, body: 'x', creds: null, headers: { 'x-amz-acl': 'public-read' } });
    expect([opened.status, parseError(opened.text).Code]).toEqual([403, 'AccessDenied']);
    expect(grants(await erne.s3.send(new GetBucketAclCommand({ Bucket: b })))).toEqual([
      ['CanonicalUser', ROOT_ID, 'FULL_CONTROL'],
      ['Group', ALL_USERS, 'READ'],
      ['Group', ALL_USERS, 'WRITE'],
    ]);
    expect((await anon('DELETE', `/${b}/dropped`)).status).toBe(204);
  });
});

describe('explicit grants (item 4)', () => {
  it('PutBucketAcl with an AccessControlPolicy naming a key’s canonical id lets that key list', async () => {
    const b = await bucketWith('policy');
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    expect((await sdkError(otherS3.send(new ListObjectsV2Command({ Bucket: b })))).name).toBe('AccessDenied');
    await erne.s3.send(
      new PutBucketAclCommand({
        Bucket: b,
        AccessControlPolicy: {
          Owner: { ID: ROOT_ID },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ROOT_ID }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'CanonicalUser', ID: OTHER_ID }, Permission: 'READ' },
          ],
        },
      }),
    );
    expect((await otherS3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(1);
    // READ on the bucket is listing, not its objects, nor its ACL
    expect((await sdkError(otherS3.send(new GetObjectCommand({ Bucket: b, Key: 'k' })))).name).toBe('AccessDenied');
    expect((await sdkError(otherS3.send(new GetBucketAclCommand({ Bucket: b })))).name).toBe('AccessDenied');
    const acl = await erne.s3.send(new GetBucketAclCommand({ Bucket: b }));
    expect(acl.Grants?.[1]?.Grantee).toMatchObject({ Type: 'CanonicalUser', ID: OTHER_ID, DisplayName: 'other-account' });
  });

  it('PutObjectAcl with x-amz-grant-* headers: groups and a canonical id, listed FULL_CONTROL, WRITE_ACP, READ, READ_ACP', async () => {
    const b = await bucketWith('hdr');
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'granted' }));
    await erne.s3.send(
      new PutObjectAclCommand({ Bucket: b, Key: 'k', GrantRead: `uri="${AUTH_USERS}", id="${OTHER_ID}"`, GrantReadACP: `id="${OTHER_ID}"`, GrantFullControl: `id="${ROOT_ID}"`, GrantWriteACP: `id=${ROOT_ID}` }),
    );
    expect(grants(await erne.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' })))).toEqual([
      ['CanonicalUser', ROOT_ID, 'FULL_CONTROL'],
      ['CanonicalUser', ROOT_ID, 'WRITE_ACP'],
      ['Group', AUTH_USERS, 'READ'],
      ['CanonicalUser', OTHER_ID, 'READ'],
      ['CanonicalUser', OTHER_ID, 'READ_ACP'],
    ]);
    expect((await asOther('GET', `/${b}/k`)).text).toBe('granted');
    expect((await otherS3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }))).Owner?.ID).toBe(ROOT_ID);
    expect((await anon('GET', `/${b}/k`)).status).toBe(403);
    // READ_ACP is not WRITE_ACP
    expect((await sdkError(otherS3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' })))).name).toBe('AccessDenied');
  });

  it('GrantRead to AllUsers on PutObject opens that object to anonymous readers', async () => {
    const b = await bucketWith('grantput');
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'opened by a grant', GrantRead: `uri="${ALL_USERS}"` }));
    expect((await anon('GET', `/${b}/k`)).text).toBe('opened by a grant');
  });

  it('an empty grant list revokes all', async () => {
    const b = await bucketWith('revoke', 'public-read');
    expect((await anon('GET', `/${b}`, 'list-type=2')).status).toBe(200);
    await erne.s3.send(new PutBucketAclCommand({ Bucket: b, AccessControlPolicy: { Owner: { ID: ROOT_ID }, Grants: [] } }));
    expect((await anon('GET', `/${b}`, 'list-type=2')).status).toBe(403);
    expect(grants(await erne.s3.send(new GetBucketAclCommand({ Bucket: b })))).toEqual([]);
    // the owner keeps every right an empty ACL no longer lists
    expect((await erne.s3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(0);
  });

  it.each([
    ['a canonical id no key has', { GrantRead: `id="${'ab'.repeat(32)}"` }, 'Invalid id'],
    ['the LogDelivery group', { GrantWrite: 'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"' }, 'Invalid group uri'],
    ['an email address', { GrantRead: 'emailAddress="someone@example.com"' }, 'email'],
    [
      'an unknown id in a policy body',
      { AccessControlPolicy: { Owner: { ID: ROOT_ID }, Grants: [{ Grantee: { Type: 'CanonicalUser' as const, ID: '0'.repeat(64) }, Permission: 'READ' as const }] } },
      'Invalid id',
    ],
  ])('refuses %s with InvalidArgument and changes nothing', async (_n, input, message) => {
    const b = await bucketWith('unknown', 'public-read');
    const e = await sdkError(erne.s3.send(new PutBucketAclCommand({ Bucket: b, ...input })));
    expect([e.name, e.status]).toEqual(['InvalidArgument', 400]);
    expect(e.message).toContain(message);
    expect(grants(await erne.s3.send(new GetBucketAclCommand({ Bucket: b })))).toHaveLength(2);
  });

  it('refuses a canned ACL together with grant headers (InvalidRequest)', async () => {
    const b = await bucketWith('both');
    const e = await sdkError(erne.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read', GrantRead: `uri="${ALL_USERS}"` })));
    expect([e.name, e.status]).toEqual(['InvalidRequest', 400]);
  });

  it('CreateBucket with grant headers stores them', async () => {
    const b = uniqueBucket('create-grant');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b, GrantRead: `id="${OTHER_ID}"` }));
    expect(grants(await erne.s3.send(new GetBucketAclCommand({ Bucket: b })))).toEqual([['CanonicalUser', OTHER_ID, 'READ']]);
    expect((await otherS3.send(new ListObjectsV2Command({ Bucket: b }))).KeyCount).toBe(0);
  });

  it('answers NotImplemented to canned ACLs Erne does not offer, before storing anything', async () => {
    const b = await bucketWith('ni');
    const e = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'x', Body: 'x', ACL: 'aws-exec-read' })));
    expect([e.name, e.status]).toEqual(['NotImplemented', 501]);
    expect((await sdkError(erne.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'x' })))).name).toBe('NoSuchKey');
  });
});

describe('owners are named by canonical id and key name', () => {
  it('in ListBuckets, ListObjects and the ACLs of a key’s own objects', async () => {
    const b = uniqueBucket('owned');
    await otherS3.send(new CreateBucketCommand({ Bucket: b }));
    await otherS3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    const want = { ID: OTHER_ID, DisplayName: 'other-account' };
    expect((await otherS3.send(new ListBucketsCommand({}))).Owner).toEqual(want);
    expect((await otherS3.send(new ListObjectsCommand({ Bucket: b }))).Contents?.[0]?.Owner).toEqual(want);
    expect((await otherS3.send(new ListObjectsV2Command({ Bucket: b, FetchOwner: true }))).Contents?.[0]?.Owner).toEqual(want);
    expect((await otherS3.send(new GetBucketAclCommand({ Bucket: b }))).Owner).toEqual(want);
    const acl = await otherS3.send(new GetObjectAclCommand({ Bucket: b, Key: 'k' }));
    expect(acl.Owner).toEqual(want);
    expect(acl.Grants?.[0]?.Grantee).toMatchObject({ ID: OTHER_ID, DisplayName: 'other-account' });
  });
});

describe('object ACLs per version', () => {
  it('x-amz-acl: public-read on PutObject opens that object only, until it is overwritten', async () => {
    const b = await bucketWith('objacl');
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'secret.txt', Body: 'secret' }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared.txt', Body: 'shared', ACL: 'public-read' }));
    const r = await anon('GET', `/${b}/shared.txt`);
    expect([r.status, r.text]).toEqual([200, 'shared']);
    expect((await anon('GET', `/${b}/secret.txt`)).status).toBe(403);
    expect((await anon('GET', `/${b}`, 'list-type=2')).status).toBe(403);
    // a new version has its own ACL: private unless it says otherwise
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'shared.txt', Body: 'changed' }));
    expect((await anon('GET', `/${b}/shared.txt`)).status).toBe(403);
    expect(grants(await erne.s3.send(new GetObjectAclCommand({ Bucket: b, Key: 'shared.txt' })))).toEqual([['CanonicalUser', ROOT_ID, 'FULL_CONTROL']]);
  });

  it('PutObjectAcl opens and closes an existing object', async () => {
    const b = await bucketWith('flip');
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    await erne.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' }));
    expect((await anon('HEAD', `/${b}/k`)).status).toBe(200);
    await erne.s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'private' }));
    expect((await anon('HEAD', `/${b}/k`)).status).toBe(403);
  });
});

describe('anonymous requests to a missing bucket (item 6)', () => {
  it.each([
    ['PUT an object', 'PUT', '/k', 'x'],
    ['DELETE an object', 'DELETE', '/k', undefined],
    ['DELETE the bucket', 'DELETE', '', undefined],
    ['GET an object', 'GET', '/k', undefined],
  ])('%s → 404 NoSuchBucket', async (_n, method, key, body) => {
    const r = await anon(method, `/${uniqueBucket('gone')}${key}`, undefined, body);
    expect([r.status, parseError(r.text).Code]).toEqual([404, 'NoSuchBucket']);
  });

  it('anonymous ListBuckets and CreateBucket stay AccessDenied', async () => {
    expect((await anon('GET', '/')).status).toBe(403);
    const r = await anon('PUT', `/${uniqueBucket('anon-create')}`);
    expect([r.status, parseError(r.text).Code]).toEqual([403, 'AccessDenied']);
  });
});
