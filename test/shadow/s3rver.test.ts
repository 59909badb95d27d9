/**
 * A shadow bucket in front of s3rver (another S3 implementation, as a child process): the
 * source client (gateway/shadow/source.ts) signs, lists and streams for a server that is not
 * Erne. Reads copy in with bytes, ETag and metadata equal; listings merge; write-through
 * reaches s3rver; `erne storage migrate` copies the rest.
 */
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, paginateListObjectsV2, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3rverTarget, startTarget, type RunningTarget } from '../../bench/targets.js';
import { bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { erneAt } from '../helpers/storage-app.js';

const erne = useGateway();
let s3rver: RunningTarget;
let src: S3Client;
let bucket: string;

beforeAll(async () => {
  // s3rver's continuation tokens use DES, which Node 20's OpenSSL 3 offers only with its legacy provider
  const spec = s3rverTarget();
  s3rver = await startTarget({ ...spec, command: (dir, port) => ({ ...spec.command(dir, port), env: { NODE_OPTIONS: '--openssl-legacy-provider' } }) });
  src = new S3Client({ endpoint: s3rver.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  bucket = uniqueBucket('s3rver');
  await src.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  src?.destroy();
  await s3rver?.stop();
});

async function list(c: S3Client, b: string, pageSize: number): Promise<string[]> {
  const out: string[] = [];
  for await (const page of paginateListObjectsV2({ client: c, pageSize }, { Bucket: b })) for (const o of page.Contents ?? []) out.push(o.Key!);
  return out;
}

describe('a shadow bucket in front of s3rver', () => {
  it('reads through, merges listings, writes through and migrates the rest', async () => {
    const keys = ['docs/a b.txt', 'docs/c+d.txt', 'img/1.png', 'z'];
    for (const k of keys) await src.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: `s3rver ${k}`, ContentType: 'text/plain', Metadata: { from: 's3rver' } }));
    const name = uniqueBucket('over-s3rver');
    const made = await erneAt(erne.gw.url, ['storage', 'create', '-n', name, '--shadow-endpoint', s3rver.endpoint, '--shadow-bucket', bucket, '--shadow-access-key', 'S3RVER', '--shadow-secret-key', 'S3RVER', '--shadow-write-through']);
    expect(made.code, made.stderr).toBe(0);
    const c = erne.s3;

    const at = await src.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/a b.txt' }));
    const got = await c.send(new GetObjectCommand({ Bucket: name, Key: 'docs/a b.txt' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('s3rver docs/a b.txt');
    expect(got.ETag).toBe(at.ETag);
    expect(got.ContentType).toBe('text/plain');
    expect(got.Metadata).toEqual({ from: 's3rver' });
    const head = await c.send(new HeadObjectCommand({ Bucket: name, Key: 'docs/c+d.txt' }));
    expect(head.ContentLength).toBe('s3rver docs/c+d.txt'.length);
    expect(head.Metadata).toEqual({ from: 's3rver' });

    await c.send(new PutObjectCommand({ Bucket: name, Key: 'here.txt', Body: 'written in Erne' }));
    // written through to s3rver
    const there = await src.send(new GetObjectCommand({ Bucket: bucket, Key: 'here.txt' }));
    expect((await bodyBytes(there.Body)).toString()).toBe('written in Erne');
    await c.send(new DeleteObjectCommand({ Bucket: name, Key: 'z' }));
    expect((await sdkError(src.send(new HeadObjectCommand({ Bucket: bucket, Key: 'z' })))).status).toBe(404);

    expect(await list(c, name, 2)).toEqual(['docs/a b.txt', 'docs/c+d.txt', 'here.txt', 'img/1.png']);

    const run = await erneAt(erne.gw.url, ['storage', 'migrate', name]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toMatch(/: done: 4\/4 objects migrated \(1 copied, 3 already here\)$/);
    const off = await erneAt(erne.gw.url, ['storage', 'update', name, '--no-shadow']);
    expect(off.code, off.stderr).toBe(0);
    await src.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'img/1.png' }));
    expect(await list(c, name, 1000)).toEqual(['docs/a b.txt', 'docs/c+d.txt', 'here.txt', 'img/1.png']);
  });
});
