/**
 * The worked examples from AWS's SigV4-for-S3 documentation (sig-v4-header-based-auth,
 * sigv4-query-string-auth, sigv4-streaming): same credentials, time and expected signatures.
 */
import { describe, expect, it } from 'vitest';
import { verifyRequest } from '../../../gateway/auth/index.js';
import { AKID, EXAMPLE_TIME, lookup, request } from './helpers.js';

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const cred = `${AKID}/20130524/us-east-1/s3/aws4_request`;
const auth = (signed: string, sig: string) => `AWS4-HMAC-SHA256 Credential=${cred},SignedHeaders=${signed},Signature=${sig}`;

const examples: Array<{ name: string; method: string; target: string; headers: Record<string, string>; signed: string; sig: string }> = [
  {
    name: 'GET Object with Range',
    method: 'GET',
    target: '/test.txt',
    headers: { Host: 'examplebucket.s3.amazonaws.com', Range: 'bytes=0-9', 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' },
    signed: 'host;range;x-amz-content-sha256;x-amz-date',
    sig: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  },
  {
    name: 'PUT Object, key with $ (canonical URI re-encodes it)',
    method: 'PUT',
    target: '/test$file.text',
    headers: {
      Host: 'examplebucket.s3.amazonaws.com',
      Date: 'Fri, 24 May 2013 00:00:00 GMT',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    },
    signed: 'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
    sig: '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
  },
  {
    name: 'GET Bucket Lifecycle (valueless query parameter)',
    method: 'GET',
    target: '/?lifecycle',
    headers: { Host: 'examplebucket.s3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': EMPTY },
    signed: 'host;x-amz-content-sha256;x-amz-date',
    sig: 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
  },
  {
    name: 'GET Bucket (List Objects), query sorted',
    method: 'GET',
    target: '/?max-keys=2&prefix=J',
    headers: { Host: 'examplebucket.s3.amazonaws.com', 'x-amz-date': '20130524T000000Z', 'x-amz-content-sha256': EMPTY },
    signed: 'host;x-amz-content-sha256;x-amz-date',
    sig: '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
  },
];

describe('AWS documented header-signed examples', () => {
  it.each(examples)('$name', async (ex) => {
    const req = request(ex.method, ex.target, { ...ex.headers, Authorization: auth(ex.signed, ex.sig) });
    const ctx = await verifyRequest(req, lookup, { now: EXAMPLE_TIME });
    expect(ctx).toMatchObject({ accessKeyId: AKID, root: true, presigned: false });
  });

  it.each(examples)('$name, query reversed, still verifies', async (ex) => {
    const [p, q] = ex.target.split('?');
    const t = q ? `${p}?${q.split('&').reverse().join('&')}` : ex.target;
    const req = request(ex.method, t, { ...ex.headers, Authorization: auth(ex.signed, ex.sig) });
    await expect(verifyRequest(req, lookup, { now: EXAMPLE_TIME })).resolves.toBeTruthy();
  });

  it.each(examples)('$name, one signature digit changed → SignatureDoesNotMatch', async (ex) => {
    const bad = (ex.sig[0] === '0' ? '1' : '0') + ex.sig.slice(1);
    const req = request(ex.method, ex.target, { ...ex.headers, Authorization: auth(ex.signed, bad) });
    await expect(verifyRequest(req, lookup, { now: EXAMPLE_TIME })).rejects.toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });
});

describe('AWS documented presigned example', () => {
  const url =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const headers = { Host: 'examplebucket.s3.amazonaws.com' };

  it('verifies within its lifetime', async () => {
    const ctx = await verifyRequest(request('GET', url, headers), lookup, { now: EXAMPLE_TIME + 3600_000 });
    expect(ctx).toMatchObject({ accessKeyId: AKID, presigned: true, payload: { kind: 'unsigned' } });
  });
  it('is expired one second after 86400 s', async () => {
    await expect(verifyRequest(request('GET', url, headers), lookup, { now: EXAMPLE_TIME + 86401_000 })).rejects.toMatchObject({
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });
  it('is not valid 16 minutes before its date', async () => {
    await expect(verifyRequest(request('GET', url, headers), lookup, { now: EXAMPLE_TIME - 16 * 60_000 })).rejects.toMatchObject({
      code: 'AccessDenied',
    });
  });
  it('a different host does not verify', async () => {
    await expect(
      verifyRequest(request('GET', url, { Host: 'otherbucket.s3.amazonaws.com' }), lookup, { now: EXAMPLE_TIME }),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});

describe('AWS documented streaming example (seed signature)', () => {
  it('the seed request verifies and yields the signing context', async () => {
    const req = request('PUT', '/examplebucket/chunkObject.txt', {
      Host: 's3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'Content-Encoding': 'aws-chunked',
      'x-amz-decoded-content-length': '66560',
      'Content-Length': '66824',
      Authorization: auth(
        'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
        '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      ),
    });
    const ctx = await verifyRequest(req, lookup, { now: EXAMPLE_TIME });
    expect(ctx.payload).toEqual({ kind: 'streaming-signed', trailer: false });
    expect(ctx.signing).toMatchObject({
      seedSignature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
      amzDate: '20130524T000000Z',
      scope: '20130524/us-east-1/s3/aws4_request',
    });
  });
});
