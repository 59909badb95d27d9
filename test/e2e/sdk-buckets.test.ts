/**
 * Buckets and access through @aws-sdk/client-s3 against a real gateway: ListBuckets,
 * CreateBucket name rules and conflicts, HeadBucket, DeleteBucket, GetBucketLocation,
 * ownership between keys, and virtual-host-style addressing.
 * Needs `npm run build` (a second key is added with `erne keys create`).
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/child.js';
import { bodyBytes, REGION, s3Client, sdkError, startTestGateway, uniqueBucket, type Creds, type TestGateway } from '../helpers/gateway.js';
import { parseError, parseXml, rawRequest } from '../helpers/raw.js';

let t: TestGateway;
let root: S3Client;
let user: S3Client;
let userCreds: Creds;
const rootBucket = uniqueBucket('root');
const userBucket = uniqueBucket('user');

beforeAll(async () => {
  t = await startTestGateway();
  root = s3Client(t.gw);
  userCreds = await createKey(t.dataDir);
  user = s3Client(t.gw, userCreds);
  await root.send(new CreateBucketCommand({ Bucket: rootBucket }));
  await root.send(new PutObjectCommand({ Bucket: rootBucket, Key: 'secret.txt', Body: 'root data' }));
});

afterAll(async () => {
  root?.destroy();
  user?.destroy();
  await t?.stop();
});

async function bucketNames(c: S3Client): Promise<string[]> {
  return ((await c.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name as string);
}

describe('CreateBucket', () => {
  it('creates, lists, heads', async () => {
    const b = uniqueBucket('mk');
    const r = await root.send(new CreateBucketCommand({ Bucket: b }));
    expect(r.$metadata.httpStatusCode).toBe(200);
    expect(await bucketNames(root)).toContain(b);
    const h = await root.send(new HeadBucketCommand({ Bucket: b }));
    expect(h.$metadata.httpStatusCode).toBe(200);
    const list = await root.send(new ListBucketsCommand({}));
    expect(list.Owner?.ID).toBeTruthy();
    expect(list.Buckets?.find((x) => x.Name === b)?.CreationDate).toBeInstanceOf(Date);
  });

  it('accepts a LocationConstraint naming the region', async () => {
    const b = uniqueBucket('loc');
    await root.send(new CreateBucketCommand({ Bucket: b, CreateBucketConfiguration: { LocationConstraint: REGION as never } }));
    const loc = await root.send(new GetBucketLocationCommand({ Bucket: b }));
    // S3 reports us-east-1 as an empty LocationConstraint
    expect(['', REGION]).toContain(loc.LocationConstraint ?? '');
  });

  it.each([
    'ab',
    'a'.repeat(64),
    'Upper-Case',
    'under_score',
    '-leading-dash',
    'trailing-dash-',
    'two..dots',
    '192.168.5.4',
    'xn--punycode',
    'name-s3alias',
    'dot.-dash',
  ])('invalid name %j → 400 InvalidBucketName, nothing created', async (name) => {
    const r = await rawRequest(t.gw, { method: 'PUT', path: `/${encodeURIComponent(name)}` });
    expect(r.status).toBe(400);
    expect(parseError(r.text).Code).toBe('InvalidBucketName');
    expect(r.headers['x-amz-request-id']).toBeTruthy();
    expect(await bucketNames(root)).not.toContain(name);
  });

  it('the same owner again: 200 as in us-east-1; with a LocationConstraint → 409 BucketAlreadyOwnedByYou', async () => {
    expect((await root.send(new CreateBucketCommand({ Bucket: rootBucket }))).$metadata.httpStatusCode).toBe(200);
    const e = await sdkError(root.send(new CreateBucketCommand({ Bucket: rootBucket, CreateBucketConfiguration: { LocationConstraint: REGION as never } })));
    expect(e.name).toBe('BucketAlreadyOwnedByYou');
    expect(e.status).toBe(409);
  });

  it('another key → 409 BucketAlreadyExists, owner unchanged', async () => {
    const e = await sdkError(user.send(new CreateBucketCommand({ Bucket: rootBucket })));
    expect(e.name).toBe('BucketAlreadyExists');
    expect(e.status).toBe(409);
    expect(await bucketNames(user)).not.toContain(rootBucket);
    expect((await bodyBytes((await root.send(new GetObjectCommand({ Bucket: rootBucket, Key: 'secret.txt' }))).Body)).toString()).toBe('root data');
  });
});

describe('HeadBucket / GetBucketLocation / DeleteBucket', () => {
  it('HeadBucket: 404 for a missing bucket', async () => {
    const e = await sdkError(root.send(new HeadBucketCommand({ Bucket: uniqueBucket('missing') })));
    expect(e.status).toBe(404);
  });

  it('GetBucketLocation on the region', async () => {
    const loc = await root.send(new GetBucketLocationCommand({ Bucket: rootBucket }));
    expect(['', REGION]).toContain(loc.LocationConstraint ?? '');
    const e = await sdkError(root.send(new GetBucketLocationCommand({ Bucket: uniqueBucket('missing') })));
    expect(e.name).toBe('NoSuchBucket');
  });

  it('DeleteBucket: BucketNotEmpty while an object is in it, then 204, then 404', async () => {
    const b = uniqueBucket('del');
    await root.send(new CreateBucketCommand({ Bucket: b }));
    await root.send(new PutObjectCommand({ Bucket: b, Key: 'k', Body: 'v' }));
    const e = await sdkError(root.send(new DeleteBucketCommand({ Bucket: b })));
    expect(e.name).toBe('BucketNotEmpty');
    expect(e.status).toBe(409);
    expect((await root.send(new HeadObjectCommand({ Bucket: b, Key: 'k' }))).ContentLength).toBe(1);
    await root.send(new DeleteObjectCommand({ Bucket: b, Key: 'k' }));
    const d = await root.send(new DeleteBucketCommand({ Bucket: b }));
    expect(d.$metadata.httpStatusCode).toBe(204);
    expect((await sdkError(root.send(new HeadBucketCommand({ Bucket: b })))).status).toBe(404);
    expect(await bucketNames(root)).not.toContain(b);
    const again = await sdkError(root.send(new DeleteBucketCommand({ Bucket: b })));
    expect(again.name).toBe('NoSuchBucket');
  });
});

describe('ownership between keys', () => {
  it('a non-root key creates and uses its own bucket; ListBuckets shows only its own', async () => {
    await user.send(new CreateBucketCommand({ Bucket: userBucket }));
    await user.send(new PutObjectCommand({ Bucket: userBucket, Key: 'mine', Body: 'user data' }));
    expect((await bodyBytes((await user.send(new GetObjectCommand({ Bucket: userBucket, Key: 'mine' }))).Body)).toString()).toBe('user data');
    const names = await bucketNames(user);
    expect(names).toContain(userBucket);
    expect(names).not.toContain(rootBucket);
  });

  it('the non-root key gets AccessDenied on the root bucket, and nothing changes', async () => {
    const ops = [
      () => user.send(new ListObjectsV2Command({ Bucket: rootBucket })),
      () => user.send(new GetObjectCommand({ Bucket: rootBucket, Key: 'secret.txt' })),
      () => user.send(new PutObjectCommand({ Bucket: rootBucket, Key: 'secret.txt', Body: 'overwritten' })),
      () => user.send(new PutObjectCommand({ Bucket: rootBucket, Key: 'new.txt', Body: 'x' })),
      () => user.send(new DeleteObjectCommand({ Bucket: rootBucket, Key: 'secret.txt' })),
      () => user.send(new DeleteBucketCommand({ Bucket: rootBucket })),
      () => user.send(new GetBucketLocationCommand({ Bucket: rootBucket })),
    ];
    for (const op of ops) {
      const e = await sdkError(op());
      expect(e.name).toBe('AccessDenied');
      expect(e.status).toBe(403);
      expect(e.requestId).toBeTruthy();
    }
    const head = await sdkError(user.send(new HeadBucketCommand({ Bucket: rootBucket })));
    expect(head.status).toBe(403);
    const list = await root.send(new ListObjectsV2Command({ Bucket: rootBucket }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['secret.txt']);
    expect((await bodyBytes((await root.send(new GetObjectCommand({ Bucket: rootBucket, Key: 'secret.txt' }))).Body)).toString()).toBe('root data');
  });

  it('the root key may use any bucket', async () => {
    const list = await root.send(new ListObjectsV2Command({ Bucket: userBucket }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['mine']);
  });
});

describe('virtual-host style (domain "localhost")', () => {
  let vt: TestGateway;
  let vhost: S3Client;
  const b = uniqueBucket('vh');

  beforeAll(async () => {
    vt = await startTestGateway({ domain: 'localhost' });
    vhost = s3Client(vt.gw, undefined, { forcePathStyle: false, endpoint: `http://localhost:${vt.gw.port}` });
  });
  afterAll(async () => {
    vhost?.destroy();
    await vt?.stop();
  });

  it('SDK with forcePathStyle false: create, put, get, list, head', async () => {
    await vhost.send(new CreateBucketCommand({ Bucket: b }));
    await vhost.send(new PutObjectCommand({ Bucket: b, Key: 'dir/hello world.txt', Body: 'vh body' }));
    const g = await vhost.send(new GetObjectCommand({ Bucket: b, Key: 'dir/hello world.txt' }));
    expect((await bodyBytes(g.Body)).toString()).toBe('vh body');
    const l = await vhost.send(new ListObjectsV2Command({ Bucket: b }));
    expect(l.Contents?.map((c) => c.Key)).toEqual(['dir/hello world.txt']);
    expect((await vhost.send(new HeadBucketCommand({ Bucket: b }))).$metadata.httpStatusCode).toBe(200);
  });

  it('raw request with Host: <bucket>.localhost and path-style on the same gateway agree', async () => {
    const v = await rawRequest(vt.gw, { method: 'GET', path: '/dir/hello%20world.txt', host: `${b}.localhost:${vt.gw.port}` });
    expect(v.status).toBe(200);
    expect(v.text).toBe('vh body');
    const p = await rawRequest(vt.gw, { method: 'GET', path: `/${b}/dir/hello%20world.txt` });
    expect(p.status).toBe(200);
    expect(p.text).toBe('vh body');
    const list = await rawRequest(vt.gw, { method: 'GET', path: '/', query: 'list-type=2', host: `${b}.localhost:${vt.gw.port}` });
    expect(list.status).toBe(200);
    expect(parseXml(list.text).Name).toBe(b);
  });
});
