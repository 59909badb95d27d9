/**
 * @aws-sdk/client-s3 + @aws-sdk/lib-storage (default checksums on) doing an application's
 * normal job: make a bucket, upload small objects and a 12 MiB stream through `Upload` (5 MiB
 * parts, so multipart), list with the paginator, download and compare, server-side copy,
 * delete in bulk, and "sync" a directory tree (upload all, list back, compare hashes).
 * Deep SDK behaviour is tested in test/e2e/sdk-*.test.ts; this is the walk-through.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, describe, expect, it } from 'vitest';
import { bodyBytes, s3Client, uniqueBucket } from '../../helpers/gateway.js';
import { useClientSuite } from './suite.js';
import { makeTree, randomFile, sortedEntries } from './support.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

const bucket = uniqueBucket('sdk');
/** the client under test, through the tracing proxy */
let s3: S3Client;
const suite = useClientSuite({
  name: 'aws-sdk',
  setup: async ({ tr }) => {
    s3 = s3Client(tr);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  },
});
afterAll(() => s3?.destroy());

async function getMd5(key: string): Promise<string> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const h = createHash('md5');
  for await (const c of got.Body as AsyncIterable<Uint8Array>) h.update(c);
  return h.digest('hex');
}

async function listAll(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 50 }, { Bucket: bucket, Prefix: prefix, MaxKeys: 50 })) {
    for (const o of page.Contents ?? []) keys.push(o.Key!);
  }
  return keys;
}

describe('@aws-sdk/client-s3 + lib-storage', () => {
  it('PutObject small objects and GetObject them back', async () => {
    const data = randomBytes(3000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small/one.bin', Body: data, ContentType: 'application/x-test' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small/one.bin' }));
    expect(got.ContentType).toBe('application/x-test');
    expect(md5(await bodyBytes(got.Body))).toBe(md5(data));
  });

  it('lib-storage Upload of a 12 MiB file stream with 5 MiB parts (multipart), downloaded intact', async () => {
    const path = join(suite.dir, 'twelve.bin');
    const sum = await randomFile(path, 12 * MiB + 77);
    const up = new Upload({ client: s3, params: { Bucket: bucket, Key: 'big/twelve.bin', Body: createReadStream(path) }, partSize: 5 * MiB, queueSize: 2 });
    const res = await up.done();
    expect(res.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/twelve.bin' }));
    expect(head.ContentLength).toBe(12 * MiB + 77);
    expect(await getMd5('big/twelve.bin')).toBe(sum);
  });

  it('lib-storage Upload of a small body stays a single PUT', async () => {
    const data = randomBytes(1000);
    const res = await new Upload({ client: s3, params: { Bucket: bucket, Key: 'small/upload.bin', Body: data } }).done();
    expect(res.ETag).toBe(`"${md5(data)}"`);
  });

  it('CopyObject (server-side) to a new key, and over itself with REPLACE metadata', async () => {
    const data = randomBytes(5000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'copy/src.bin', Body: data }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/dst.bin', CopySource: `${bucket}/copy/src.bin` }));
    expect(await getMd5('copy/dst.bin')).toBe(md5(data));
    await s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy/src.bin', CopySource: `${bucket}/copy/src.bin`, MetadataDirective: 'REPLACE', Metadata: { tag: 'v2' } }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/src.bin' }));
    expect(head.Metadata).toEqual({ tag: 'v2' });
  });

  it('copies the 12 MiB multipart object server-side', async () => {
    const src = join(suite.dir, 'copy12.bin');
    const sum = await randomFile(src, 12 * MiB);
    await new Upload({ client: s3, params: { Bucket: bucket, Key: 'copy/big-src.bin', Body: createReadStream(src) }, partSize: 5 * MiB }).done();
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/big-dst.bin', CopySource: `${bucket}/copy/big-src.bin` }));
    expect(await getMd5('copy/big-dst.bin')).toBe(sum);
  });

  it('"syncs" a tree of 120 files: uploads, paginated listing and downloads match', async () => {
    const root = join(suite.dir, 'tree');
    const tree = makeTree(root, 120);
    const queue = [...tree.keys()];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `tree/${rel}`, Body: createReadStream(join(root, rel)) }));
        }
      }),
    );
    const keys = await listAll('tree/');
    expect(keys.sort()).toEqual([...tree.keys()].map((k) => `tree/${k}`).sort());
    const got = new Map<string, string>();
    for (const k of keys) got.set(k.slice('tree/'.length), await getMd5(k));
    expect(sortedEntries(got)).toEqual(sortedEntries(tree));
  });

  it('DeleteObjects removes everything listed, then the bucket can be deleted', async () => {
    const keys = await listAll('');
    expect(keys.length).toBeGreaterThan(100);
    for (let i = 0; i < keys.length; i += 1000) {
      const res = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
      expect(res.Errors ?? []).toEqual([]);
    }
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(left.KeyCount).toBe(0);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  });
});
