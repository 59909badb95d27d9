/**
 * The internal endpoint that hands a version's bytes to another region, on a real gateway
 * (region iad), driven by raw cluster-signed requests and by the fetcher other regions use.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, PutObjectCommand, UploadPartCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import { createObjectLayer } from '../../metadata/objects.js';
import type { ObjectVersion } from '../../metadata/types.js';
import { makeVersionId } from '../../metadata/version-id.js';
import { applyChanges } from '../../replication/apply.js';
import { EMPTY_SHA256, MAX_SKEW_MS, signClusterRequest } from '../../replication/cluster-auth.js';
import { fetchRegionObject, objectTarget, OBJECT_SIZE_HEADER, RegionFetchError, type RegionFetchFailure } from '../../replication/region-fetch.js';
import { freePort } from '../helpers/child.js';
import { bodyBytes, s3Client, startTestGateway, tempDir, uniqueBucket, type TestGateway } from '../helpers/gateway.js';
import { describeNeeds } from '../helpers/requires.js';
import { CLUSTER_SECRET, redisServer, startRedis, topology, type TestRedis } from './region-support.js';

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const read = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

describeNeeds(redisServer)('GET /.erne/internal/replication/object (region iad answering other regions)', () => {
  let gw: TestGateway;
  let redis: TestRedis;
  let metaDir: string;
  let kv: KvStore;
  let layer: ObjectLayer;
  let s3: S3Client;
  let deadPort: number;
  const bucket = uniqueBucket('rob');
  const bytes = new Map<string, Buffer>();
  const versions = new Map<string, ObjectVersion>();

  /** a raw GET to the gateway's internal endpoint with these headers */
  function rawGet(target: string, headers: Record<string, string>): Promise<Raw> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: gw.gw.port, path: target, method: 'GET', headers, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end();
    });
  }

  const signed = (target: string, opts: { region?: string; secret?: string; now?: number; method?: string } = {}) =>
    signClusterRequest(opts.secret ?? CLUSTER_SECRET, { method: opts.method ?? 'GET', target, bodySha256: EMPTY_SHA256, region: opts.region ?? 'fra' }, opts.now);
  const targetOf = (key: string) => objectTarget({ bucket, key, versionId: versions.get(key)!.versionId });
  const fromFra = (urls: string[]) => topology('fra', { iad: urls, fra: ['http://127.0.0.1:1'] });

  beforeAll(async () => {
    redis = await startRedis();
    metaDir = tempDir('erne-iad-meta-');
    deadPort = await freePort();
    gw = await startTestGateway({
      region: 'iad',
      metadata: { backend: 'lmdb', dir: metaDir },
      cluster: { topology: topology('iad', { iad: ['http://127.0.0.1:1'], fra: ['http://127.0.0.1:1'] }), redisUrl: redis.url },
    });
    kv = await openLmdb(metaDir);
    layer = createObjectLayer(kv, { region: 'iad' });
    s3 = s3Client(gw.gw);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    bytes.set('small.txt', Buffer.from('a few bytes kept inline'));
    bytes.set('blob.bin', randomBytes(300 * 1024 + 1));
    bytes.set('empty', Buffer.alloc(0));
    for (const [key, body] of bytes) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    // a multipart object: its bytes are the parts' blobs
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1024 * 1024 + 3)];
    bytes.set('mp.bin', Buffer.concat(parts));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin' }));
    const etags = [];
    for (const [i, p] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, PartNumber: i + 1, Body: p }))).ETag);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    for (const key of bytes.keys()) versions.set(key, await layer.getObject(bucket, key));
    // a version deleted since, and one replicated here whose bytes region fra holds
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: randomBytes(70 * 1024) }));
    versions.set('gone', await layer.getObject(bucket, 'gone'));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
    const hlc = { wall: Date.now(), logical: 0 };
    const { body: _body, ...fields } = { ...versions.get('blob.bin')!, key: 'elsewhere', hlc, region: 'fra', versionId: makeVersionId(hlc, 'fra', 'w1') };
    const createdAt = (await layer.getBucket(bucket)).createdAt;
    await applyChanges(kv, [{ kind: 'version', bucketCreatedAt: createdAt, version: { ...fields, body: { kind: 'remote', region: 'fra' } } }]);
    versions.set('elsewhere', await layer.getObject(bucket, 'elsewhere'));
  });

  afterAll(async () => {
    await gw?.stop();
    await kv?.close();
    await redis?.stop();
    if (metaDir) rmSync(metaDir, { recursive: true, force: true });
  });

  it('streams each kind of stored version whole, with its size and ETag and an exact length', async () => {
    for (const key of ['small.txt', 'blob.bin', 'empty', 'mp.bin']) {
      const v = versions.get(key)!;
      const r = await rawGet(targetOf(key), signed(targetOf(key)));
      expect(r.status, key).toBe(200);
      expect(r.body.equals(bytes.get(key)!), key).toBe(true);
      expect(r.headers['content-length']).toBe(String(v.size));
      expect(r.headers[OBJECT_SIZE_HEADER]).toBe(String(v.size));
      expect(r.headers.etag).toBe(`"${v.etag}"`);
    }
    expect(versions.get('blob.bin')!.body?.kind).toBe('blob');
    expect(versions.get('mp.bin')!.body?.kind).toBe('parts');
  });

  it('honours a range (206), across a part boundary too; a range outside the object is 416', async () => {
    const mp = bytes.get('mp.bin')!;
    const from = 5 * 1024 * 1024 - 10;
    const r = await rawGet(targetOf('mp.bin'), { ...signed(targetOf('mp.bin')), range: `bytes=${from}-${from + 19}` });
    expect(r.status).toBe(206);
    expect(r.body.equals(mp.subarray(from, from + 20))).toBe(true);
    expect(r.headers['content-range']).toBe(`bytes ${from}-${from + 19}/${mp.length}`);
    expect(r.headers[OBJECT_SIZE_HEADER]).toBe(String(mp.length));
    const blob = bytes.get('blob.bin')!;
    const open = await rawGet(targetOf('blob.bin'), { ...signed(targetOf('blob.bin')), range: `bytes=${blob.length - 5}-` });
    expect([open.status, open.body.equals(blob.subarray(blob.length - 5))]).toEqual([206, true]);
    const outside = await rawGet(targetOf('blob.bin'), { ...signed(targetOf('blob.bin')), range: `bytes=${blob.length}-${blob.length + 5}` });
    expect(outside.status).toBe(416);
  });

  it('refuses requests that are unsigned, tampered with, stale, replayed, from itself or signed with another secret', async () => {
    const t = targetOf('blob.bin');
    const other = targetOf('small.txt');
    const cases: [string, string, Record<string, string>, RegExp][] = [
      ['unsigned', t, {}, /missing/],
      ['signed for another object', t, signed(other), /tampered/],
      ['signed for another method', t, signed(t, { method: 'POST' }), /tampered/],
      ['another secret', t, signed(t, { secret: 'not-the-cluster-secret-at-all' }), /tampered/],
      ['stale', t, signed(t, { now: Date.now() - MAX_SKEW_MS - 5000 }), /stale/],
      ['from its own region', t, signed(t, { region: 'iad' }), /not another region/],
      ['from a region not in the cluster', t, signed(t, { region: 'sin' }), /not another region/],
    ];
    for (const [what, target, headers, why] of cases) {
      const r = await rawGet(target, headers);
      expect([what, r.status], what).toEqual([what, 401]);
      expect(r.body.toString(), what).toMatch(why);
    }
    const once = signed(t);
    expect((await rawGet(t, once)).status).toBe(200);
    const again = await rawGet(t, once);
    expect([again.status, again.body.toString()]).toEqual([401, 'cluster authentication failed: replayed\n']);
  });

  it('answers 404 for a version it does not hold: unknown, deleted, or held by another region', async () => {
    const unknown = objectTarget({ bucket, key: 'blob.bin', versionId: versions.get('gone')!.versionId });
    for (const target of [unknown, targetOf('gone'), targetOf('elsewhere'), objectTarget({ bucket: 'no-such-bucket-here', key: 'k', versionId: versions.get('blob.bin')!.versionId })]) {
      const r = await rawGet(target, signed(target));
      expect(r.status, target).toBe(404);
    }
    const r = await rawGet(targetOf('elsewhere'), signed(targetOf('elsewhere')));
    expect(r.body.toString()).toMatch(/region fra does/);
    const bad = `${objectTarget({ bucket, key: 'blob.bin', versionId: 'null' })}`;
    expect((await rawGet(bad, signed(bad))).status).toBe(400);
  });

  describe('the fetcher other regions use', () => {
    const ref = (key: string) => ({ bucket, key, versionId: versions.get(key)!.versionId });
    const expectOf = (key: string) => ({ size: versions.get(key)!.size, etag: versions.get(key)!.etag });
    const failure = async (p: Promise<unknown>): Promise<RegionFetchFailure> => {
      try {
        const s = await p;
        if (s instanceof Readable) await read(s);
      } catch (err) {
        if (err instanceof RegionFetchError) return err.reason;
        throw err;
      }
      throw new Error('expected the fetch to fail');
    };

    it('gets whole objects and ranges, trying the next URL of the region when one cannot be reached', async () => {
      const t = fromFra([`http://127.0.0.1:${deadPort}`, gw.gw.url]);
      const mp = bytes.get('mp.bin')!;
      expect((await read(await fetchRegionObject(t, 'iad', ref('mp.bin'), { expect: expectOf('mp.bin') }))).equals(mp)).toBe(true);
      const range = { start: 1000, end: 5 * 1024 * 1024 + 999 };
      const part = await read(await fetchRegionObject(t, 'iad', ref('mp.bin'), { range, expect: expectOf('mp.bin') }));
      expect(createHash('md5').update(part).digest('hex')).toBe(createHash('md5').update(mp.subarray(1000, range.end + 1)).digest('hex'));
    });

    it('says missing, unreachable or mismatch, and never hands out another object', async () => {
      const t = fromFra([gw.gw.url]);
      expect(await failure(fetchRegionObject(t, 'iad', ref('gone')))).toBe('missing');
      expect(await failure(fetchRegionObject(fromFra([`http://127.0.0.1:${deadPort}`]), 'iad', ref('blob.bin')))).toBe('unreachable');
      expect(await failure(fetchRegionObject(t, 'sin', ref('blob.bin')))).toBe('unreachable');
      const wrongSecret = { ...t, secret: 'not-the-cluster-secret-at-all' };
      expect(await failure(fetchRegionObject(wrongSecret, 'iad', ref('blob.bin')))).toBe('unreachable');
      expect(await failure(fetchRegionObject(t, 'iad', ref('blob.bin'), { expect: { ...expectOf('blob.bin'), etag: 'f'.repeat(32) } }))).toBe('mismatch');
      expect(await failure(fetchRegionObject(t, 'iad', ref('blob.bin'), { expect: { ...expectOf('blob.bin'), size: 7 } }))).toBe('mismatch');
    });

    it('a region that stops answering is given up: unreachable before its answer, cut short during it', async () => {
      const body = randomBytes(64 * 1024);
      // a "region" that never answers the first request, and stalls half way through the second
      let n = 0;
      const stuck = http.createServer((_req, res) => {
        if (n++ === 0) return;
        res.writeHead(200, { 'content-length': body.length, [OBJECT_SIZE_HEADER]: body.length, etag: '"abc"' });
        res.write(body.subarray(0, body.length / 2));
      });
      await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', () => resolve()));
      try {
        const t = fromFra([`http://127.0.0.1:${(stuck.address() as AddressInfo).port}`]);
        const opts = { expect: { size: body.length, etag: 'abc' }, timeoutMs: 200 };
        expect(await failure(fetchRegionObject(t, 'iad', ref('blob.bin'), opts))).toBe('unreachable');
        expect(await failure(fetchRegionObject(t, 'iad', ref('blob.bin'), opts))).toBe('cut-short');
      } finally {
        stuck.closeAllConnections();
        await new Promise((r) => stuck.close(r));
      }
    });

    it('a body cut short ends in an error, not in a short object', async () => {
      const body = randomBytes(200 * 1024);
      // a "region" that announces the whole object and then drops the connection half way
      const liar = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-length': body.length, [OBJECT_SIZE_HEADER]: body.length, etag: '"abc"' });
        res.write(body.subarray(0, body.length / 2), () => res.destroy());
      });
      await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', () => resolve()));
      try {
        const t = fromFra([`http://127.0.0.1:${(liar.address() as AddressInfo).port}`]);
        const s = await fetchRegionObject(t, 'iad', ref('blob.bin'), { expect: { size: body.length, etag: 'abc' } });
        expect(await failure(Promise.resolve(s))).toBe('cut-short');
      } finally {
        liar.closeAllConnections();
        await new Promise((r) => liar.close(r));
      }
    });
  });
});
