/**
 * GetObject details against a real gateway: Range (SDK and raw headers), conditional
 * GET/HEAD with S3's 304/412 rules including the combined cases, response-* overrides.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const bucket = uniqueBucket('get');
const DATA = '0123456789abcdefghij'; // 20 bytes
const BIG = Buffer.alloc(200_000, 'xyz'); // stored as a blob, not inline
let etag: string;
let lastModified: Date;

const erne = useGateway({ bucket });

beforeAll(async () => {
  etag = (await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'r.txt', Body: DATA, ContentType: 'text/plain' }))).ETag as string;
  await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: BIG }));
  lastModified = (await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'r.txt' }))).LastModified as Date;
});

const get = (key: string, headers: Record<string, string>, method = 'GET') =>
  rawRequest(erne.gw, { method, path: `/${bucket}/${key}`, headers });

describe('Range', () => {
  it.each([
    ['bytes=0-0', '0', 'bytes 0-0/20'],
    ['bytes=-5', 'fghij', 'bytes 15-19/20'],
    ['bytes=5-', '56789abcdefghij', 'bytes 5-19/20'],
    ['bytes=3-7', '34567', 'bytes 3-7/20'],
    ['bytes=15-100', 'fghij', 'bytes 15-19/20'],
    ['bytes=-100', DATA, 'bytes 0-19/20'],
  ])('%s → 206 %j with Content-Range %s', async (range, body, contentRange) => {
    const r = await get('r.txt', { Range: range });
    expect(r.status).toBe(206);
    expect(r.text).toBe(body);
    expect(r.headers['content-range']).toBe(contentRange);
    expect(r.headers['content-length']).toBe(String(body.length));
    expect(r.headers['x-amz-request-id']).toBeTruthy();
  });

  it('a range on a large (on-disk) object reads just that slice', async () => {
    const r = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', Range: 'bytes=100000-100009' }));
    expect(r.ContentRange).toBe(`bytes 100000-100009/${BIG.length}`);
    expect((await bodyBytes(r.Body)).equals(BIG.subarray(100000, 100010))).toBe(true);
    const tail = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin', Range: 'bytes=-3' }));
    expect((await bodyBytes(tail.Body)).equals(BIG.subarray(-3))).toBe(true);
  });

  it('a range starting past the end → 416 InvalidRange', async () => {
    const r = await get('r.txt', { Range: 'bytes=25-30' });
    expect(r.status).toBe(416);
    expect(parseError(r.text).Code).toBe('InvalidRange');
    expect(r.headers['x-amz-request-id']).toBeTruthy();
    const e = await sdkError(erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r.txt', Range: 'bytes=20-' })));
    expect(e.status).toBe(416);
    expect(e.name).toBe('InvalidRange');
  });

  it('an unparseable Range header is ignored: 200 with the whole object (as S3)', async () => {
    const r = await get('r.txt', { Range: 'chars=1-2' });
    expect(r.status).toBe(200);
    expect(r.text).toBe(DATA);
  });
});

describe('conditional GET', () => {
  const past = () => new Date(lastModified.getTime() - 3600_000).toUTCString();
  const future = () => new Date(lastModified.getTime() + 3600_000).toUTCString();
  const cases: [string, () => Record<string, string>, number][] = [
    ['If-Match true', () => ({ 'If-Match': etag }), 200],
    ['If-Match *', () => ({ 'If-Match': '*' }), 200],
    ['If-Match false', () => ({ 'If-Match': '"0000"' }), 412],
    ['If-None-Match false (etag matches)', () => ({ 'If-None-Match': etag }), 304],
    ['If-None-Match true', () => ({ 'If-None-Match': '"0000"' }), 200],
    ['If-Modified-Since true (past)', () => ({ 'If-Modified-Since': past() }), 200],
    ['If-Modified-Since false (future)', () => ({ 'If-Modified-Since': future() }), 304],
    ['If-Unmodified-Since true (future)', () => ({ 'If-Unmodified-Since': future() }), 200],
    ['If-Unmodified-Since false (past)', () => ({ 'If-Unmodified-Since': past() }), 412],
    ['If-Match true + If-Unmodified-Since false → 200', () => ({ 'If-Match': etag, 'If-Unmodified-Since': past() }), 200],
    ['If-None-Match false + If-Modified-Since true → 304', () => ({ 'If-None-Match': etag, 'If-Modified-Since': past() }), 304],
    ['If-Match false + If-None-Match true → 412', () => ({ 'If-Match': '"0000"', 'If-None-Match': '"1111"' }), 412],
  ];

  it.each(cases)('GET %s → %i', async (_name, headers, status) => {
    const r = await get('r.txt', headers());
    expect(r.status).toBe(status);
    expect(r.headers['x-amz-request-id']).toBeTruthy();
    if (status === 200) expect(r.text).toBe(DATA);
    if (status === 304) {
      expect(r.body.length).toBe(0);
      expect(r.headers.etag).toBe(etag);
    }
    if (status === 412) expect(parseError(r.text).Code).toBe('PreconditionFailed');
  });

  it.each(cases)('HEAD %s → %i', async (_name, headers, status) => {
    const r = await get('r.txt', headers(), 'HEAD');
    expect(r.status).toBe(status);
    expect(r.body.length).toBe(0);
  });

  it('through the SDK: IfNoneMatch → 304, IfMatch wrong → 412 PreconditionFailed', async () => {
    const nm = await sdkError(erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r.txt', IfNoneMatch: etag })));
    expect(nm.status).toBe(304);
    const m = await sdkError(erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r.txt', IfMatch: '"nope"' })));
    expect(m.status).toBe(412);
    expect(m.name).toBe('PreconditionFailed');
    const ok = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r.txt', IfMatch: etag, IfModifiedSince: new Date(lastModified.getTime() - 3600_000) }));
    expect((await bodyBytes(ok.Body)).toString()).toBe(DATA);
  });
});

describe('response-* overrides', () => {
  it('GetObject with Response* parameters sets those response headers', async () => {
    const expires = new Date(Date.UTC(2030, 5, 6, 7, 8, 9));
    const r = await erne.s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'r.txt',
        ResponseContentType: 'application/x-test',
        ResponseContentDisposition: 'attachment; filename="x.txt"',
        ResponseContentLanguage: 'fr',
        ResponseContentEncoding: 'identity',
        ResponseCacheControl: 'no-cache',
        ResponseExpires: expires,
      }),
    );
    expect(r.ContentType).toBe('application/x-test');
    expect(r.ContentDisposition).toBe('attachment; filename="x.txt"');
    expect(r.ContentLanguage).toBe('fr');
    expect(r.ContentEncoding).toBe('identity');
    expect(r.CacheControl).toBe('no-cache');
    expect(r.Expires?.getTime()).toBe(expires.getTime());
    expect((await bodyBytes(r.Body)).toString()).toBe(DATA);
    // the override is per response: the stored Content-Type is unchanged
    const h = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'r.txt' }));
    expect(h.ContentType).toBe('text/plain');
  });
});
