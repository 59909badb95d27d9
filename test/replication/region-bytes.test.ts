/**
 * Reading in one region bytes another region holds, for real: two gateways (iad, fra), each
 * with its own metadata, volume and Redis, one topology and one cluster secret. A version is
 * written in iad and its change applied in fra as replication delivers it (body: held in iad);
 * @aws-sdk/client-s3 then reads it in fra. iad's internal endpoint sits behind a proxy that
 * records every fetch fra makes and can cut an answer short.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import { applyChanges } from '../../replication/apply.js';
import { freePort } from '../helpers/child.js';
import { bodyBytes, ROOT, s3Client, sdkError, startTestGateway, tempDir, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { describeNeeds } from '../helpers/requires.js';
import { redisServer, startProxy, startRedis, topology, type InternalProxy, type TestRedis } from './region-support.js';

const CREATED = 1_700_000_000_000;

interface Region {
  name: string;
  port: number;
  metaDir: string;
  redis: TestRedis;
  gw: TestGateway;
  kv: KvStore;
  s3: S3Client;
}

describeNeeds(redisServer)('bytes held in another region (iad writes, fra reads)', () => {
  const bucket = uniqueBucket('xr');
  let iad: Region;
  let fra: Region;
  let proxy: InternalProxy;

  async function startRegion(name: string, port: number, urls: Record<string, string[]>): Promise<Region> {
    const metaDir = tempDir(`erne-${name}-meta-`);
    const redis = await startRedis();
    const gw = await startTestGateway({ region: name, port, metadata: { backend: 'lmdb', dir: metaDir }, cluster: { topology: topology(name, urls), redisUrl: redis.url } });
    const kv = await openLmdb(metaDir);
    await createObjectLayer(kv, { region: name }).createBucket({ name: bucket, owner: ROOT.accessKeyId, region: 'iad', createdAt: CREATED });
    return { name, port, metaDir, redis, gw, kv, s3: s3Client(gw.gw) };
  }

  /** PUT in iad, then apply its version in fra as replication delivers it: the bytes stay in iad */
  async function writeInIad(key: string, body: Buffer, extra: { ContentType?: string; Metadata?: Record<string, string> } = {}): Promise<string> {
    const put = await iad.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...extra }));
    await replicate(key);
    return put.ETag!;
  }

  async function replicate(key: string): Promise<void> {
    const { body: _local, ...fields } = await createObjectLayer(iad.kv, { region: 'iad' }).getObject(bucket, key);
    await applyChanges(fra.kv, [{ kind: 'version', bucketCreatedAt: CREATED, version: { ...fields, body: { kind: 'remote', region: 'iad' } } }]);
  }

  const getInFra = async (key: string, range?: string) => {
    const r = await fra.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
    return { r, bytes: await bodyBytes(r.Body) };
  };
  const fetchesOf = (key: string) => proxy.fetched.filter((f) => f.key === key);

  beforeAll(async () => {
    proxy = await startProxy();
    const [iadPort, fraPort] = [await freePort(), await freePort()];
    proxy.target = iadPort;
    const urls = { iad: [proxy.url], fra: [`http://127.0.0.1:${fraPort}`] };
    iad = await startRegion('iad', iadPort, urls);
    fra = await startRegion('fra', fraPort, urls);
  });

  afterAll(async () => {
    await proxy?.close();
    for (const r of [iad, fra]) {
      if (!r) continue;
      await r.gw.stop();
      await r.kv.close();
      await r.redis.stop();
      rmSync(r.metaDir, { recursive: true, force: true });
    }
  });

  it("a GET in fra returns iad's exact bytes, ETag and metadata, small and multi-MiB; the second GET is served from fra's cache", async () => {
    const small = randomBytes(100 * 1024 + 1);
    const big = randomBytes(6 * 1024 * 1024 + 5);
    const smallEtag = await writeInIad('small.bin', small, { ContentType: 'application/x-small', Metadata: { color: 'teal' } });
    const bigEtag = await writeInIad('big.bin', big);

    const first = await getInFra('small.bin');
    expect(first.bytes.equals(small)).toBe(true);
    expect([first.r.ETag, first.r.ContentLength, first.r.ContentType, first.r.Metadata]).toEqual([smallEtag, small.length, 'application/x-small', { color: 'teal' }]);
    const bigGot = await getInFra('big.bin');
    expect(bigGot.bytes.equals(big)).toBe(true);
    expect(bigGot.r.ETag).toBe(bigEtag);
    expect(fetchesOf('small.bin')).toEqual([{ key: 'small.bin', status: 200 }]);
    expect(fetchesOf('big.bin')).toEqual([{ key: 'big.bin', status: 200 }]);

    // from fra's own copy now: iad is not asked again
    await expect.poll(() => fra.gw.gw.regionBytes!.stats().entries).toBe(2);
    expect((await getInFra('small.bin')).bytes.equals(small)).toBe(true);
    expect((await getInFra('big.bin', 'bytes=1000-1999')).bytes.equals(big.subarray(1000, 2000))).toBe(true);
    expect(fetchesOf('small.bin')).toHaveLength(1);
    expect(fetchesOf('big.bin')).toHaveLength(1);
    expect(fra.gw.gw.regionBytes!.stats().hits).toBe(2);
  });

  it('a range GET that misses fetches just its range from iad, and the whole object fills behind it', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    await writeInIad('ranged.bin', body);
    const tail = await getInFra('ranged.bin', `bytes=${body.length - 100}-`);
    expect(tail.r.ContentRange).toBe(`bytes ${body.length - 100}-${body.length - 1}/${body.length}`);
    expect(tail.bytes.equals(body.subarray(body.length - 100))).toBe(true);
    expect(fetchesOf('ranged.bin')).toContainEqual({ key: 'ranged.bin', range: `bytes=${body.length - 100}-${body.length - 1}`, status: 206 });
    await expect.poll(() => fetchesOf('ranged.bin').filter((f) => !f.range && f.status === 200)).toHaveLength(1);
    expect((await getInFra('ranged.bin')).bytes.equals(body)).toBe(true);
    expect(fetchesOf('ranged.bin')).toHaveLength(2);
  });

  it('concurrent GETs in fra of an object it has not read share one fetch from iad', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 11);
    await writeInIad('popular.bin', body);
    const reads = await Promise.all(Array.from({ length: 6 }, () => getInFra('popular.bin')));
    for (const r of reads) expect(r.bytes.equals(body)).toBe(true);
    expect(fetchesOf('popular.bin')).toEqual([{ key: 'popular.bin', status: 200 }]);
  });

  it("a multipart object's bytes (its parts in iad) are read in fra, whole and across a part boundary", async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1024 * 1024 + 7)];
    const { UploadId } = await iad.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }));
    const etags: string[] = [];
    for (const [i, p] of parts.entries()) etags.push((await iad.s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, PartNumber: i + 1, Body: p }))).ETag!);
    const done = await iad.s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    await replicate('mp.bin');
    const whole = Buffer.concat(parts);
    const from = 5 * 1024 * 1024 - 3;
    expect((await getInFra('mp.bin', `bytes=${from}-${from + 9}`)).bytes.equals(whole.subarray(from, from + 10))).toBe(true);
    const got = await getInFra('mp.bin');
    expect(got.bytes.equals(whole)).toBe(true);
    expect(got.r.ETag).toBe(done.ETag);
  });

  it('bytes cut short on the way are never served as a complete object, nor kept', async () => {
    const body = randomBytes(2 * 1024 * 1024);
    await writeInIad('cut.bin', body);
    const entries = fra.gw.gw.regionBytes!.stats().entries;
    proxy.cutAfter = 512 * 1024;
    try {
      const r = await fra.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'cut.bin' }));
      expect(r.ContentLength).toBe(body.length);
      await expect(bodyBytes(r.Body)).rejects.toThrow();
    } finally {
      proxy.cutAfter = undefined;
    }
    expect(fra.gw.gw.regionBytes!.stats().entries).toBe(entries);
    expect((await getInFra('cut.bin')).bytes.equals(body)).toBe(true);
    expect(fetchesOf('cut.bin').filter((f) => !f.range)).toHaveLength(2);
  });

  it('with iad stopped: what fra has read or copied is still served; what it has not is a 503 naming iad; HEAD still answers', async () => {
    const kept = randomBytes(4 * 1024 * 1024 + 1);
    await writeInIad('kept.bin', kept);
    expect((await getInFra('kept.bin')).bytes.equals(kept)).toBe(true);
    const unread = randomBytes(200 * 1024);
    await writeInIad('unread.bin', unread);
    // a copy made in fra holds its own bytes there (iad knows nothing of the new version)
    const original = randomBytes(300 * 1024);
    await writeInIad('original.bin', original);
    const copied = await fra.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy.bin', CopySource: `${bucket}/original.bin` }));
    await iad.gw.stop();
    await proxy.close();

    expect((await getInFra('kept.bin')).bytes.equals(kept)).toBe(true);
    expect((await getInFra('kept.bin', `bytes=${kept.length - 10}-`)).bytes.equals(kept.subarray(kept.length - 10))).toBe(true);
    expect(fetchesOf('kept.bin')).toHaveLength(1);

    const err = await sdkError(fra.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'unread.bin' })));
    expect(err).toMatchObject({ name: 'ServiceUnavailable', status: 503, message: "The object's bytes are held in region iad, which cannot be reached now." });
    const ranged = await sdkError(fra.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'unread.bin', Range: 'bytes=100000-100009' })));
    expect([ranged.name, ranged.status]).toEqual(['ServiceUnavailable', 503]);
    const head = await fra.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'unread.bin' }));
    expect(head.ContentLength).toBe(unread.length);
    const copy = await getInFra('copy.bin');
    expect(copy.bytes.equals(original)).toBe(true);
    expect(copy.r.ETag).toBe(copied.CopyObjectResult?.ETag);
  });
});
