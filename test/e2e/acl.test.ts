/**
 * Canned ACLs through @aws-sdk/client-s3 and anonymous raw HTTP: public-read buckets and
 * object versions are readable and listable without credentials, everything else anonymous
 * is AccessDenied; Get*Acl answer what is in force; other grants are NotImplemented.
 */
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  PutBucketAclCommand,
  PutObjectAclCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, parseXml, rawRequest } from '../helpers/raw.js';

const pub = uniqueBucket('pub');
const priv = uniqueBucket('priv');
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

const erne = useGateway();

beforeAll(async () => {
  await erne.s3.send(new CreateBucketCommand({ Bucket: pub, ACL: 'public-read' }));
  await erne.s3.send(new CreateBucketCommand({ Bucket: priv }));
  await erne.s3.send(new PutObjectCommand({ Bucket: pub, Key: 'dir/a.txt', Body: 'public a' }));
  await erne.s3.send(new PutObjectCommand({ Bucket: priv, Key: 'secret.txt', Body: 'secret' }));
});

const anon = (method: string, path: string, query?: string, body?: string) => rawRequest(erne.gw, { method, path, query, body, creds: null });

function grants(acl: { Grants?: { Grantee?: { Type?: string; ID?: string; URI?: string }; Permission?: string }[] }) {
  return (acl.Grants ?? []).map((g) => [g.Grantee?.Type, g.Grantee?.ID ?? g.Grantee?.URI, g.Permission]);
}

describe('public-read bucket', () => {
  it('lets anyone read, head and list', async () => {
    const get = await anon('GET', `/${pub}/dir/a.txt`);
    expect([get.status, get.text]).toEqual([200, 'public a']);
    expect((await anon('HEAD', `/${pub}/dir/a.txt`)).status).toBe(200);
    const v2 = await anon('GET', `/${pub}`, 'list-type=2&prefix=dir/');
    expect(v2.status).toBe(200);
    expect((parseXml(v2.text).Contents as { Key: string }).Key).toBe('dir/a.txt');
    expect((await anon('GET', `/${pub}`)).status).toBe(200);
    expect((await anon('HEAD', `/${pub}`)).status).toBe(200);
  });

  it('answers NoSuchKey to anonymous reads of missing keys', async () => {
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
    expect(r.status).toBe(403);
    if (method !== 'HEAD') expect(parseError(r.text).Code).toBe('AccessDenied');
  });

  it('GetBucketAcl shows the owner and the AllUsers READ grant', async () => {
    const acl = await erne.s3.send(new GetBucketAclCommand({ Bucket: pub }));
    expect(acl.Owner?.ID).toBe(ROOT.accessKeyId);
    expect(grants(acl)).toEqual([
      ['CanonicalUser', ROOT.accessKeyId, 'FULL_CONTROL'],
      ['Group', ALL_USERS, 'READ'],
    ]);
  });
});

describe('private bucket', () => {
  it('refuses anonymous reads and lists, even of missing keys', async () => {
    for (const [m, p, q] of [['GET', `/${priv}/secret.txt`], ['HEAD', `/${priv}/secret.txt`], ['GET', `/${priv}`, 'list-type=2'], ['GET', `/${priv}/missing`]] as const) {
      expect((await anon(m, p, q)).status).toBe(403);
    }
    expect(parseError((await anon('GET', `/${priv}/missing`)).text).Code).toBe('AccessDenied');
  });

  it('anonymous ListBuckets is AccessDenied', async () => {
    expect((await anon('GET', '/')).status).toBe(403);
  });

  it('GetBucketAcl shows only the owner', async () => {
    expect(grants(await erne.s3.send(new GetBucketAclCommand({ Bucket: priv })))).toEqual([['CanonicalUser', ROOT.accessKeyId, 'FULL_CONTROL']]);
  });
});

describe('PutBucketAcl', () => {
  it('switches a bucket between private and public-read with the header', async () => {
    const b = uniqueBucket('flip');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    await erne.s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    expect((await anon('GET', `/${b}/k`)).status).toBe(403);
    await erne.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' }));
    expect((await anon('GET', `/${b}/k`)).status).toBe(200);
    expect(grants(await erne.s3.send(new GetBucketAclCommand({ Bucket: b })))).toHaveLength(2);
    await erne.s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'private' }));
    expect((await anon('GET', `/${b}/k`)).status).toBe(403);
  });

  it('accepts an AccessControlPolicy body of the public-read shape', async () => {
    const b = uniqueBucket('body');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    await erne.s3.send(
      new PutBucketAclCommand({
        Bucket: b,
        AccessControlPolicy: {
          Owner: { ID: ROOT.accessKeyId },
          Grants: [
            { Grantee: { Type: 'CanonicalUser', ID: ROOT.accessKeyId }, Permission: 'FULL_CONTROL' },
            { Grantee: { Type: 'Group', URI: ALL_USERS }, Permission: 'READ' },
          ],
        },
      }),
    );
    expect((await anon('GET', `/${b}`, 'list-type=2')).status).toBe(200);
  });

  it.each([
    ['a canned ACL Erne does not offer', { ACL: 'authenticated-read' as const }],
    ['a grant header', { GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }],
    [
      'a WRITE grant to everyone',
      { AccessControlPolicy: { Owner: { ID: ROOT.accessKeyId }, Grants: [{ Grantee: { Type: 'CanonicalUser' as const, ID: ROOT.accessKeyId }, Permission: 'FULL_CONTROL' as const }, { Grantee: { Type: 'Group' as const, URI: ALL_USERS }, Permission: 'WRITE' as const }] } },
    ],
  ])('answers NotImplemented to %s', async (_n, input) => {
    const e = await sdkError(erne.s3.send(new PutBucketAclCommand({ Bucket: priv, ...input })));
    expect([e.name, e.status]).toEqual(['NotImplemented', 501]);
    expect((await anon('GET', `/${priv}/secret.txt`)).status).toBe(403);
  });

  it('refuses CreateBucket with an unsupported canned ACL', async () => {
    const e = await sdkError(erne.s3.send(new CreateBucketCommand({ Bucket: uniqueBucket('rw'), ACL: 'public-read-write' })));
    expect(e.status).toBe(501);
  });
});

describe('object ACLs', () => {
  it('x-amz-acl: public-read on PutObject opens that object only, until it is overwritten', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: priv, Key: 'shared.txt', Body: 'shared', ACL: 'public-read' }));
    const r = await anon('GET', `/${priv}/shared.txt`);
    expect([r.status, r.text]).toEqual([200, 'shared']);
    expect((await anon('GET', `/${priv}/secret.txt`)).status).toBe(403);
    expect((await anon('GET', `/${priv}`, 'list-type=2')).status).toBe(403);
    const acl = await erne.s3.send(new GetObjectAclCommand({ Bucket: priv, Key: 'shared.txt' }));
    expect(grants(acl)).toEqual([
      ['CanonicalUser', ROOT.accessKeyId, 'FULL_CONTROL'],
      ['Group', ALL_USERS, 'READ'],
    ]);
    // a new version has its own ACL: private unless it says otherwise
    await erne.s3.send(new PutObjectCommand({ Bucket: priv, Key: 'shared.txt', Body: 'changed' }));
    expect((await anon('GET', `/${priv}/shared.txt`)).status).toBe(403);
    expect(grants(await erne.s3.send(new GetObjectAclCommand({ Bucket: priv, Key: 'shared.txt' })))).toHaveLength(1);
  });

  it('PutObjectAcl opens and closes an existing object', async () => {
    await erne.s3.send(new PutObjectAclCommand({ Bucket: priv, Key: 'secret.txt', ACL: 'public-read' }));
    expect((await anon('HEAD', `/${priv}/secret.txt`)).status).toBe(200);
    await erne.s3.send(new PutObjectAclCommand({ Bucket: priv, Key: 'secret.txt', ACL: 'private' }));
    expect((await anon('HEAD', `/${priv}/secret.txt`)).status).toBe(403);
  });

  it('refuses unsupported object ACLs before storing anything', async () => {
    const e = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: priv, Key: 'rw.txt', Body: 'x', ACL: 'public-read-write' })));
    expect(e.status).toBe(501);
    expect((await sdkError(erne.s3.send(new GetObjectAclCommand({ Bucket: priv, Key: 'rw.txt' })))).name).toBe('NoSuchKey');
  });
});
