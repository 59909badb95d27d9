/**
 * Many gateways per region: two gateways share ONE metadata store (one LMDB environment, or one
 * FDB keyspace under ERNE_TEST_METADATA=fdb) and each has its own volume and node id. What one
 * writes, the other reads at once; bytes only the writer holds are fetched over the internal
 * endpoint and then served from the reader's cache; conditional writes racing through both
 * have exactly one winner.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { rmSync } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, s3Client, sdkError, startTestGateway, tempDir, testMetadata, uniqueBucket, type TestGateway } from '../helpers/gateway.js';

const md5 = async (b: Buffer) => (await import('node:crypto')).createHash('md5').update(b).digest('hex');

describe('two gateways of one region, one metadata store, different volumes', () => {
  let a: TestGateway;
  let b: TestGateway;
  let sa: S3Client;
  let sb: S3Client;
  let metaDir: string;
  let shared: ReturnType<typeof testMetadata>;
  const bucket = uniqueBucket('multi');

  beforeAll(async () => {
    metaDir = tempDir('erne-shared-meta-');
    shared = testMetadata();
    const metadata = shared.metadata ?? { backend: 'lmdb' as const, dir: metaDir };
    a = await startTestGateway({ metadata, nodeId: 'node-a', log: (l) => console.error('A', l) });
    b = await startTestGateway({ metadata, nodeId: 'node-b', log: (l) => console.error('B', l) });
    sa = s3Client(a.gw);
    sb = s3Client(b.gw);
    await sa.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await shared?.drop();
    rmSync(metaDir, { recursive: true, force: true });
  });

  it('the two gateways really are different nodes with different volumes', () => {
    expect(a.gw.nodeId).not.toBe(b.gw.nodeId);
    expect(a.dataDir).not.toBe(b.dataDir);
  });

  it('a small (inline) object written through one is read through the other at once: bytes, ETag, listing', async () => {
    const body = Buffer.from('hello from gateway a');
    const put = await sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'small.txt', Body: body, ContentType: 'text/plain' }));
    const got = await sb.send(new GetObjectCommand({ Bucket: bucket, Key: 'small.txt' }));
    expect(await bodyBytes(got.Body)).toEqual(body);
    expect(got.ETag).toBe(put.ETag);
    expect(got.ContentType).toBe('text/plain');
    const list = await sb.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(list.Contents?.map((c) => [c.Key, c.ETag, c.Size])).toContainEqual(['small.txt', put.ETag, body.length]);
  });

  it('a blob-backed object is fetched from the owning node once, then served from the local cache', async () => {
    const body = randomBytes(300 * 1024 + 7);
    const put = await sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: body }));
    expect(put.ETag).toBe(`"${await md5(body)}"`);
    const before = b.gw.remote.stats();

    const first = await sb.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    expect(first.ETag).toBe(put.ETag);
    expect(first.ContentLength).toBe(body.length);
    expect((await bodyBytes(first.Body)).equals(body)).toBe(true);
    const afterFirst = b.gw.remote.stats();
    expect(afterFirst.fetches).toBe(before.fetches + 1);

    // from the cache now: no second fetch, ranges included
    const again = await sb.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
    expect((await bodyBytes(again.Body)).equals(body)).toBe(true);
    const range = await sb.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', Range: 'bytes=100000-100099' }));
    expect(await bodyBytes(range.Body)).toEqual(body.subarray(100000, 100100));
    const afterCache = b.gw.remote.stats();
    expect(afterCache.fetches).toBe(afterFirst.fetches);
    expect(afterCache.hits).toBe(afterFirst.hits + 2);
    expect(afterCache.entries).toBeGreaterThan(0);

    // and the other way round: written through b, read through a
    const back = randomBytes(100 * 1024);
    const put2 = await sb.send(new PutObjectCommand({ Bucket: bucket, Key: 'from-b.bin', Body: back }));
    const got2 = await sa.send(new GetObjectCommand({ Bucket: bucket, Key: 'from-b.bin' }));
    expect(got2.ETag).toBe(put2.ETag);
    expect((await bodyBytes(got2.Body)).equals(back)).toBe(true);
  });

  it('a range read that misses the cache streams just that range, and fills the cache', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 3);
    await sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Body: body }));
    const before = b.gw.remote.stats();
    const r = await sb.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin', Range: 'bytes=1048570-1048580' }));
    expect(await bodyBytes(r.Body)).toEqual(body.subarray(1048570, 1048581));
    const whole = await sb.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranged.bin' }));
    expect((await bodyBytes(whole.Body)).equals(body)).toBe(true);
    expect(b.gw.remote.stats().fetches).toBe(before.fetches + 1);
  });

  it('concurrent misses for one blob share one fetch', async () => {
    const body = randomBytes(1024 * 1024);
    await sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'popular.bin', Body: body }));
    const before = b.gw.remote.stats().fetches;
    const reads = await Promise.all(
      Array.from({ length: 6 }, async () => bodyBytes((await sb.send(new GetObjectCommand({ Bucket: bucket, Key: 'popular.bin' }))).Body)),
    );
    for (const r of reads) expect(r.equals(body)).toBe(true);
    expect(b.gw.remote.stats().fetches).toBe(before + 1);
  });

  it('HEAD through the other gateway fetches nothing', async () => {
    const body = randomBytes(64 * 1024);
    const put = await sa.send(new PutObjectCommand({ Bucket: bucket, Key: 'headed.bin', Body: body }));
    const before = b.gw.remote.stats().fetches;
    const head = await sb.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headed.bin' }));
    expect(head.ETag).toBe(put.ETag);
    expect(head.ContentLength).toBe(body.length);
    expect(b.gw.remote.stats().fetches).toBe(before);
  });

  it('If-None-Match: * racing through both gateways has exactly one winner per key', async () => {
    const rounds = 40;
    for (let i = 0; i < rounds; i++) {
      const key = `race/${i}`;
      const attempt = (c: S3Client, who: string) =>
        c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: who, IfNoneMatch: '*' })).then(
          () => ({ who, ok: true as const }),
          (e: { $metadata?: { httpStatusCode?: number }; name: string }) => ({ who, ok: false as const, status: e.$metadata?.httpStatusCode, name: e.name }),
        );
      const results = await Promise.all([attempt(sa, 'a'), attempt(sb, 'b')]);
      const winners = results.filter((r) => r.ok);
      expect(winners, JSON.stringify(results)).toHaveLength(1);
      const loser = results.find((r) => !r.ok)!;
      expect(loser).toMatchObject({ status: 412, name: 'PreconditionFailed' });
      // both gateways agree on the winner
      const viaA = await bodyBytes((await sa.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
      const viaB = await bodyBytes((await sb.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
      expect(viaA.toString()).toBe(winners[0]!.who);
      expect(viaB.toString()).toBe(winners[0]!.who);
    }
  });

  it('the internal endpoint refuses requests without the region signature; S3 is unaffected', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      http
        .get(`${a.gw.url}/.erne/internal/blobs/${'0'.repeat(24)}`, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    expect(status).toBe(403);
    const err = await sdkError(sa.send(new GetObjectCommand({ Bucket: bucket, Key: 'absent' })));
    expect(err.name).toBe('NoSuchKey');
  });
});
