/** verifyRequest against requests signed by real signers: the aws4 package and the AWS SDK presigner. */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createHash, createHmac } from 'node:crypto';
import aws4 from 'aws4';
import { describe, expect, it } from 'vitest';
import { verifyRequest } from '../../../gateway/auth/index.js';
import { signingRegions } from '../../../gateway/auth/regions.js';
import { signingKeyFor } from './chunked-fixtures.js';
import { AKID, lookup, request, SECRET, target } from './helpers.js';

const NOW = Date.UTC(2024, 0, 15, 12, 0, 0);
const AMZ_NOW = '20240115T120000Z';
const HOST = '127.0.0.1:9000';

interface Signed {
  method: string;
  path: string;
  headers: Record<string, string | number>;
}

function sign(method: string, path: string, opts: { region?: string; headers?: Record<string, string>; body?: string; key?: [string, string] } = {}): Signed {
  const o = aws4.sign(
    { host: HOST, path, method, service: 's3', region: opts.region ?? 'us-east-1', headers: { 'X-Amz-Date': AMZ_NOW, ...opts.headers }, body: opts.body },
    { accessKeyId: opts.key?.[0] ?? AKID, secretAccessKey: opts.key?.[1] ?? SECRET },
  );
  return { method, path: o.path!, headers: o.headers as Record<string, string | number> };
}

const verify = (s: Signed, now = NOW) => verifyRequest(request(s.method, s.path, s.headers), lookup, { now });

describe('header-signed requests (aws4)', () => {
  const cases: Array<[string, string, string, Parameters<typeof sign>[2]]> = [
    ['GET object', 'GET', '/bucket/key.txt', {}],
    ['unicode and spaces in key', 'GET', '/bucket/dir/ä ö/€ 1.txt', {}],
    ['list with prefix and delimiter', 'GET', '/bucket?list-type=2&prefix=photos/2024/&delimiter=/', {}],
    ['sub-resource without value', 'GET', '/bucket?location', {}],
    ['PUT with body and metadata', 'PUT', '/bucket/k', { body: 'hello', headers: { 'x-amz-meta-color': '  blue   sky ', 'Content-Type': 'text/plain' } }],
    ['arbitrary region', 'GET', '/bucket/k', { region: 'auto' }],
    ['another region', 'DELETE', '/bucket/k', { region: 'ap-southeast-2' }],
    ['non-root key', 'HEAD', '/bucket/k', { key: ['USERKEY', 'usersecret'] }],
  ];

  it.each(cases)('%s verifies', async (_n, method, path, opts) => {
    const s = sign(method, path, opts);
    const ctx = await verify(s);
    expect(ctx.accessKeyId).toBe(opts?.key?.[0] ?? AKID);
    expect(ctx.root).toBe(!opts?.key);
    expect(ctx.presigned).toBe(false);
  });

  it('a client that leaves "/" unencoded in the query (s3fs) still verifies', async () => {
    const s = sign('GET', '/bucket?prefix=a/b/&delimiter=/');
    expect(s.path).toContain('%2F');
    await expect(verify({ ...s, path: s.path.replace(/%2F/g, '/') })).resolves.toMatchObject({ accessKeyId: AKID });
  });

  it('a client that encodes unreserved characters still verifies', async () => {
    const s = sign('GET', '/bucket/a-b_c.d~e');
    await expect(verify({ ...s, path: '/bucket/a%2Db%5Fc%2Ed%7Ee' })).resolves.toMatchObject({ accessKeyId: AKID });
  });

  it('hex payload hash is returned as the payload mode', async () => {
    const ctx = await verify(sign('PUT', '/bucket/k', { body: 'hello' }));
    expect(ctx.payload).toEqual({ kind: 'sha256', hex: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' });
  });

  const tampered: Array<[string, (s: Signed) => Signed]> = [
    ['path byte', (s) => ({ ...s, path: s.path.replace('key', 'kez') })],
    ['query value', (s) => ({ ...s, path: s.path + '&x=1' })],
    ['method', (s) => ({ ...s, method: 'DELETE' })],
    ['signed header value', (s) => ({ ...s, headers: { ...s.headers, Host: 'evil.example:9000' } })],
    ['content hash', (s) => ({ ...s, headers: { ...s.headers, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' } })],
    ['signature digit', (s) => ({ ...s, headers: { ...s.headers, Authorization: String(s.headers.Authorization).replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === '0' ? '1' : '0'}`) } })],
    ['region in scope', (s) => ({ ...s, headers: { ...s.headers, Authorization: String(s.headers.Authorization).replace('us-east-1', 'us-east-2') } })],
  ];
  it.each(tampered)('one change (%s) → SignatureDoesNotMatch', async (_n, change) => {
    const s = sign('GET', '/bucket/key.txt?versionId=1');
    await expect(verify(s)).resolves.toBeTruthy();
    await expect(verify(change(s))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });

  it('unknown access key → InvalidAccessKeyId', async () => {
    await expect(verify(sign('GET', '/b/k', { key: ['NOSUCHKEY', 'x'] }))).rejects.toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
  });

  it('wrong secret → SignatureDoesNotMatch', async () => {
    await expect(verify(sign('GET', '/b/k', { key: [AKID, 'wrong'] }))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it.each([
    [14 * 60_000, true],
    [-14 * 60_000, true],
    [16 * 60_000, false],
    [-16 * 60_000, false],
  ])('clock skew %d ms → ok=%s', async (skew, ok) => {
    const p = verify(sign('GET', '/b/k'), NOW + skew);
    if (ok) await expect(p).resolves.toBeTruthy();
    else await expect(p).rejects.toMatchObject({ code: 'RequestTimeTooSkewed', status: 403 });
  });

  it('Date header instead of x-amz-date (signed by hand from the documented recipe)', async () => {
    const date = new Date(NOW).toUTCString();
    const empty = createHash('sha256').update('').digest('hex');
    const canonical = `GET\n/b/k\n\ndate:${date}\nhost:${HOST}\nx-amz-content-sha256:${empty}\n\ndate;host;x-amz-content-sha256\n${empty}`;
    const scope = '20240115/us-east-1/s3/aws4_request';
    const sts = `AWS4-HMAC-SHA256\n${AMZ_NOW}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const sig = createHmac('sha256', signingKeyFor(SECRET, '20240115', 'us-east-1')).update(sts).digest('hex');
    const headers = {
      Host: HOST,
      Date: date,
      'x-amz-content-sha256': empty,
      Authorization: `AWS4-HMAC-SHA256 Credential=${AKID}/${scope}, SignedHeaders=date;host;x-amz-content-sha256, Signature=${sig}`,
    };
    await expect(verify({ method: 'GET', path: '/b/k', headers })).resolves.toMatchObject({ accessKeyId: AKID });
    await expect(verify({ method: 'GET', path: '/b/k', headers }, NOW + 20 * 60_000)).rejects.toMatchObject({ code: 'RequestTimeTooSkewed' });
  });

  it('missing x-amz-content-sha256 → InvalidRequest', async () => {
    const s = sign('GET', '/b/k');
    delete s.headers['X-Amz-Content-Sha256'];
    await expect(verify(s)).rejects.toMatchObject({ code: 'InvalidRequest', message: 'Missing required header for this request: x-amz-content-sha256' });
  });

  it('unknown x-amz-content-sha256 → InvalidArgument', async () => {
    const s = sign('PUT', '/b/k', { headers: { 'X-Amz-Content-Sha256': 'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD' } });
    await expect(verify(s)).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('no date at all → AccessDenied', async () => {
    const s = sign('GET', '/b/k');
    delete s.headers['X-Amz-Date'];
    await expect(verify(s)).rejects.toMatchObject({ code: 'AccessDenied' });
  });

  it('streaming modes carry the signing context and the trailer algorithm', async () => {
    const s = sign('PUT', '/b/k', {
      headers: { 'X-Amz-Content-Sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-crc64nvme' },
    });
    const ctx = await verify(s);
    expect(ctx.payload).toEqual({ kind: 'streaming-signed', trailer: true });
    expect(ctx.trailerChecksum).toBe('CRC64NVME');
    expect(ctx.signing?.seedSignature).toBe(/Signature=([0-9a-f]{64})/.exec(String(s.headers.Authorization))![1]);
    expect(ctx.signing?.amzDate).toBe(AMZ_NOW);
  });

  it('an unknown x-amz-trailer → InvalidRequest', async () => {
    const s = sign('PUT', '/b/k', { headers: { 'X-Amz-Content-Sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-trailer': 'x-amz-checksum-md5' } });
    await expect(verify(s)).rejects.toMatchObject({ code: 'InvalidRequest' });
  });
});

describe('signing region (opts.regions)', () => {
  const regions = signingRegions('local', ['eu-2']);
  it.each(['local', 'eu-2', 'us-east-1', 'auto'])('%s is accepted', async (region) => {
    const s = sign('GET', '/bucket/k', { region });
    await expect(verifyRequest(request(s.method, s.path, s.headers), lookup, { now: NOW, regions })).resolves.toMatchObject({ accessKeyId: AKID });
  });
  it('another region → AuthorizationHeaderMalformed naming the expected one, before the key is looked up', async () => {
    const s = sign('GET', '/bucket/k', { region: 'eu-west-1', key: ['NOSUCHKEY', 'x'] });
    await expect(verifyRequest(request(s.method, s.path, s.headers), lookup, { now: NOW, regions })).rejects.toMatchObject({
      code: 'AuthorizationHeaderMalformed',
      status: 400,
      message: "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'local'",
      detail: { Region: 'local' },
    });
  });
});

describe('anonymous requests', () => {
  it('no auth at all → anonymous context, payload none', async () => {
    const ctx = await verifyRequest(request('GET', '/b/k', { Host: HOST }), lookup, { now: NOW });
    expect(ctx).toEqual({ accessKeyId: null, root: false, payload: { kind: 'none' }, presigned: false });
  });
  it('anonymous with a content hash keeps it', async () => {
    const ctx = await verifyRequest(request('PUT', '/b/k', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }), lookup);
    expect(ctx.payload).toEqual({ kind: 'unsigned' });
  });
  it('header and query auth together → InvalidArgument', async () => {
    const s = sign('GET', '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256');
    await expect(verify(s)).rejects.toMatchObject({ code: 'InvalidArgument' });
  });
});

describe('presigned URLs (@aws-sdk/s3-request-presigner)', () => {
  const client = new S3Client({
    endpoint: `http://${HOST}`,
    forcePathStyle: true,
    region: 'eu-central-1',
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
  });
  const signingDate = new Date(NOW);
  const presignedVerify = (url: string, method: string, now: number, headers: Record<string, string> = {}) =>
    verifyRequest(request(method, target(url), { Host: HOST, ...headers }), lookup, { now });

  it('GET verifies, with payload unsigned', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: 'dir/ä b+c.txt' }), { expiresIn: 900, signingDate });
    const ctx = await presignedVerify(url, 'GET', NOW + 60_000);
    expect(ctx).toMatchObject({ accessKeyId: AKID, presigned: true, payload: { kind: 'unsigned' } });
  });

  it('GET with response overrides verifies', async () => {
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'bucket', Key: 'k', ResponseContentDisposition: 'attachment; filename="a b.txt"' }),
      { expiresIn: 900, signingDate },
    );
    await expect(presignedVerify(url, 'GET', NOW)).resolves.toMatchObject({ presigned: true });
  });

  it('PUT with a signed content type verifies only with that content type', async () => {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'bucket', Key: 'k', ContentType: 'text/plain' }), {
      expiresIn: 900,
      signingDate,
      signableHeaders: new Set(['content-type']),
    });
    await expect(presignedVerify(url, 'PUT', NOW, { 'Content-Type': 'text/plain' })).resolves.toMatchObject({ presigned: true });
    await expect(presignedVerify(url, 'PUT', NOW, { 'Content-Type': 'text/html' })).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it('expired → AccessDenied "Request has expired"', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), { expiresIn: 60, signingDate });
    await expect(presignedVerify(url, 'GET', NOW + 59_000)).resolves.toBeTruthy();
    await expect(presignedVerify(url, 'GET', NOW + 61_000)).rejects.toMatchObject({ code: 'AccessDenied', message: 'Request has expired', status: 403 });
  });

  it('dated more than 15 minutes in the future → AccessDenied', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), { expiresIn: 3600, signingDate });
    await expect(presignedVerify(url, 'GET', NOW - 16 * 60_000)).rejects.toMatchObject({ code: 'AccessDenied' });
    await expect(presignedVerify(url, 'GET', NOW - 14 * 60_000)).resolves.toBeTruthy(); // skew is not checked otherwise
  });

  it('tampered key, method or signature → SignatureDoesNotMatch', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), { expiresIn: 900, signingDate });
    await expect(presignedVerify(url.replace('/bucket/k?', '/bucket/j?'), 'GET', NOW)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    await expect(presignedVerify(url, 'DELETE', NOW)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    await expect(presignedVerify(url.replace(/X-Amz-Signature=./, 'X-Amz-Signature=z'), 'GET', NOW)).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
  });

  it.each([
    ['X-Amz-Expires=-1', 'AuthorizationQueryParametersError'],
    ['X-Amz-Expires=604801', 'AuthorizationQueryParametersError'],
    ['X-Amz-Expires=abc', 'AuthorizationQueryParametersError'],
    ['X-Amz-Algorithm=AWS4-HMAC-SHA1', 'AuthorizationQueryParametersError'],
    ['X-Amz-Date=2024-01-15', 'AuthorizationQueryParametersError'],
  ])('%s → %s', async (param, code) => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), { expiresIn: 900, signingDate });
    const name = param.split('=')[0]!;
    const bad = url.replace(new RegExp(`${name}=[^&]*`), param);
    await expect(presignedVerify(bad, 'GET', NOW)).rejects.toMatchObject({ code });
  });

  it('X-Amz-Expires=0 → expired at once (AccessDenied), even at the signing time', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), { expiresIn: 0, signingDate });
    expect(url).toContain('X-Amz-Expires=0&');
    await expect(presignedVerify(url, 'GET', NOW)).rejects.toMatchObject({ code: 'AccessDenied', message: 'Request has expired' });
  });

  it('a missing parameter → AuthorizationQueryParametersError', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'bucket', Key: 'k' }), { expiresIn: 900, signingDate });
    await expect(presignedVerify(url.replace(/&?X-Amz-SignedHeaders=[^&]*/, ''), 'GET', NOW)).rejects.toMatchObject({
      code: 'AuthorizationQueryParametersError',
    });
  });
});
