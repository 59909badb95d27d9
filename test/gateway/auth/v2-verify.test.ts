/**
 * SigV2 beyond the documented examples: which query parameters are signed, what a tampered,
 * stale, expired or malformed request gets, UTF-8 header values, and the switch that turns v2 off.
 */
import { describe, expect, it } from 'vitest';
import { verifyRequest, type VerifyOptions } from '../../../gateway/auth/index.js';
import type { SignedRequest } from '../../../gateway/auth/types.js';
import { canonicalizedResource, V2_SUBRESOURCES, v2Signature } from '../../../gateway/auth/v2-string-to-sign.js';
import { V2_REFUSED_SUBRESOURCES } from '../../../gateway/auth/v2.js';
import { BUCKET_SUBRESOURCES, OBJECT_SUBRESOURCES } from '../../../gateway/router.js';
import { requestStringToSign } from '../../../gateway/auth/v2-verify.js';
import { AKID, lookup, request, SECRET } from './helpers.js';

describe('canonicalizedResource', () => {
  it.each([
    ['/b/k', '', undefined, '/b/k'],
    ['/b/k', 'versionId=3&acl', undefined, '/b/k?acl&versionId=3'],
    ['/b/k', 'partNumber=2&uploadId=a%2Bb', undefined, '/b/k?partNumber=2&uploadId=a+b'],
    ['/b/k', 'response-content-type=text%2Fplain&prefix=a&response-expires=x', undefined, '/b/k?response-content-type=text/plain&response-expires=x'],
    ['/', 'uploads', 'b', '/b/?uploads'],
    ['/k%20x', 'tagging', 'my.bucket', '/my.bucket/k%20x?tagging'],
    ['/b', 'delete', undefined, '/b/?delete'],
    ['/b', 'list-type=2&continuation-token=x&max-keys=1', undefined, '/b/'],
    ['/b', 'cors&location&lifecycle&versioning&versions&policy', undefined, '/b/?cors&lifecycle&location&policy&versioning&versions'],
    ['/b/', 'location', undefined, '/b/?location'],
    ['/', '', undefined, '/'],
    ['/', 'uploads', undefined, '/?uploads'],
    ['/b/', 'acl=', undefined, '/b/?acl='],
    ['/b/k', '%61cl&ver%73ionId=2', undefined, '/b/k?acl&versionId=2'],
  ])('%s ? %s (host bucket %s) → %s', (path, query, bucket, expected) => {
    expect(canonicalizedResource(path, query, bucket)).toBe(expected);
  });
});

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HTTP_NOW = new Date(NOW).toUTCString();

/** a request signed with SigV2 as a client would sign it (StringToSign from the headers as given) */
function signed(method: string, target: string, headers: Record<string, string>, date = HTTP_NOW): SignedRequest {
  const req = request(method, target, { Host: '127.0.0.1:9000', Date: date, ...headers });
  const sts = requestStringToSign({ req }, req.headers['x-amz-date'] !== undefined ? '' : date);
  req.headers['authorization'] = `AWS ${AKID}:${v2Signature(SECRET, sts)}`;
  return req;
}

/** a v2 presigned URL for `target` (x-amz-* query parameters go into the StringToSign as headers) */
function presigned(method: string, target: string, expires: number, amz: Record<string, string> = {}): string {
  const extra = new Map(Object.entries(amz));
  const sts = requestStringToSign({ req: request(method, target, {}) }, String(expires), extra);
  const q = new URLSearchParams({ ...amz, AWSAccessKeyId: AKID, Expires: String(expires), Signature: v2Signature(SECRET, sts) });
  return `${target}${target.includes('?') ? '&' : '?'}${q.toString().replace(/\+/g, '%20')}`;
}

const at = (opts: VerifyOptions = {}): VerifyOptions => ({ now: NOW, ...opts });

describe('sub-resources v2 does not sign', () => {
  it('every sub-resource the router knows is signed by v2 or refused with it', () => {
    const known = [...Object.keys(BUCKET_SUBRESOURCES), ...Object.keys(OBJECT_SUBRESOURCES), 'location', 'delete', 'uploadId', 'partNumber', 'versionId'];
    expect(known.filter((n) => !V2_SUBRESOURCES.has(n) && !V2_REFUSED_SUBRESOURCES.has(n))).toEqual([]);
  });

  it.each(['publicAccessBlock', 'policyStatus', 'attributes', 'renameObject'])('a v2 request with ?%s: 400 InvalidRequest, use SigV4 (not another operation)', async (sub) => {
    const req = signed('DELETE', '/b', {});
    req.rawQuery = sub;
    await expect(verifyRequest(req, lookup, at())).rejects.toMatchObject({ code: 'InvalidRequest', status: 400 });
  });
});

describe('SigV2 header authentication', () => {
  it('a signed GET is accepted as the key that signed it, its body unsigned', async () => {
    expect(await verifyRequest(signed('GET', '/b/k', {}), lookup, at())).toEqual({ accessKeyId: AKID, root: true, payload: { kind: 'unsigned' }, presigned: false });
  });

  it('x-amz-date stands in for Date (s3cmd sends no Date)', async () => {
    const req = signed('PUT', '/b/k', { 'x-amz-date': HTTP_NOW, 'x-amz-meta-a': '1' });
    delete req.headers['date'];
    expect((await verifyRequest(req, lookup, at())).accessKeyId).toBe(AKID);
  });

  it('a UTF-8 header value, as node delivers it (latin-1 per byte), is signed as UTF-8 text', async () => {
    const req = signed('PUT', '/b/k', { 'x-amz-meta-city': 'Zürich' });
    req.headers['x-amz-meta-city'] = Buffer.from('Zürich', 'utf8').toString('latin1');
    expect((await verifyRequest(req, lookup, at())).accessKeyId).toBe(AKID);
  });

  it('a query parameter that is not a sub-resource is not signed (as on S3)', async () => {
    const req = signed('GET', '/b', {});
    req.rawQuery = 'prefix=other';
    expect((await verifyRequest(req, lookup, at())).accessKeyId).toBe(AKID);
  });

  it('x-amz-content-sha256, when a client sends it, binds the body like SigV4', async () => {
    const hex = 'a'.repeat(64);
    expect((await verifyRequest(signed('PUT', '/b/k', { 'x-amz-content-sha256': hex }), lookup, at())).payload).toEqual({ kind: 'sha256', hex });
  });

  type Bad = [name: string, req: () => SignedRequest, opts: VerifyOptions, expected: Record<string, unknown>];
  const bad: Bad[] = [
    [
      'a wrong signature: SignatureDoesNotMatch with the StringToSign and its bytes',
      () => ({ ...signed('GET', '/b/k', {}), headers: { date: HTTP_NOW, authorization: `AWS ${AKID}:AAAAAAAAAAAAAAAAAAAAAAAAAAA=` } }),
      {},
      {
        code: 'SignatureDoesNotMatch',
        status: 403,
        detail: {
          AWSAccessKeyId: AKID,
          StringToSign: `GET\n\n\n${HTTP_NOW}\n/b/k`,
          SignatureProvided: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=',
          StringToSignBytes: [...Buffer.from(`GET\n\n\n${HTTP_NOW}\n/b/k`)].map((b) => b.toString(16).padStart(2, '0')).join(' '),
        },
      },
    ],
    [
      'a control character in a sub-resource value: the StringToSign detail stays valid XML text, the bytes are exact',
      () => ({ ...signed('GET', '/b/k', {}), rawQuery: 'versionId=%01' }),
      {},
      { code: 'SignatureDoesNotMatch', detail: { StringToSign: `GET\n\n\n${HTTP_NOW}\n/b/k?versionId=\ufffd`, StringToSignBytes: expect.stringMatching(/3d 01$/) } },
    ],
    ['an x-amz-* header added after signing', () => ({ ...signed('PUT', '/b/k', {}), headers: { ...signed('PUT', '/b/k', {}).headers, 'x-amz-acl': 'public-read' } }), {}, { code: 'SignatureDoesNotMatch' }],
    ['a sub-resource added after signing', () => ({ ...signed('GET', '/b/k', {}), rawQuery: 'acl' }), {}, { code: 'SignatureDoesNotMatch' }],
    ['another path', () => ({ ...signed('DELETE', '/b/k', {}), rawPath: '/b/other' }), {}, { code: 'SignatureDoesNotMatch' }],
    ['an unknown key', () => ({ ...signed('GET', '/b/k', {}), headers: { date: HTTP_NOW, authorization: 'AWS NOSUCHKEY:c2ln' } }), {}, { code: 'InvalidAccessKeyId', detail: { AWSAccessKeyId: 'NOSUCHKEY' } }],
    ['Date 16 minutes behind', () => signed('GET', '/b/k', {}, new Date(NOW - 16 * 60_000).toUTCString()), {}, { code: 'RequestTimeTooSkewed', status: 403 }],
    [
      'x-amz-date 16 minutes ahead (it wins over a current Date)',
      () => signed('GET', '/b/k', { 'x-amz-date': new Date(NOW + 16 * 60_000).toUTCString() }),
      {},
      { code: 'RequestTimeTooSkewed' },
    ],
    [
      'neither Date nor x-amz-date',
      () => ({ ...signed('GET', '/b/k', {}), headers: { authorization: `AWS ${AKID}:c2ln` } }),
      {},
      { code: 'AccessDenied', message: 'AWS authentication requires a valid Date or x-amz-date header' },
    ],
    ['no colon between key and signature', () => ({ ...signed('GET', '/b/k', {}), headers: { date: HTTP_NOW, authorization: `AWS ${AKID}` } }), {}, { code: 'InvalidArgument', status: 400 }],
    ['the chunk-signed streaming framing', () => signed('PUT', '/b/k', { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' }), {}, { code: 'AccessDenied' }],
    [
      'v2 turned off (--no-sigv2)',
      () => signed('GET', '/b/k', {}),
      { sigv2: false },
      { code: 'InvalidRequest', status: 400, message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.' },
    ],
  ];
  it.each(bad)('%s', async (_name, req, opts, expected) => {
    await expect(verifyRequest(req(), lookup, at(opts))).rejects.toMatchObject(expected);
  });
});

describe('SigV2 presigned URLs', () => {
  const expires = Math.floor(NOW / 1000) + 60;
  const req = (target: string, headers: Record<string, string> = {}) => request('PUT', target, { Host: '127.0.0.1:9000', ...headers });

  it('accepted before Expires; x-amz-* query parameters are signed like headers', async () => {
    const ctx = await verifyRequest(req(presigned('PUT', '/b/k', expires, { 'x-amz-meta-note': 'hello world' })), lookup, at());
    expect(ctx).toEqual({ accessKeyId: AKID, root: true, payload: { kind: 'unsigned' }, presigned: true });
  });

  type Bad = [name: string, target: () => string, headers: Record<string, string>, opts: VerifyOptions, expected: Record<string, unknown>];
  const bad: Bad[] = [
    ['Expires in the past', () => presigned('PUT', '/b/k', Math.floor(NOW / 1000) - 1), {}, {}, { code: 'AccessDenied', status: 403, message: 'Request has expired' }],
    ['a signed x-amz-* parameter changed', () => presigned('PUT', '/b/k', expires, { 'x-amz-meta-note': 'a' }).replace('note=a', 'note=b'), {}, {}, { code: 'SignatureDoesNotMatch' }],
    ['an x-amz-* parameter added', () => presigned('PUT', '/b/k', expires) + '&x-amz-acl=public-read', {}, {}, { code: 'SignatureDoesNotMatch' }],
    ['an x-amz-* header added', () => presigned('PUT', '/b/k', expires), { 'x-amz-acl': 'public-read' }, {}, { code: 'SignatureDoesNotMatch' }],
    ['Expires moved later', () => presigned('PUT', '/b/k', expires).replace(`Expires=${expires}`, `Expires=${expires + 3600}`), {}, {}, { code: 'SignatureDoesNotMatch' }],
    [
      'no Expires',
      () => presigned('PUT', '/b/k', expires).replace(/&Expires=\d+/, ''),
      {},
      {},
      { code: 'AccessDenied', message: 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters' },
    ],
    ['Expires not a number', () => `/b/k?AWSAccessKeyId=${AKID}&Expires=soon&Signature=x`, {}, {}, { code: 'AccessDenied', message: 'Invalid date (should be seconds since epoch): soon' }],
    ['an Authorization header as well', () => presigned('PUT', '/b/k', expires), { Authorization: `AWS ${AKID}:x` }, {}, { code: 'InvalidArgument' }],
    ['v2 turned off (--no-sigv2)', () => presigned('PUT', '/b/k', expires), {}, { sigv2: false }, { code: 'InvalidRequest', status: 400 }],
  ];
  it.each(bad)('%s', async (_name, target, headers, opts, expected) => {
    await expect(verifyRequest(req(target(), headers), lookup, at(opts))).rejects.toMatchObject(expected);
  });
});
