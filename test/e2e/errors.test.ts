/**
 * Bad requests against a real gateway: each gets its S3 error code, HTTP status, an XML body
 * with Code/Message/Resource/RequestId, an x-amz-request-id header — and changes nothing.
 * Hand-made requests use ../helpers/raw.ts (aws4 + node:http); SDK cases use client-s3.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { crc32Base64, signedChunkedPut } from '../helpers/chunked.js';
import { bodyBytes, ROOT, s3Client, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { md5Base64, parseError, rawRequest, sha256Hex, type RawResponse } from '../helpers/raw.js';

const bucket = uniqueBucket('err');
const ORIGINAL = 'original contents';

const erne = useGateway({ bucket });

beforeAll(async () => {
  await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep.txt', Body: ORIGINAL }));
});

function expectS3Error(r: RawResponse, status: number, code: string): void {
  expect({ status: r.status, body: r.text.slice(0, 400) }).toMatchObject({ status });
  const reqId = r.headers['x-amz-request-id'];
  expect(reqId).toBeTruthy();
  expect(r.headers['content-type']).toMatch(/xml/);
  const e = parseError(r.text);
  expect(e.Code).toBe(code);
  expect(e.Message).toBeTruthy();
  expect(e.RequestId).toBe(reqId);
  expect(e.Resource).toBeTruthy();
}

/** the bucket holds exactly keep.txt with its original bytes */
async function expectUnchanged(): Promise<void> {
  const list = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  expect(list.Contents?.map((c) => c.Key)).toEqual(['keep.txt']);
  const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'keep.txt' }));
  expect((await bodyBytes(got.Body)).toString()).toBe(ORIGINAL);
}

const put = (key: string, body: string | Buffer, extra: Partial<Parameters<typeof rawRequest>[1]> = {}) =>
  rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/${key}`, body, headers: { 'Content-Type': 'text/plain' }, ...extra });

describe('authentication failures', () => {
  it('wrong signature → 403 SignatureDoesNotMatch', async () => {
    const r = await put('keep.txt', 'evil', {
      tamper: (h) => {
        h.Authorization = h.Authorization.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`);
      },
    });
    expectS3Error(r, 403, 'SignatureDoesNotMatch');
    await expectUnchanged();
  });

  it('wrong secret through the SDK → SignatureDoesNotMatch', async () => {
    const bad = s3Client(erne.gw, { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'not-the-secret' });
    const e = await sdkError(bad.send(new PutObjectCommand({ Bucket: bucket, Key: 'new.txt', Body: 'x' })));
    bad.destroy();
    expect(e.name).toBe('SignatureDoesNotMatch');
    expect(e.status).toBe(403);
    await expectUnchanged();
  });

  it('a signed header changed after signing → SignatureDoesNotMatch', async () => {
    const r = await put('keep.txt', 'evil', { headers: { 'Content-Type': 'text/plain', 'x-amz-meta-a': '1' }, tamper: (h) => (h['x-amz-meta-a'] = '2') });
    expectS3Error(r, 403, 'SignatureDoesNotMatch');
    await expectUnchanged();
  });

  it('an x-amz-* header added after signing → 403 AccessDenied naming it; the copy it asks for does not happen', async () => {
    const r = await put('copied.txt', '', {
      tamper: (h) => (h['x-amz-copy-source'] = `/${bucket}/keep.txt`),
    });
    expectS3Error(r, 403, 'AccessDenied');
    expect(r.text).toContain('<HeadersNotSigned>x-amz-copy-source</HeadersNotSigned>');
    await expectUnchanged();
  });

  it('a body an operation does not use is still checked: a tampered one is refused before the copy', async () => {
    const r = await put('copied.txt', 'tampered', {
      headers: { 'x-amz-copy-source': `/${bucket}/keep.txt`, 'X-Amz-Content-Sha256': sha256Hex('signed body') },
    });
    expectS3Error(r, 400, 'XAmzContentSHA256Mismatch');
    await expectUnchanged();
  });

  it('unknown access key → 403 InvalidAccessKeyId', async () => {
    const r = await put('new.txt', 'x', { creds: { accessKeyId: 'ERNENOSUCHKEY0000000', secretAccessKey: 'whatever' } });
    expectS3Error(r, 403, 'InvalidAccessKeyId');
    await expectUnchanged();
  });

  it.each([
    ['PUT', `/keep.txt`],
    ['GET', `/keep.txt`],
    ['GET', ''],
    ['DELETE', `/keep.txt`],
  ])('no authentication: %s %s → 403 AccessDenied', async (method, suffix) => {
    const r = await rawRequest(erne.gw, { method, path: `/${bucket}${suffix}`, creds: null, body: method === 'PUT' ? 'evil' : undefined });
    expectS3Error(r, 403, 'AccessDenied');
    await expectUnchanged();
  });

  it('clock skew over 15 minutes → 403 RequestTimeTooSkewed', async () => {
    const r = await put('keep.txt', 'late', { date: new Date(Date.now() - 20 * 60_000) });
    expectS3Error(r, 403, 'RequestTimeTooSkewed');
    await expectUnchanged();
  });

  it('malformed Authorization header → 400 AuthorizationHeaderMalformed', async () => {
    const r = await put('keep.txt', 'x', { tamper: (h) => (h.Authorization = 'AWS4-HMAC-SHA256 Credential=garbage, SignedHeaders=host, Signature=00') });
    // S3: a Credential that is not <key>/<date>/<region>/<service>/aws4_request is malformed, whatever the key
    expectS3Error(r, 400, 'AuthorizationHeaderMalformed');
    expect(parseError(r.text).Message).toMatch(/Credential/);
    await expectUnchanged();
  });

  it('a body that does not match the signed x-amz-content-sha256 → 400 XAmzContentSHA256Mismatch', async () => {
    const r = await put('keep.txt', 'evil body', { headers: { 'Content-Type': 'text/plain', 'X-Amz-Content-Sha256': sha256Hex('other body') } });
    expectS3Error(r, 400, 'XAmzContentSHA256Mismatch');
    await expectUnchanged();
  });
});

describe('bad checksums', () => {
  it('wrong Content-MD5 → 400 BadDigest', async () => {
    const r = await put('keep.txt', 'evil', { headers: { 'Content-Type': 'text/plain', 'Content-MD5': md5Base64('something else') } });
    expectS3Error(r, 400, 'BadDigest');
    await expectUnchanged();
  });

  it('unparseable Content-MD5 → 400 InvalidDigest', async () => {
    const r = await put('keep.txt', 'evil', { headers: { 'Content-Type': 'text/plain', 'Content-MD5': 'not-an-md5' } });
    expectS3Error(r, 400, 'InvalidDigest');
    await expectUnchanged();
  });

  it('wrong x-amz-checksum-crc32 header → 400 BadDigest', async () => {
    const r = await put('keep.txt', 'evil', { headers: { 'Content-Type': 'text/plain', 'x-amz-checksum-crc32': crc32Base64(Buffer.from('other')) } });
    expectS3Error(r, 400, 'BadDigest');
    await expectUnchanged();
  });

  it('SDK with a caller-supplied wrong ChecksumCRC32 → BadDigest', async () => {
    const e = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep.txt', Body: 'evil', ChecksumCRC32: crc32Base64(Buffer.from('nope')) })));
    expect(e.name).toBe('BadDigest');
    expect(e.status).toBe(400);
    await expectUnchanged();
  });

  it('wrong CRC32 in an unsigned aws-chunked trailer → 400 BadDigest', async () => {
    const data = Buffer.from('evil streamed body');
    const body = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${crc32Base64(Buffer.from('x'))}\r\n\r\n`)]);
    const r = await put('keep.txt', body, {
      headers: {
        'Content-Encoding': 'aws-chunked',
        'X-Amz-Content-Sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'X-Amz-Trailer': 'x-amz-checksum-crc32',
        'X-Amz-Decoded-Content-Length': String(data.length),
      },
    });
    expectS3Error(r, 400, 'BadDigest');
    await expectUnchanged();
  });

  it('signed aws-chunked: a corrupted chunk signature → 403 SignatureDoesNotMatch', async () => {
    const data = Buffer.alloc(150_000, 'q');
    for (const corruptChunk of [0, 2, 3]) {
      const r = await signedChunkedPut(erne.gw, { path: `/${bucket}/keep.txt`, data, chunkSize: 64 * 1024, corruptChunk });
      expectS3Error(r, 403, 'SignatureDoesNotMatch');
    }
    await expectUnchanged();
  });

  it('signed aws-chunked with trailer: bad trailer signature → 403, bad trailer CRC32 → 400 BadDigest', async () => {
    const data = Buffer.alloc(70_000, 'w');
    const r1 = await signedChunkedPut(erne.gw, { path: `/${bucket}/keep.txt`, data, trailer: true, corruptTrailerSignature: true });
    expectS3Error(r1, 403, 'SignatureDoesNotMatch');
    const r2 = await signedChunkedPut(erne.gw, { path: `/${bucket}/keep.txt`, data, trailer: true, trailerChecksum: crc32Base64(Buffer.from('x')) });
    expectS3Error(r2, 400, 'BadDigest');
    await expectUnchanged();
  });
});

describe('limits', () => {
  it('key over 1024 bytes → 400 KeyTooLongError; 1024 bytes is fine', async () => {
    const e = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })));
    expect(e.name).toBe('KeyTooLongError');
    expect(e.status).toBe(400);
    const r = await put(encodeURIComponent('é'.repeat(513)), 'x'); // 513 chars, 1026 UTF-8 bytes
    expectS3Error(r, 400, 'KeyTooLongError');
    await expectUnchanged();
    const ok = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1024), Body: 'x' }));
    expect(ok.$metadata.httpStatusCode).toBe(200);
    await rawRequest(erne.gw, { method: 'DELETE', path: `/${bucket}/${'k'.repeat(1024)}` });
  });

  it('user metadata over 2 KB → 400 MetadataTooLarge; just under is fine', async () => {
    const e = await sdkError(erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep.txt', Body: 'evil', Metadata: { big: 'x'.repeat(2100) } })));
    expect(e.name).toBe('MetadataTooLarge');
    expect(e.status).toBe(400);
    const r = await put('keep.txt', 'evil', { headers: { 'Content-Type': 'text/plain', 'x-amz-meta-a': 'y'.repeat(1100), 'x-amz-meta-b': 'z'.repeat(1100) } });
    expectS3Error(r, 400, 'MetadataTooLarge');
    await expectUnchanged();
    const ok = await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'meta-ok', Body: 'x', Metadata: { m: 'x'.repeat(1900) } }));
    expect(ok.$metadata.httpStatusCode).toBe(200);
    await rawRequest(erne.gw, { method: 'DELETE', path: `/${bucket}/meta-ok` });
  });
});

describe('malformed XML and request bodies', () => {
  const del = (body: string, headers: Record<string, string> = { 'Content-MD5': md5Base64(body) }) =>
    rawRequest(erne.gw, { method: 'POST', path: `/${bucket}`, query: 'delete=', body, headers: { 'Content-Type': 'application/xml', ...headers } });

  it('DeleteObjects with truncated XML → 400 MalformedXML', async () => {
    const r = await del('<Delete><Object><Key>keep.txt</Key></Object');
    expectS3Error(r, 400, 'MalformedXML');
    await expectUnchanged();
  });

  it('DeleteObjects with well-formed XML of the wrong shape → 400 MalformedXML', async () => {
    const r = await del('<Delete><Thing>keep.txt</Thing></Delete>');
    expectS3Error(r, 400, 'MalformedXML');
    await expectUnchanged();
  });

  it('DeleteObjects with more than 1000 keys → 400 MalformedXML', async () => {
    const objs = Array.from({ length: 1001 }, (_, i) => `<Object><Key>${i === 0 ? 'keep.txt' : `k${i}`}</Key></Object>`).join('');
    const r = await del(`<Delete>${objs}</Delete>`);
    expectS3Error(r, 400, 'MalformedXML');
    await expectUnchanged();
  });

  it('DeleteObjects with a wrong Content-MD5 → 400 BadDigest', async () => {
    const body = '<Delete><Object><Key>keep.txt</Key></Object></Delete>';
    const r = await del(body, { 'Content-MD5': md5Base64('other') });
    expectS3Error(r, 400, 'BadDigest');
    await expectUnchanged();
  });

  it('DeleteObjects with neither Content-MD5 nor an x-amz-checksum header → 400 InvalidRequest', async () => {
    const r = await del('<Delete><Object><Key>keep.txt</Key></Object></Delete>', {});
    expectS3Error(r, 400, 'InvalidRequest');
    await expectUnchanged();
  });

  it('DeleteObjects with an x-amz-checksum-sha256 (no Content-MD5) is accepted', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'tmp-del', Body: 'x' }));
    const body = '<Delete><Quiet>true</Quiet><Object><Key>tmp-del</Key></Object></Delete>';
    const r = await del(body, { 'x-amz-checksum-sha256': createHash('sha256').update(body).digest('base64') });
    expect(r.status).toBe(200);
    await expectUnchanged();
  });

  it('CreateBucket with malformed XML → 400 MalformedXML, no bucket', async () => {
    const name = uniqueBucket('badxml');
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${name}`, body: '<CreateBucketConfiguration><LocationConstraint>', headers: { 'Content-Type': 'application/xml' } });
    expectS3Error(r, 400, 'MalformedXML');
    const h = await rawRequest(erne.gw, { method: 'HEAD', path: `/${name}` });
    expect(h.status).toBe(404);
  });

  it('unknown bucket / key errors carry XML too', async () => {
    expectS3Error(await rawRequest(erne.gw, { method: 'GET', path: `/${uniqueBucket('nb')}/k` }), 404, 'NoSuchBucket');
    expectS3Error(await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/nope` }), 404, 'NoSuchKey');
  });
});

describe('Transfer-Encoding: chunked without Content-Length', () => {
  it('a signed (sha256) chunked upload is stored whole', async () => {
    const data = Buffer.alloc(100_000, 'c');
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/te-chunked`, body: data, chunked: true, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(`"${createHash('md5').update(data).digest('hex')}"`);
    const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'te-chunked' }));
    expect(got.ContentLength).toBe(data.length);
    expect((await bodyBytes(got.Body)).equals(data)).toBe(true);
    await rawRequest(erne.gw, { method: 'DELETE', path: `/${bucket}/te-chunked` });
  });

  it('signed aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) uploads are stored decoded', async () => {
    const data = Buffer.from(Array.from({ length: 150_000 }, (_, i) => i % 251));
    for (const trailer of [false, true]) {
      const r = await signedChunkedPut(erne.gw, { path: `/${bucket}/aws-chunked-${trailer}`, data, trailer });
      expect({ status: r.status, body: r.text.slice(0, 300) }).toMatchObject({ status: 200 });
      const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: `aws-chunked-${trailer}`, ChecksumMode: 'ENABLED' }));
      expect((await bodyBytes(got.Body)).equals(data)).toBe(true);
      expect(got.ContentEncoding).toBeUndefined();
      if (trailer) expect(got.ChecksumCRC32).toBe(crc32Base64(data));
      await rawRequest(erne.gw, { method: 'DELETE', path: `/${bucket}/aws-chunked-${trailer}` });
    }
    await expectUnchanged();
  });
});
