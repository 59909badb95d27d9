/**
 * A multipart upload belongs to the region that created it (its id names it): UploadPart,
 * UploadPartCopy, ListParts, CompleteMultipartUpload and AbortMultipartUpload arriving at
 * another region are forwarded there as they came, so the client's own signature verifies
 * there, and the answer says which region served it. Three real regions (iad, fra, sin), each
 * its own gateway and redis-server, driven by @aws-sdk/client-s3 and lib-storage.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import aws4 from 'aws4';
import { beforeAll, expect, it } from 'vitest';
import { uploadIdRegion } from '../../metadata/upload-id.js';
import { signedChunkedPut } from '../helpers/chunked.js';
import { bodyBytes, REGION, ROOT, s3Client, sdkError, uniqueBucket } from '../helpers/gateway.js';
import { startMovingBalancer, type MovingBalancer } from '../helpers/moving-lb.js';
import { parseError, rawRequest } from '../helpers/raw.js';
import { redisServer } from '../helpers/redis.js';
import { useRegions } from '../helpers/regions.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest();
/** the ETag S3 gives a multipart object: the MD5 of its parts' MD5s, and their count */
const multipartEtag = (parts: Buffer[]) => `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-${parts.length}"`;

interface Seen {
  command: string;
  request: Record<string, string>;
  response: Record<string, string>;
}

/** records each request's and response's headers as the client sent and received them */
function recordExchanges(s3: S3Client): Seen[] {
  const seen: Seen[] = [];
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const request = (args.request as { headers: Record<string, string> }).headers;
      const response = (out.response as { headers: Record<string, string> }).headers;
      seen.push({ command: context.commandName ?? '', request: { ...request }, response: { ...response } });
      return out;
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  return seen;
}

/** S3 requests a gateway is serving now (its own metrics) */
async function inFlight(url: string): Promise<number> {
  const text = await (await fetch(`${url}/.erne/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith('erne_requests_in_flight '))?.split(' ')[1]);
}

describeNeeds(redisServer)('multipart uploads are served by the region that created them', () => {
  const cluster = useRegions(['iad', 'fra', 'sin']);
  const r = (name: string) => cluster.region(name);
  const bucket = uniqueBucket('mpu-fwd');
  /** the request-id prefix each region's gateway uses (ids are <8 hex of the process><counter>) */
  const idPrefix = new Map<string, string>();

  beforeAll(async () => {
    await r('iad').s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const region of cluster.regions) {
      await waitFor(`the bucket in ${region.name}`, () => region.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true));
      const head = await region.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      idPrefix.set(region.name, head.$metadata.requestId!.slice(0, 8));
    }
  });

  async function readEverywhere(key: string, want: Buffer, etag: string): Promise<void> {
    for (const region of cluster.regions) {
      const got = await waitFor(`${key} in ${region.name}`, () =>
        region.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then(
          async (o) => ({ bytes: await bodyBytes(o.Body), etag: o.ETag }),
          (err: Error) => (err.name === 'NoSuchKey' ? undefined : Promise.reject(err)),
        ),
      );
      expect(got!.etag, region.name).toBe(etag);
      expect(got!.bytes.equals(want), `bytes read in ${region.name}`).toBe(true);
    }
  }

  it('created in iad, parts uploaded in fra, listed in sin, completed in fra: one object, the same in every region', async () => {
    const key = 'moved/abroad.bin';
    const fra = s3Client(r('fra').gw!.gw);
    const seen = recordExchanges(fra);
    try {
      const { UploadId } = await r('iad').s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      expect(uploadIdRegion(UploadId!)).toBe('iad');
      const parts = [Buffer.alloc(5 * MiB, 'a'), Buffer.from('the last part, written through fra')];
      // part 1 a Buffer; part 2 a stream, which the SDK sends aws-chunked with a trailing checksum
      const p1 = await fra.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: parts[0] }));
      const p2 = await fra.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 2, Body: Readable.from([parts[1]!]), ContentLength: parts[1]!.length }));
      // part 1 waited for 100 Continue (which iad gave, through fra); part 2 came chunked
      expect(Object.entries(seen[0]!.request).find(([k]) => k.toLowerCase() === 'expect')?.[1]).toBe('100-continue');
      expect(seen.find((s) => s.request['content-encoding']?.includes('aws-chunked')), 'an aws-chunked UploadPart').toBeDefined();
      for (const s of seen) {
        expect(s.response['x-erne-served-by-region']).toBe('iad');
        // the request id the client sees is the one fra gave it on arrival, which iad kept (and logged)
        expect(s.response['x-amz-request-id']!.slice(0, 8)).toBe(idPrefix.get('fra'));
      }
      const listed = await r('sin').s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
      expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
        [1, parts[0]!.length, p1.ETag],
        [2, parts[1]!.length, p2.ETag],
      ]);
      const done = await fra.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] },
        }),
      );
      expect(done.ETag).toBe(multipartEtag(parts));
      // completed: the upload is listed nowhere (fra and sin would list iad's open uploads too)
      for (const name of ['fra', 'sin']) expect((await r(name).s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
      await readEverywhere(key, Buffer.concat(parts), done.ETag!);
    } finally {
      fra.destroy();
    }
  });

  it('lib-storage: an upload begun in iad through a geo load balancer that then moves to fra completes', async () => {
    const key = 'roaming/lib-storage.bin';
    const body = Buffer.alloc(11 * MiB);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i, i);
    const lb: MovingBalancer = await startMovingBalancer(r('iad').port);
    // a fresh connection per request, so each one meets the balancer's current choice
    const client = s3Client({ url: lb.url }, ROOT, { config: { requestHandler: { httpAgent: new http.Agent({ keepAlive: false }) } } });
    const seen = recordExchanges(client);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'CreateMultipartUploadCommand') lb.target = r('fra').port;
        return out;
      },
      { step: 'initialize' },
    );
    try {
      const done = await new Upload({ client, params: { Bucket: bucket, Key: key, Body: body }, partSize: 5 * MiB, queueSize: 2 }).done();
      expect(lb.sent.get(r('iad').port)).toBe(1);
      expect(lb.sent.get(r('fra').port)).toBeGreaterThanOrEqual(4);
      const moved = seen.filter((s) => s.command !== 'CreateMultipartUploadCommand');
      expect(moved.map((s) => s.command).sort()).toEqual(['CompleteMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand']);
      for (const s of moved) expect(s.response['x-erne-served-by-region']).toBe('iad');
      const parts = [body.subarray(0, 5 * MiB), body.subarray(5 * MiB, 10 * MiB), body.subarray(10 * MiB)];
      expect(done.ETag).toBe(multipartEtag(parts));
      await readEverywhere(key, body, done.ETag!);
    } finally {
      client.destroy();
      await lb.close();
    }
  });

  it('UploadPartCopy and AbortMultipartUpload at another region act on the upload where it lives', async () => {
    const key = 'aborted.bin';
    const source = 'copy-source.txt';
    await r('sin').s3.send(new PutObjectCommand({ Bucket: bucket, Key: source, Body: 'copied into the upload' }));
    const { UploadId } = await r('fra').s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const copied = await waitFor('a part copied through sin', () =>
      r('sin')
        .s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, CopySource: `${bucket}/${source}` }))
        .catch((err: Error) => (err.name === 'NoSuchKey' ? undefined : Promise.reject(err))),
    );
    expect(copied!.CopyPartResult?.ETag).toBe(`"${md5(Buffer.from('copied into the upload')).toString('hex')}"`);
    expect((await r('fra').s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }))).Parts?.map((p) => p.PartNumber)).toEqual([1]);

    const aborted = await r('sin').s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(aborted.$metadata.httpStatusCode).toBe(204);
    expect((await r('fra').s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }))).Uploads ?? []).toEqual([]);
    // and asked anywhere, it is gone
    for (const region of cluster.regions) {
      const e = await sdkError(region.s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId })));
      expect([region.name, e.name, e.status]).toEqual([region.name, 'NoSuchUpload', 404]);
    }
  });

  it('an UploadPart with a signed aws-chunked body sent to fra is verified in iad, chunk signatures and all', async () => {
    const key = 'chunked.bin';
    const { UploadId } = await r('iad').s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const data = Buffer.alloc(200 * 1024, 'z');
    const query = `partNumber=1&uploadId=${encodeURIComponent(UploadId!)}`;
    const fra = r('fra').gw!.gw;
    const ok = await signedChunkedPut(fra, { path: `/${bucket}/${key}`, query, data, trailer: true });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.headers['x-erne-served-by-region']).toBe('iad');
    expect(ok.headers.etag).toBe(`"${md5(data).toString('hex')}"`);
    // a corrupted chunk signature is refused there, and the part is not replaced
    const bad = await signedChunkedPut(fra, { path: `/${bucket}/${key}`, query, data: Buffer.alloc(200 * 1024, 'y'), corruptChunk: 1 });
    expect([bad.status, parseError(bad.text).Code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(bad.headers['x-erne-served-by-region']).toBe('iad');
    const parts = await r('iad').s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([[1, data.length, ok.headers.etag]]);
  });

  it('a client that goes away mid-part: the forwarded request ends in iad too, and no part is left', async () => {
    const key = 'cut-off.bin';
    const { UploadId } = await r('iad').s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const fra = r('fra').gw!.gw;
    const iad = r('iad').gw!.gw;
    const host = `127.0.0.1:${fra.port}`;
    const path = `/${bucket}/${key}?partNumber=1&uploadId=${encodeURIComponent(UploadId!)}`;
    const signed = aws4.sign({ service: 's3', region: REGION, method: 'PUT', host, path, headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD', 'Content-Length': String(4 * MiB) } }, ROOT);
    const head = `PUT ${path} HTTP/1.1\r\n${Object.entries(signed.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const socket = net.connect(fra.port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.write(head, () => resolve()));
    socket.write(Buffer.alloc(MiB, 'x'));
    // iad is receiving the part (through fra) before the client leaves
    await waitFor('the part streaming into iad', async () => (await inFlight(iad.url)) === 1);
    socket.destroy();
    await waitFor('the forwarded request ended in iad', async () => (await inFlight(iad.url)) === 0);
    expect((await r('iad').s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }))).Parts ?? []).toEqual([]);
    const up = await r('fra').s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'whole this time' }));
    expect(up.ETag).toBe(`"${md5(Buffer.from('whole this time')).toString('hex')}"`);
  });

  it('a forged loop guard is not forwarded again: the request is served where it arrived', async () => {
    const key = 'guarded.bin';
    const { UploadId } = await r('iad').s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const query = `uploadId=${encodeURIComponent(UploadId!)}`;
    const fra = r('fra').gw!.gw;
    const plain = await rawRequest(fra, { method: 'GET', path: `/${bucket}/${key}`, query });
    expect([plain.status, plain.headers['x-erne-served-by-region']]).toEqual([200, 'iad']);
    const forged = await rawRequest(fra, { method: 'GET', path: `/${bucket}/${key}`, query, headers: { 'x-erne-forwarded-from': 'iad' } });
    expect([forged.status, parseError(forged.text).Code, forged.headers['x-erne-served-by-region']]).toEqual([404, 'NoSuchUpload', undefined]);
  });

  it('the owning region down: 503 ServiceUnavailable naming it, and the upload carries on once it is back', async () => {
    const key = 'owner-down.bin';
    const { UploadId } = await r('sin').s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    await r('sin').stop();
    try {
      const part = Buffer.from('a part for a region that is down');
      const e = await sdkError(r('fra').s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: part })));
      expect([e.name, e.status]).toEqual(['ServiceUnavailable', 503]);
      expect(e.message).toContain('region sin');
      const listed = await rawRequest(r('iad').gw!.gw, { method: 'GET', path: `/${bucket}/${key}`, query: `uploadId=${encodeURIComponent(UploadId!)}` });
      expect([listed.status, parseError(listed.text).Code]).toEqual([503, 'ServiceUnavailable']);
      expect(listed.text).toContain('<Region>sin</Region>');
    } finally {
      await r('sin').start();
    }
    const up = await r('fra').s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'back again' }));
    expect(up.ETag).toBe(`"${md5(Buffer.from('back again')).toString('hex')}"`);
  });
});
