/**
 * The apply endpoint of a real gateway (`POST /.erne/internal/replication/apply`), driven with
 * raw requests as another region — or an attacker — sends them: a good one is applied and
 * readable through S3; tampered, replayed, stale, unsigned, foreign-region and body-swapped
 * requests are refused with 401 and change nothing; malformed bodies get 400, a change whose
 * bucket has not arrived 409, an oversized body 413.
 */
import { rmSync } from 'node:fs';
import http from 'node:http';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import { CLUSTER_HEADERS, MAX_SKEW_MS } from '../../replication/cluster-auth.js';
import { encodeApplyBody, MAX_APPLY_BODY_BYTES } from '../../replication/wire.js';
import { post, signApply, testTopology, versionChange } from '../helpers/cluster.js';
import { bodyBytes, ROOT, s3Client, sdkError, startTestGateway, tempDir, uniqueBucket, type TestGateway } from '../helpers/gateway.js';

const CREATED = 1_700_000_000_000;
let gw: TestGateway;
let plain: TestGateway;
let kv: KvStore;
let s3: S3Client;
let metaDir: string;
const bucket = uniqueBucket('apply');

beforeAll(async () => {
  metaDir = tempDir('erne-apply-meta-');
  // this gateway is iad; the test speaks as fra. No relay here (no Redis): only the endpoint.
  const topology = testTopology('iad', { iad: ['http://127.0.0.1:1'], fra: ['http://127.0.0.1:2'] });
  gw = await startTestGateway({ region: 'iad', metadata: { backend: 'lmdb', dir: metaDir }, cluster: { topology, redisUrl: 'redis://127.0.0.1:1' }, replicationWorker: false });
  plain = await startTestGateway();
  s3 = s3Client(gw.gw);
  kv = await openLmdb(metaDir);
  await createObjectLayer(kv, { region: 'iad' }).createBucket({ name: bucket, owner: ROOT.accessKeyId, region: 'iad', createdAt: CREATED });
});

afterAll(async () => {
  await gw?.stop();
  await plain?.stop();
  await kv?.close();
  rmSync(metaDir, { recursive: true, force: true });
});

const as = (region: string, body: Buffer, now?: number) => signApply(body, { region, now });

async function absent(key: string): Promise<void> {
  const err = await sdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  expect(err.name).toBe('NoSuchKey');
}

describe('POST /.erne/internal/replication/apply', () => {
  it('a signed batch from another region is applied (204) and read through S3: bytes, ETag, metadata', async () => {
    const c = versionChange(bucket, CREATED, 'good.txt', 'hello from fra', 'fra');
    const r = await post(gw.gw.url, as('fra', encodeApplyBody([c])));
    expect(r).toEqual({ status: 204, text: '' });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'good.txt' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('hello from fra');
    expect(got.ETag).toBe(`"${c.kind === 'version' ? c.version.etag : ''}"`);
    expect(got.Metadata).toEqual({ from: 'fra' });
  });

  it('the same changes again (a redelivery, newly signed) are applied idempotently', async () => {
    const c = versionChange(bucket, CREATED, 'twice.txt', 'once', 'fra');
    expect((await post(gw.gw.url, as('fra', encodeApplyBody([c])))).status).toBe(204);
    expect((await post(gw.gw.url, as('fra', encodeApplyBody([c])))).status).toBe(204);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'twice.txt' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('once');
  });

  it('a replayed request (same nonce) is refused: 401 replayed', async () => {
    const req = as('fra', encodeApplyBody([versionChange(bucket, CREATED, 'replay.txt', 'r', 'fra')]));
    expect((await post(gw.gw.url, req)).status).toBe(204);
    const again = await post(gw.gw.url, req);
    expect(again.status).toBe(401);
    expect(again.text).toMatch(/replayed/);
  });

  it('a tampered request (signed hash swapped for another body) is refused: 401 tampered, nothing applied', async () => {
    const honest = as('fra', encodeApplyBody([versionChange(bucket, CREATED, 'honest.txt', 'h', 'fra')]));
    const evil = encodeApplyBody([versionChange(bucket, CREATED, 'evil.txt', 'e', 'fra')]);
    const evilHash = signApply(evil, { region: 'fra' }).headers[CLUSTER_HEADERS.bodySha256]!;
    const r = await post(gw.gw.url, { headers: { ...honest.headers, [CLUSTER_HEADERS.bodySha256]: evilHash }, body: evil });
    expect(r.status).toBe(401);
    expect(r.text).toMatch(/tampered/);
    await absent('evil.txt');
  });

  it('a request signed with another secret is refused: 401 tampered', async () => {
    const body = encodeApplyBody([versionChange(bucket, CREATED, 'wrong-secret.txt', 'w', 'fra')]);
    const r = await post(gw.gw.url, signApply(body, { region: 'fra', secret: 'not-the-cluster-secret-at-all' }));
    expect(r.status).toBe(401);
    expect(r.text).toMatch(/tampered/);
    await absent('wrong-secret.txt');
  });

  it('a stale request (signed two skew windows ago) is refused: 401 stale', async () => {
    const body = encodeApplyBody([versionChange(bucket, CREATED, 'stale.txt', 's', 'fra')]);
    const r = await post(gw.gw.url, as('fra', body, Date.now() - 2 * MAX_SKEW_MS));
    expect(r.status).toBe(401);
    expect(r.text).toMatch(/stale/);
    await absent('stale.txt');
  });

  it('a body that does not hash to the signed hash is refused: 401, nothing applied', async () => {
    const signed = as('fra', encodeApplyBody([versionChange(bucket, CREATED, 'signed.txt', 's', 'fra')]));
    const other = encodeApplyBody([versionChange(bucket, CREATED, 'swapped.txt', 'x', 'fra')]);
    const r = await post(gw.gw.url, { headers: signed.headers, body: other });
    expect(r.status).toBe(401);
    expect(r.text).toMatch(/body does not match its signed hash/);
    await absent('swapped.txt');
    await absent('signed.txt');
  });

  it('unsigned, self-signed and unknown-region requests are refused: 401', async () => {
    const body = encodeApplyBody([versionChange(bucket, CREATED, 'who.txt', 'w', 'fra')]);
    const none = await post(gw.gw.url, { headers: {}, body });
    expect(none.status).toBe(401);
    expect(none.text).toMatch(/missing/);
    for (const region of ['iad', 'sin']) {
      const r = await post(gw.gw.url, as(region, body));
      expect(r.status, region).toBe(401);
      expect(r.text).toMatch(/not another region of this cluster/);
    }
    await absent('who.txt');
  });

  it('malformed bodies are refused: 400', async () => {
    const packr = new Packr({ useRecords: false });
    const bodies = [
      Buffer.from('not msgpack at all \xc1'),
      packr.pack({ changes: 'nope' }),
      packr.pack([1, 2, 3]),
      packr.pack({ changes: [{ kind: 'version', bucketCreatedAt: CREATED }] }),
      packr.pack({ changes: [{ kind: 'purge', bucket }] }),
      packr.pack({ changes: [42] }),
    ];
    for (const body of bodies) {
      const r = await post(gw.gw.url, as('fra', body));
      expect(r.status, r.text).toBe(400);
      expect(r.text).toMatch(/^malformed apply body/);
    }
  });

  it('a change whose bucket has not reached this region is not ready: 409, and applies once the bucket is there', async () => {
    const later = uniqueBucket('later');
    const c = versionChange(later, CREATED + 1, 'k', 'waits', 'fra');
    const r = await post(gw.gw.url, as('fra', encodeApplyBody([c])));
    expect(r.status).toBe(409);
    expect(r.text).toMatch(/^not ready: bucket .* has not reached this region yet/);
    await createObjectLayer(kv, { region: 'iad' }).createBucket({ name: later, owner: ROOT.accessKeyId, region: 'iad', createdAt: CREATED + 1 });
    expect((await post(gw.gw.url, as('fra', encodeApplyBody([c])))).status).toBe(204);
    const got = await s3.send(new GetObjectCommand({ Bucket: later, Key: 'k' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('waits');
  });

  it('a body over 16 MiB is refused before it is read: 413', async () => {
    const { headers } = as('fra', Buffer.alloc(0));
    const status = await new Promise<number>((resolve, reject) => {
      const r = http.request(new URL('/.erne/internal/replication/apply', gw.gw.url), {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(MAX_APPLY_BODY_BYTES + 1) },
      });
      r.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      r.once('error', reject);
      r.flushHeaders();
    });
    expect(status).toBe(413);
  });

  it('GET is not allowed (405); a gateway outside any cluster has no such endpoint (404)', async () => {
    const get = await post(gw.gw.url, { method: 'GET', headers: {}, body: Buffer.alloc(0) });
    expect(get.status).toBe(405);
    const r = await post(plain.gw.url, as('fra', encodeApplyBody([])));
    expect(r.status).toBe(404);
    expect(r.text).toMatch(/not part of a cluster/);
  });
});
