/**
 * Bucket policies and the public access block, through @aws-sdk/client-s3 (Put/Get/Delete
 * BucketPolicy, GetBucketPolicyStatus, Put/Get/DeletePublicAccessBlock) and raw requests
 * from anonymous callers and other keys: what a policy allows and denies, over ACLs, roles
 * and ownership, and what the public access block refuses or ignores.
 */
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCreate } from '../../cli/keys.js';
import { REGION, ROOT, s3Client, sdkError, startTestGateway, tempDir, uniqueBucket, type Creds, type TestGateway } from '../helpers/gateway.js';
import { parseError, rawRequest, type RawRequest, type RawResponse } from '../helpers/raw.js';
import { postForm } from '../helpers/post-form.js';

let t: TestGateway;
let s3: S3Client;
let ownerS3: S3Client;
const OWNER: Creds = { accessKeyId: 'POLOWNER0001', secretAccessKey: 'POLOWNER0001-secret-0123456789' };
const OTHER: Creds = { accessKeyId: 'POLOTHER0001', secretAccessKey: 'POLOTHER0001-secret-0123456789' };

beforeAll(async () => {
  const dataDir = tempDir('erne-policy-');
  // the key commands need a region a gateway has made: one starts and stops first
  await (await startTestGateway({ dataDir })).gw.close();
  for (const c of [OWNER, OTHER]) {
    await keysCreate({ 'access-key': c.accessKeyId, 'secret-key': c.secretAccessKey, json: true, 'data-dir': dataDir, region: REGION }, () => undefined);
  }
  t = await startTestGateway({ dataDir });
  s3 = s3Client(t.gw);
  ownerS3 = s3Client(t.gw, OWNER);
}, 30_000);

afterAll(async () => {
  s3?.destroy();
  ownerS3?.destroy();
  await t?.stop();
});

const send = (r: RawRequest, creds: Creds | null = null) => rawRequest(t.gw, { creds, ...r });
const anon = (method: string, path: string, query?: string, body?: string) => send({ method, path, query, body });
const arn = (c: Creds) => `arn:aws:iam::000000000000:user/${c.accessKeyId}`;
const policyText = (...Statement: Record<string, unknown>[]) => JSON.stringify({ Version: '2012-10-17', Statement });

/** status and S3 error code, as a client sees them */
function outcome(r: RawResponse): string {
  return r.status < 300 || !r.text ? String(r.status) : `${r.status} ${parseError(r.text).Code}`;
}

async function bucketWith(objects: Record<string, string>, client = s3): Promise<string> {
  const b = uniqueBucket('pol');
  await client.send(new CreateBucketCommand({ Bucket: b }));
  for (const [Key, Body] of Object.entries(objects)) await client.send(new PutObjectCommand({ Bucket: b, Key, Body }));
  return b;
}

const putPolicy = (bucket: string, ...statements: Record<string, unknown>[]) => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policyText(...statements) }));

describe('Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus', () => {
  it('keeps the policy as sent, says whether it is public, and forgets it on delete', async () => {
    const b = await bucketWith({});
    const text = policyText({ Sid: 'read', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/public/*` });
    const put = await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: text }));
    expect(put.$metadata.httpStatusCode).toBe(204);
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy).toBe(text);
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic).toBe(true);

    await putPolicy(b, { Effect: 'Allow', Principal: { AWS: arn(OTHER) }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` });
    expect((await s3.send(new GetBucketPolicyStatusCommand({ Bucket: b }))).PolicyStatus?.IsPublic).toBe(false);

    expect((await s3.send(new DeleteBucketPolicyCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(204);
    const gone = await sdkError(s3.send(new GetBucketPolicyCommand({ Bucket: b })));
    expect([gone.status, gone.name]).toEqual([404, 'NoSuchBucketPolicy']);
    const noStatus = await sdkError(s3.send(new GetBucketPolicyStatusCommand({ Bucket: b })));
    expect([noStatus.status, noStatus.name]).toEqual([404, 'NoSuchBucketPolicy']);
  });

  it.each([
    ['not JSON', '{"Statement": ['],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' })],
    ['an unknown action', policyText({ Effect: 'Allow', Principal: '*', Action: 's3:GetObjects', Resource: 'arn:aws:s3:::BUCKET/*' })],
    ['another bucket', policyText({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-else/*' })],
    ['a key that does not exist', policyText({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/NOSUCHKEY' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::BUCKET/*' })],
    ['a bad CIDR', policyText({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::BUCKET/*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/40' } } })],
  ])('refuses %s with 400 MalformedPolicy and keeps the policy in force', async (_n, bad) => {
    const b = await bucketWith({});
    const good = policyText({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` });
    await s3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: good }));
    const r = await send({ method: 'PUT', path: `/${b}`, query: 'policy=', body: bad.replaceAll('BUCKET', b) }, ROOT);
    expect(outcome(r)).toBe('400 MalformedPolicy');
    expect(parseError(r.text).Message).not.toBe('');
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: b }))).Policy).toBe(good);
  });
});

describe('what a policy allows', () => {
  it('a public-read policy on a prefix lets anonymous callers read there and nowhere else', async () => {
    const b = await bucketWith({ 'public/a.txt': 'public a', 'private/b.txt': 'private b' });
    expect(outcome(await anon('GET', `/${b}/public/a.txt`))).toBe('403 AccessDenied');
    await putPolicy(b, { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/public/*` });
    const got = await anon('GET', `/${b}/public/a.txt`);
    expect([got.status, got.text]).toEqual([200, 'public a']);
    expect((await anon('HEAD', `/${b}/public/a.txt`)).status).toBe(200);
    expect(outcome(await anon('GET', `/${b}/private/b.txt`))).toBe('403 AccessDenied');
    expect(outcome(await anon('PUT', `/${b}/public/new.txt`, undefined, 'x'))).toBe('403 AccessDenied');
    expect(outcome(await anon('GET', `/${b}`, 'list-type=2'))).toBe('403 AccessDenied');
    // another key is "anyone" too
    expect((await send({ method: 'GET', path: `/${b}/public/a.txt` }, OTHER)).text).toBe('public a');
  });

  it('ListBucket with an s3:prefix condition lists only under that prefix', async () => {
    const b = await bucketWith({ 'docs/a': '1', 'secret/b': '2' });
    await putPolicy(b, { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${b}`, Condition: { StringLike: { 's3:prefix': 'docs/*' } } });
    const listed = await anon('GET', `/${b}`, 'list-type=2&prefix=docs%2F');
    expect(listed.status).toBe(200);
    expect(listed.text).toContain('<Key>docs/a</Key>');
    expect(outcome(await anon('GET', `/${b}`, 'list-type=2&prefix=secret%2F'))).toBe('403 AccessDenied');
    expect(outcome(await anon('GET', `/${b}`, 'list-type=2'))).toBe('403 AccessDenied');
  });

  it('gives another key what its ARN is allowed, on top of what its roles give', async () => {
    const b = await bucketWith({ 'shared/x': 'x bytes' });
    expect(outcome(await send({ method: 'GET', path: `/${b}/shared/x` }, OTHER))).toBe('403 AccessDenied');
    await putPolicy(b, { Effect: 'Allow', Principal: { AWS: arn(OTHER) }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${b}/shared/*` });
    expect((await send({ method: 'GET', path: `/${b}/shared/x` }, OTHER)).text).toBe('x bytes');
    expect(outcome(await send({ method: 'PUT', path: `/${b}/shared/y`, body: 'from other' }, OTHER))).toBe('200');
    expect((await send({ method: 'GET', path: `/${b}/shared/y` }, ROOT)).text).toBe('from other');
    // only what it names: not other keys, not anonymous callers, not other actions
    expect(outcome(await anon('GET', `/${b}/shared/x`))).toBe('403 AccessDenied');
    expect(outcome(await send({ method: 'DELETE', path: `/${b}/shared/x` }, OTHER))).toBe('403 AccessDenied');
    // a copy out of the bucket into the key's own: reading the source is what the policy allows
    const mine = await bucketWith({}, s3Client(t.gw, OTHER));
    const copy = await send({ method: 'PUT', path: `/${mine}/copied`, headers: { 'x-amz-copy-source': `/${b}/shared/x` } }, OTHER);
    expect(outcome(copy)).toBe('200');
  });

  it('a bare access key id names the key too', async () => {
    const b = await bucketWith({ k: 'v' });
    await putPolicy(b, { Effect: 'Allow', Principal: { AWS: OTHER.accessKeyId }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` });
    expect((await send({ method: 'GET', path: `/${b}/k` }, OTHER)).text).toBe('v');
  });
});

describe('what a policy denies', () => {
  it('a Deny for the key that owns the bucket refuses it, and only what the Deny names', async () => {
    const b = await bucketWith({ 'secret.txt': 's', 'open.txt': 'o' }, ownerS3);
    await ownerS3.send(new PutBucketPolicyCommand({
      Bucket: b,
      Policy: policyText({ Effect: 'Deny', Principal: { AWS: arn(OWNER) }, Action: ['s3:GetObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${b}/secret.txt` }),
    }));
    expect(outcome(await send({ method: 'GET', path: `/${b}/secret.txt` }, OWNER))).toBe('403 AccessDenied');
    expect(outcome(await send({ method: 'DELETE', path: `/${b}/secret.txt` }, OWNER))).toBe('403 AccessDenied');
    expect((await send({ method: 'GET', path: `/${b}/open.txt` }, OWNER)).text).toBe('o');
    // the refused delete changed nothing
    expect((await send({ method: 'GET', path: `/${b}/secret.txt` }, ROOT)).text).toBe('s');
  });

  it('a Deny of s3:DeleteObject holds for each key of a multi-object delete', async () => {
    const b = await bucketWith({ 'keep/a': 'a', 'tmp/b': 'b' }, ownerS3);
    await ownerS3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyText({ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${b}/keep/*` }) }));
    const res = await ownerS3.send(new DeleteObjectsCommand({ Bucket: b, Delete: { Objects: [{ Key: 'keep/a' }, { Key: 'tmp/b' }] } }));
    expect(res.Deleted?.map((d) => d.Key)).toEqual(['tmp/b']);
    expect(res.Errors?.map((e) => [e.Key, e.Code])).toEqual([['keep/a', 'AccessDenied']]);
    expect((await send({ method: 'GET', path: `/${b}/keep/a` }, ROOT)).text).toBe('a');
    expect((await send({ method: 'HEAD', path: `/${b}/tmp/b` }, ROOT)).status).toBe(404);
  });

  it('a Deny wins over a public-read ACL', async () => {
    const b = await bucketWith({});
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'public bytes', ACL: 'public-read' }));
    expect((await anon('GET', `/${b}/k`)).status).toBe(200);
    await putPolicy(b, { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(outcome(await anon('GET', `/${b}/k`))).toBe('403 AccessDenied');
  });

  it('a Deny of everything binds root keys too, but root can always read, replace and delete the policy', async () => {
    const b = await bucketWith({ k: 'v' }, ownerS3);
    await ownerS3.send(new PutBucketPolicyCommand({ Bucket: b, Policy: policyText({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`] }) }));
    expect(outcome(await send({ method: 'GET', path: `/${b}/k` }, ROOT))).toBe('403 AccessDenied');
    expect(outcome(await send({ method: 'GET', path: `/${b}/k` }, OWNER))).toBe('403 AccessDenied');
    // the owner (not root) has locked itself out of the policy as well
    expect(outcome(await send({ method: 'DELETE', path: `/${b}`, query: 'policy=' }, OWNER))).toBe('403 AccessDenied');
    expect(outcome(await send({ method: 'GET', path: `/${b}`, query: 'policy=' }, ROOT))).toBe('200');
    expect(outcome(await send({ method: 'DELETE', path: `/${b}`, query: 'policy=' }, ROOT))).toBe('204');
    expect((await send({ method: 'GET', path: `/${b}/k` }, OWNER)).text).toBe('v');
  });
});

describe('browser POST forms', () => {
  it('judge the form\'s signer by the bucket policy, as a PUT would be', async () => {
    const b = await bucketWith({}, ownerS3);
    expect(outcome(await send(postForm(b, 'from-owner', OWNER)))).toBe('204');
    expect(outcome(await send(postForm(b, 'from-other', OTHER)))).toBe('403 AccessDenied');
    await ownerS3.send(new PutBucketPolicyCommand({
      Bucket: b,
      Policy: policyText(
        { Effect: 'Deny', Principal: { AWS: arn(OWNER) }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/locked/*` },
        { Effect: 'Allow', Principal: { AWS: arn(OTHER) }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${b}/inbox/*` },
      ),
    }));
    expect(outcome(await send(postForm(b, 'locked/x', OWNER)))).toBe('403 AccessDenied');
    expect(outcome(await send(postForm(b, 'inbox/x', OTHER)))).toBe('204');
    expect((await send({ method: 'GET', path: `/${b}/inbox/x` }, ROOT)).text).toBe('form bytes');
    expect((await send({ method: 'HEAD', path: `/${b}/locked/x` }, ROOT)).status).toBe(404);
  });

  it('refuse a public acl field where the bucket blocks public ACLs', async () => {
    const b = await bucketWith({});
    await s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: { BlockPublicAcls: true } }));
    expect(outcome(await send(postForm(b, 'k', ROOT, 'public-read')))).toBe('403 AccessDenied');
    expect(outcome(await send(postForm(b, 'k', ROOT, 'private')))).toBe('204');
  });
});

describe('conditions', () => {
  it('aws:SourceIp: 127.0.0.1/32 allows a loopback caller, 10.0.0.0/8 does not', async () => {
    const b = await bucketWith({ k: 'v' });
    const allowFrom = (cidr: string) => putPolicy(b, { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { IpAddress: { 'aws:SourceIp': cidr } } });
    await allowFrom('127.0.0.1/32');
    expect((await anon('GET', `/${b}/k`)).text).toBe('v');
    await allowFrom('10.0.0.0/8');
    expect(outcome(await anon('GET', `/${b}/k`))).toBe('403 AccessDenied');
    // and a Deny from outside a network the caller is not in
    await putPolicy(b, { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${b}/*`, Condition: { NotIpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '2001:db8::/32'] } } });
    expect(outcome(await send({ method: 'GET', path: `/${b}/k` }, ROOT))).toBe('403 AccessDenied');
  });

  it('aws:SecureTransport: a Deny of plain HTTP refuses this (plain HTTP) gateway', async () => {
    const b = await bucketWith({ k: 'v' });
    await putPolicy(b, { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    expect(outcome(await send({ method: 'GET', path: `/${b}/k` }, ROOT))).toBe('403 AccessDenied');
    await putPolicy(b, { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { Bool: { 'aws:SecureTransport': 'true' } } });
    expect((await send({ method: 'GET', path: `/${b}/k` }, ROOT)).text).toBe('v');
  });
});

describe('public access block', () => {
  const pab = (b: string, cfg: Record<string, boolean>) => s3.send(new PutPublicAccessBlockCommand({ Bucket: b, PublicAccessBlockConfiguration: cfg }));

  it('Put/Get/DeletePublicAccessBlock keep the four settings', async () => {
    const b = await bucketWith({});
    const missing = await sdkError(s3.send(new GetPublicAccessBlockCommand({ Bucket: b })));
    expect([missing.status, missing.name]).toEqual([404, 'NoSuchPublicAccessBlockConfiguration']);
    await pab(b, { BlockPublicAcls: true, RestrictPublicBuckets: true });
    expect((await s3.send(new GetPublicAccessBlockCommand({ Bucket: b }))).PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    });
    expect((await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(204);
    expect((await sdkError(s3.send(new GetPublicAccessBlockCommand({ Bucket: b })))).name).toBe('NoSuchPublicAccessBlockConfiguration');
  });

  it('refuses a malformed configuration with MalformedXML', async () => {
    const b = await bucketWith({});
    const r = await send({ method: 'PUT', path: `/${b}`, query: 'publicAccessBlock=', body: '<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>' }, ROOT);
    expect(outcome(r)).toBe('400 MalformedXML');
  });

  it('BlockPublicAcls refuses public ACLs on objects and on the bucket, and private ones still pass', async () => {
    const b = await bucketWith({ k: 'v' });
    await pab(b, { BlockPublicAcls: true });
    const put = await sdkError(s3.send(new PutObjectCommand({ Bucket: b, Key: 'p', Body: 'x', ACL: 'public-read' })));
    expect([put.status, put.name]).toEqual([403, 'AccessDenied']);
    expect((await send({ method: 'HEAD', path: `/${b}/p` }, ROOT)).status).toBe(404);
    expect((await sdkError(s3.send(new PutBucketAclCommand({ Bucket: b, ACL: 'public-read' })))).name).toBe('AccessDenied');
    expect((await sdkError(s3.send(new PutObjectAclCommand({ Bucket: b, Key: 'k', ACL: 'public-read' })))).name).toBe('AccessDenied');
    // the same ACL as an AccessControlPolicy body
    // a key's canonical id is the SHA-256 of its access key id
    const rootId = createHash('sha256').update(ROOT.accessKeyId).digest('hex');
    const body = `<AccessControlPolicy><Owner><ID>${rootId}</ID></Owner><AccessControlList>`
      + `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>${rootId}</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>`
      + `<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>`
      + '</AccessControlList></AccessControlPolicy>';
    expect(outcome(await send({ method: 'PUT', path: `/${b}/k`, query: 'acl=', body }, ROOT))).toBe('403 AccessDenied');
    expect(outcome(await anon('GET', `/${b}/k`))).toBe('403 AccessDenied');
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'q', Body: 'x', ACL: 'private' }));
  });

  it('IgnorePublicAcls makes public ACLs count for nothing, without removing them', async () => {
    const b = await bucketWith({});
    await s3.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'public bytes', ACL: 'public-read' }));
    expect((await anon('GET', `/${b}/k`)).status).toBe(200);
    await pab(b, { IgnorePublicAcls: true });
    expect(outcome(await anon('GET', `/${b}/k`))).toBe('403 AccessDenied');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    expect((await anon('GET', `/${b}/k`)).status).toBe(200);
  });

  it('BlockPublicPolicy refuses a public policy and accepts one that names keys', async () => {
    const b = await bucketWith({});
    await pab(b, { BlockPublicPolicy: true });
    const pub = await sdkError(putPolicy(b, { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` }));
    expect([pub.status, pub.name]).toEqual([403, 'AccessDenied']);
    expect((await sdkError(s3.send(new GetBucketPolicyCommand({ Bucket: b })))).name).toBe('NoSuchBucketPolicy');
    await putPolicy(b, { Effect: 'Allow', Principal: { AWS: arn(OTHER) }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` });
    await putPolicy(b, { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*`, Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } });
  });

  it('RestrictPublicBuckets: a public policy grants nothing to anonymous callers and other keys', async () => {
    const b = await bucketWith({ k: 'v' });
    await putPolicy(b, { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${b}/*` });
    expect((await anon('GET', `/${b}/k`)).text).toBe('v');
    await pab(b, { RestrictPublicBuckets: true });
    expect(outcome(await anon('GET', `/${b}/k`))).toBe('403 AccessDenied');
    expect(outcome(await send({ method: 'GET', path: `/${b}/k` }, OTHER))).toBe('403 AccessDenied');
    expect((await send({ method: 'GET', path: `/${b}/k` }, ROOT)).text).toBe('v');
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: b }));
    expect((await anon('GET', `/${b}/k`)).text).toBe('v');
  });
});
