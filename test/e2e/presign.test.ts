/**
 * Presigned URLs from @aws-sdk/s3-request-presigner, fetched with global fetch against a
 * real gateway: GET and PUT, expiry, tampering, the 7-day limit, unknown keys.
 */
import { createHash, createHmac } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import aws4 from 'aws4';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, REGION, ROOT, s3Client, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, sha256Hex } from '../helpers/raw.js';

const bucket = uniqueBucket('pre');
const erne = useGateway({ bucket });

beforeAll(async () => {
  await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt', Body: 'presigned hello', ContentType: 'text/plain' }));
});

async function expectError(res: Response, status: number, code: string) {
  const text = await res.text();
  expect({ status: res.status, text: text.slice(0, 300) }).toMatchObject({ status });
  const e = parseError(text);
  expect(e.Code).toBe(code);
  expect(e.RequestId).toBe(res.headers.get('x-amz-request-id'));
  expect(e.Message).toBeTruthy();
}

async function content(key: string): Promise<string> {
  return (await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body)).toString();
}

describe('presigned GET', () => {
  it('fetches the object, with response-* overrides', async () => {
    const url = await getSignedUrl(erne.s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt' }), { expiresIn: 300 });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('presigned hello');
    expect(res.headers.get('x-amz-request-id')).toBeTruthy();

    const url2 = await getSignedUrl(
      erne.s3,
      new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt', ResponseContentDisposition: 'attachment; filename="x y.txt"', ResponseContentType: 'application/x-dl' }),
      { expiresIn: 300 },
    );
    const res2 = await fetch(url2);
    expect(res2.status).toBe(200);
    expect(res2.headers.get('content-disposition')).toBe('attachment; filename="x y.txt"');
    expect(res2.headers.get('content-type')).toBe('application/x-dl');
  });

  it('a Range header works on a presigned GET', async () => {
    const url = await getSignedUrl(erne.s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt' }), { expiresIn: 300 });
    const res = await fetch(url, { headers: { Range: 'bytes=0-8' } });
    expect(res.status).toBe(206);
    expect(await res.text()).toBe('presigned');
  });

  it('an expired URL → 403 AccessDenied', async () => {
    // signed a minute ago for 30 s: expired for half a minute
    const url = await getSignedUrl(erne.s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt' }), { expiresIn: 30, signingDate: new Date(Date.now() - 60_000) });
    const res = await fetch(url);
    expect(parseError(await res.clone().text()).Message).toBe('Request has expired');
    await expectError(res, 403, 'AccessDenied');
  });

  it('X-Amz-Expires=0 → expired at once: 403 AccessDenied, "Request has expired"', async () => {
    const u = new URL(erne.gw.url);
    const signed = aws4.sign({ service: 's3', region: REGION, method: 'GET', host: u.host, path: `/${bucket}/other.txt?X-Amz-Expires=0`, signQuery: true }, ROOT);
    const res = await fetch(`${erne.gw.url}${signed.path}`);
    expect(parseError(await res.clone().text()).Message).toBe('Request has expired');
    await expectError(res, 403, 'AccessDenied');
  });

  it('a tampered URL (other key, same signature) → 403 SignatureDoesNotMatch', async () => {
    await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other.txt', Body: 'other' }));
    const url = await getSignedUrl(erne.s3, new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt' }), { expiresIn: 300 });
    await expectError(await fetch(url.replace('dir/hello%20world.txt', 'other.txt')), 403, 'SignatureDoesNotMatch');
    const longer = url.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=600');
    await expectError(await fetch(longer), 403, 'SignatureDoesNotMatch');
  });

  it('a URL signed by an unknown key → 403 InvalidAccessKeyId', async () => {
    const stranger = new S3Client({ endpoint: erne.gw.url, region: REGION, forcePathStyle: true, credentials: { accessKeyId: 'ERNEUNKNOWN000000000', secretAccessKey: 'x' } });
    const url = await getSignedUrl(stranger, new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt' }), { expiresIn: 300 });
    stranger.destroy();
    await expectError(await fetch(url), 403, 'InvalidAccessKeyId');
  });

  it('X-Amz-Expires over 7 days → 400 AuthorizationQueryParametersError', async () => {
    const u = new URL(erne.gw.url);
    const signed = aws4.sign(
      { service: 's3', region: REGION, method: 'GET', host: u.host, path: `/${bucket}/other.txt?X-Amz-Expires=604801`, signQuery: true },
      ROOT,
    );
    await expectError(await fetch(`${erne.gw.url}${signed.path}`), 400, 'AuthorizationQueryParametersError');
    const week = aws4.sign({ service: 's3', region: REGION, method: 'GET', host: u.host, path: `/${bucket}/other.txt?X-Amz-Expires=604800`, signQuery: true }, ROOT);
    const ok = await fetch(`${erne.gw.url}${week.path}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('other');
  });
});

describe('presigned PUT', () => {
  it('with a presigner that does not pre-compute a body checksum: uploads and stores', async () => {
    // the usual set-up for presigned uploads since SDK 3.729 (see the default case below)
    const presigner = s3Client(erne.gw, ROOT, { config: { requestChecksumCalculation: 'WHEN_REQUIRED' } });
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: bucket, Key: 'up/put one.bin' }), { expiresIn: 300 });
    presigner.destroy();
    expect(url).not.toContain('x-amz-checksum-crc32');
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 256));
    const res = await fetch(url, { method: 'PUT', body: data });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${createHash('md5').update(data).digest('hex')}"`);
    expect((await bodyBytes((await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'up/put one.bin' }))).Body)).equals(data)).toBe(true);
  });

  it('default presigner signs the CRC32 of an empty body: an empty upload works, a non-empty one is BadDigest (as S3)', async () => {
    const url = await getSignedUrl(erne.s3, new PutObjectCommand({ Bucket: bucket, Key: 'up/default.bin' }), { expiresIn: 300 });
    expect(url).toContain('x-amz-checksum-crc32=AAAAAA%3D%3D');
    await expectError(await fetch(url, { method: 'PUT', body: 'not empty' }), 400, 'BadDigest');
    const list = await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'up/default' }));
    expect(list.KeyCount).toBe(0);
    const empty = await fetch(url, { method: 'PUT', body: '' });
    expect(empty.status).toBe(200);
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'up/default.bin' }))).ContentLength).toBe(0);
  });

  it('an expired PUT URL → 403 AccessDenied and nothing written', async () => {
    const presigner = s3Client(erne.gw, ROOT, { config: { requestChecksumCalculation: 'WHEN_REQUIRED' } });
    const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: bucket, Key: 'dir/hello world.txt' }), { expiresIn: 30, signingDate: new Date(Date.now() - 60_000) });
    presigner.destroy();
    await expectError(await fetch(url, { method: 'PUT', body: 'overwrite' }), 403, 'AccessDenied');
    expect(await content('dir/hello world.txt')).toBe('presigned hello');
  });

  it('a signed X-Amz-Content-Sha256 in the URL is checked against the body: another body → 400 XAmzContentSHA256Mismatch, nothing stored', async () => {
    const expected = 'the body the signer meant';
    const bad = await fetch(presignPut(`/${bucket}/up/sha-bad.txt`, sha256Hex(expected)), { method: 'PUT', body: 'a body the signer never saw' });
    await expectError(bad, 400, 'XAmzContentSHA256Mismatch');
    await expect(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'up/sha-bad.txt' }))).rejects.toMatchObject({ name: 'NotFound' });
    const good = await fetch(presignPut(`/${bucket}/up/sha-good.txt`, sha256Hex(expected)), { method: 'PUT', body: expected });
    expect(good.status).toBe(200);
    expect(await content('up/sha-good.txt')).toBe(expected);
  });
});

/**
 * A presigned PUT URL whose query carries X-Amz-Content-Sha256=<hex>, signed with that hash as
 * the payload hash (SigV4 by hand: the SDK presigner and aws4 always sign UNSIGNED-PAYLOAD).
 * `path` must need no percent-encoding.
 */
function presignPut(path: string, payloadHex: string): string {
  const u = new URL(erne.gw.url);
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const scope = `${amzDate.slice(0, 8)}/${REGION}/s3/aws4_request`;
  const params: Array<[string, string]> = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Content-Sha256', payloadHex],
    ['X-Amz-Credential', `${ROOT.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '300'],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const canonical = ['PUT', path, query, `host:${u.host}\n`, 'host', payloadHex].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${ROOT.secretAccessKey}`).update(amzDate.slice(0, 8)).digest();
  for (const part of [REGION, 's3', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return `${erne.gw.url}${path}?${query}&X-Amz-Signature=${createHmac('sha256', key).update(toSign).digest('hex')}`;
}
