/**
 * The real AWS SDK v3 client, over real HTTP on loopback, against a minimal server that runs
 * exactly what the gateway runs for a PUT: verifyRequest, then openBody. This pins the wire
 * formats the SDK actually sends (aws-chunked with trailers by default for streams).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client, type ChecksumAlgorithm } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyRequest } from '../../../gateway/auth/index.js';
import type { AuthContext } from '../../../gateway/auth/types.js';
import { openBody, type BodyDigest } from '../../../gateway/body.js';
import { createChecksum } from '../../../gateway/checksum/index.js';
import { toS3Error } from '../../../gateway/errors.js';
import { AKID, lookup, SECRET } from './helpers.js';

interface Seen {
  headers: IncomingMessage['headers'];
  ctx?: AuthContext;
  digest?: BodyDigest;
  bytes?: Buffer;
  error?: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const rec: Seen = { headers: req.headers };
    seen.push(rec);
    try {
      const [rawPath, rawQuery = ''] = req.url!.split(/\?(.*)/s, 2) as [string, string?];
      const ctx = await verifyRequest({ method: req.method!, rawPath, rawQuery, headers: req.headers }, lookup);
      rec.ctx = ctx;
      const body = openBody(ctx, req, req.headers, { maxSize: 64 * 1024 * 1024 });
      const parts: Buffer[] = [];
      for await (const c of body.stream) parts.push(c as Buffer);
      rec.bytes = Buffer.concat(parts);
      rec.digest = body.digest();
      res.writeHead(200, { ETag: `"${rec.digest.md5Hex}"` }).end();
    } catch (err) {
      const e = toS3Error(err);
      rec.error = e.code;
      req.resume();
      res.writeHead(e.status, { 'Content-Type': 'application/xml', Connection: 'close' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${e.message}</Message></Error>`);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

function client(secret = SECRET, region = 'us-east-1'): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region, credentials: { accessKeyId: AKID, secretAccessKey: secret }, maxAttempts: 1 });
}

function b64(alg: 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256', b: Buffer): string {
  const c = createChecksum(alg);
  c.update(b);
  return c.digestBase64();
}

const data = Buffer.alloc(300_000);
for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;

/** a stream body in uneven pieces, as a file stream would deliver it */
function stream(buf: Buffer): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < buf.length; at += 70_001) pieces.push(buf.subarray(at, at + 70_001));
  return Readable.from(pieces);
}

describe('@aws-sdk/client-s3 PutObject, default checksum behaviour', () => {
  it('stream body: aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer, verified', async () => {
    const out = await client().send(new PutObjectCommand({ Bucket: 'b', Key: 'dir/ä k', Body: stream(data), ContentLength: data.length }));
    const rec = seen.at(-1)!;
    expect(rec.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(rec.headers['x-amz-trailer']).toBe('x-amz-checksum-crc32');
    expect(rec.ctx).toMatchObject({ accessKeyId: AKID, payload: { kind: 'streaming-unsigned-trailer' }, trailerChecksum: 'CRC32' });
    expect(rec.bytes!.equals(data)).toBe(true);
    expect(rec.digest!.checksums.CRC32).toBe(b64('CRC32', data));
    expect(out.ETag).toBe(`"${rec.digest!.md5Hex}"`);
  });

  it('buffer body: hex payload hash and CRC32 header, both verified', async () => {
    await client().send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: data }));
    const rec = seen.at(-1)!;
    // over plain http the SDK signs the payload hash and sends the CRC32 as a header
    expect(rec.ctx!.payload.kind).toBe('sha256');
    expect(rec.headers['x-amz-checksum-crc32']).toBe(b64('CRC32', data));
    expect(rec.error).toBeUndefined();
    expect(rec.bytes!.equals(data)).toBe(true);
    expect(rec.digest!.checksums.CRC32).toBe(b64('CRC32', data));
  });

  it('empty body', async () => {
    await client().send(new PutObjectCommand({ Bucket: 'b', Key: 'empty', Body: '' }));
    expect(seen.at(-1)!.digest!.size).toBe(0);
  });

  it.each(['CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const)('ChecksumAlgorithm %s over a stream', async (alg) => {
    await client(SECRET, 'eu-west-3').send(
      new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: stream(data), ContentLength: data.length, ChecksumAlgorithm: alg as ChecksumAlgorithm }),
    );
    const rec = seen.at(-1)!;
    expect(rec.error).toBeUndefined();
    expect(rec.ctx!.trailerChecksum).toBe(alg);
    expect(rec.digest!.checksums[alg]).toBe(b64(alg, data));
  });

  it('a checksum the client computed itself, sent as a header', async () => {
    await client().send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: data, ChecksumSHA256: b64('SHA256', data) }));
    expect(seen.at(-1)!.digest!.checksums.SHA256).toBe(b64('SHA256', data));
  });

  it('a wrong client-supplied checksum → BadDigest, seen by the SDK', async () => {
    const p = client().send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: data, ChecksumCRC32C: b64('CRC32C', Buffer.from('x')) }));
    await expect(p).rejects.toMatchObject({ name: 'BadDigest' });
  });

  it('a wrong secret → SignatureDoesNotMatch, seen by the SDK', async () => {
    await expect(client('not-the-secret').send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: 'x' }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
  });
});
