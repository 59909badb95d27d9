/**
 * Browser form uploads (presigned POST) over real HTTP: a CORS preflight and a
 * multipart/form-data POST sent with fetch + FormData, the policy and its SigV4 signature
 * made here from AWS's documentation, then the object read back with the SDK. Policy
 * conditions, expiry, signatures and size ranges are each refused as S3 refuses them.
 */
import { createHmac } from 'node:crypto';
import { GetObjectAclCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, REGION, ROOT, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, parseXml, rawRequest } from '../helpers/raw.js';

const bucket = uniqueBucket('post');
const ORIGIN = 'https://uploader.example.com';

const erne = useGateway({ bucket });

beforeAll(async () => {
  await erne.s3.send(
    new PutBucketCorsCommand({
      Bucket: bucket,
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['POST', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'Location'] }] },
    }),
  );
});

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** What a presigner (e.g. @aws-sdk/s3-presigned-post) computes: policy, credential, signature. */
function presignPost(opts: { conditions: unknown[]; expiresInMs?: number; fields?: Record<string, string>; secret?: string; accessKeyId?: string; now?: Date }): Record<string, string> {
  const now = opts.now ?? new Date();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const credential = `${opts.accessKeyId ?? ROOT.accessKeyId}/${date}/${REGION}/s3/aws4_request`;
  const fields: Record<string, string> = {
    ...opts.fields,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': credential,
    'X-Amz-Date': amzDate,
  };
  const policy = {
    expiration: new Date(now.getTime() + (opts.expiresInMs ?? 5 * 60_000)).toISOString(),
    conditions: [
      ...opts.conditions,
      { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
      { 'x-amz-credential': credential },
      { 'x-amz-date': amzDate },
    ],
  };
  const policyB64 = Buffer.from(JSON.stringify(policy)).toString('base64');
  const signingKey = hmac(hmac(hmac(hmac('AWS4' + (opts.secret ?? ROOT.secretAccessKey), date), REGION), 's3'), 'aws4_request');
  fields['Policy'] = policyB64;
  fields['X-Amz-Signature'] = createHmac('sha256', signingKey).update(policyB64).digest('hex');
  return fields;
}

async function post(fields: Record<string, string>, file: Blob | string, filename = 'photo.jpg', headers: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', typeof file === 'string' ? new Blob([file], { type: 'text/plain' }) : file, filename);
  return fetch(`${erne.gw.url}/${bucket}`, { method: 'POST', body: form, headers, redirect: 'manual' });
}

describe('browser-style presigned POST', () => {
  it('passes the preflight, uploads with the form, and the object is readable', async () => {
    const pre = await fetch(`${erne.gw.url}/${bucket}`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');

    const bytes = Buffer.alloc(300_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 251;
    const fields = presignPost({
      conditions: [{ bucket }, ['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 1_000_000], ['starts-with', '$Content-Type', 'image/'], { 'x-amz-meta-origin': 'form' }, { success_action_status: '201' }],
      fields: { key: 'uploads/${filename}', 'Content-Type': 'image/jpeg', 'x-amz-meta-origin': 'form', success_action_status: '201' },
    });
    const res = await post(fields, new Blob([bytes]), 'photo.jpg', { Origin: ORIGIN });
    const text = await res.text();
    expect(res.status, text).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const xml = parseXml(text);
    expect(xml.Bucket).toBe(bucket);
    expect(xml.Key).toBe('uploads/photo.jpg');

    const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'uploads/photo.jpg' }));
    expect((await bodyBytes(got.Body)).equals(bytes)).toBe(true);
    expect(got.ContentType).toBe('image/jpeg');
    expect(got.Metadata).toEqual({ origin: 'form' });
    expect(xml.ETag).toBe(got.ETag);
  });

  it('answers 204 by default, 200 when asked, and 303 to a redirect', async () => {
    const d = await post(presignPost({ conditions: [{ bucket }, { key: 'a.txt' }], fields: { key: 'a.txt' } }), 'aaa');
    expect(d.status).toBe(204);
    expect(d.headers.get('etag')).toBe('"47bce5c74f589f4867dbd57e9ca9f808"');
    const ok = await post(presignPost({ conditions: [{ bucket }, { key: 'b.txt' }, { success_action_status: '200' }], fields: { key: 'b.txt', success_action_status: '200' } }), 'bbb');
    expect(ok.status).toBe(200);
    const redirect = 'https://app.example.com/done';
    const r = await post(presignPost({ conditions: [{ bucket }, { key: 'c.txt' }, { success_action_redirect: redirect }], fields: { key: 'c.txt', success_action_redirect: redirect } }), 'ccc');
    expect(r.status).toBe(303);
    const loc = new URL(r.headers.get('location')!);
    expect(loc.origin + loc.pathname).toBe(redirect);
    expect(loc.searchParams.get('key')).toBe('c.txt');
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'c.txt' }))).ContentLength).toBe(3);
  });

  it("never stores the file part's own Content-Type: only a policy-covered field sets it", async () => {
    // a form whose policy says nothing about Content-Type cannot make the object text/html
    const page = new Blob(['<script>alert(1)</script>'], { type: 'text/html' });
    const plain = await post(presignPost({ conditions: [{ bucket }, { key: 'xss.html' }], fields: { key: 'xss.html' } }), page, 'xss.html');
    expect(plain.status).toBe(204);
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'xss.html' }))).ContentType).toBe('binary/octet-stream');
    // nor can a Content-Type field the policy does not cover (refused, nothing stored)
    const uncovered = await post(presignPost({ conditions: [{ bucket }, { key: 'xss2.html' }], fields: { key: 'xss2.html', 'Content-Type': 'text/html' } }), page, 'xss2.html');
    expect([uncovered.status, parseError(await uncovered.text()).Code]).toEqual([403, 'AccessDenied']);
    expect((await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'xss2.html' })))).status).toBe(404);
    // a covered field sets it, whatever the file part says
    const covered = presignPost({ conditions: [{ bucket }, { key: 'pic.png' }, ['starts-with', '$Content-Type', 'image/']], fields: { key: 'pic.png', 'Content-Type': 'image/png' } });
    expect((await post(covered, page, 'pic.png')).status).toBe(204);
    expect((await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'pic.png' }))).ContentType).toBe('image/png');
  });

  it('applies acl=public-read from the form', async () => {
    const fields = presignPost({ conditions: [{ bucket }, { key: 'pub.txt' }, { acl: 'public-read' }], fields: { key: 'pub.txt', acl: 'public-read' } });
    expect((await post(fields, 'hello')).status).toBe(204);
    const anon = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/pub.txt`, creds: null });
    expect([anon.status, anon.text]).toEqual([200, 'hello']);
    const acl = await erne.s3.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'pub.txt' }));
    expect(acl.Grants).toHaveLength(2);
  });
});

describe('refused forms', () => {
  async function refused(res: Response): Promise<[number, string | undefined]> {
    const text = await res.text();
    return [res.status, parseError(text).Code];
  }

  it.each([
    ['a key outside the allowed prefix', { conditions: [{ bucket }, ['starts-with', '$key', 'uploads/']], fields: { key: 'other/x' } }, [403, 'AccessDenied']],
    ['another bucket in the policy', { conditions: [{ bucket: 'not-this-one' }, { key: 'k' }], fields: { key: 'k' } }, [403, 'AccessDenied']],
    ['a field the policy does not cover', { conditions: [{ bucket }, { key: 'k' }], fields: { key: 'k', 'x-amz-meta-extra': '1' } }, [403, 'AccessDenied']],
    ['an expired policy', { conditions: [{ bucket }, { key: 'k' }], fields: { key: 'k' }, expiresInMs: -1000 }, [403, 'AccessDenied']],
    ['a wrong secret', { conditions: [{ bucket }, { key: 'k' }], fields: { key: 'k' }, secret: 'wrong-secret' }, [403, 'SignatureDoesNotMatch']],
    ['an unknown access key', { conditions: [{ bucket }, { key: 'k' }], fields: { key: 'k' }, accessKeyId: 'AKIDUNKNOWN000000000' }, [403, 'InvalidAccessKeyId']],
    ['a file over the range', { conditions: [{ bucket }, { key: 'k' }, ['content-length-range', 0, 4]], fields: { key: 'k' } }, [400, 'EntityTooLarge']],
    ['a file under the range', { conditions: [{ bucket }, { key: 'k' }, ['content-length-range', 100, 200]], fields: { key: 'k' } }, [400, 'EntityTooSmall']],
  ])('refuses %s', async (_n, opts, want) => {
    expect(await refused(await post(presignPost(opts as Parameters<typeof presignPost>[0]), 'too much data'))).toEqual(want);
    expect((await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })))).status).toBe(404);
  });

  it('refuses a tampered policy', async () => {
    const fields = presignPost({ conditions: [{ bucket }, ['starts-with', '$key', 'safe/']], fields: { key: 'evil' } });
    const doc = JSON.parse(Buffer.from(fields['Policy']!, 'base64').toString());
    doc.conditions[1] = ['starts-with', '$key', ''];
    fields['Policy'] = Buffer.from(JSON.stringify(doc)).toString('base64');
    expect(await refused(await post(fields, 'x'))).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('refuses a form without a policy, and a body that is not a form', async () => {
    expect(await refused(await post({ key: 'anon.txt' }, 'x'))).toEqual([403, 'AccessDenied']);
    const r = await fetch(`${erne.gw.url}/${bucket}`, { method: 'POST', body: 'key=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(412);
    await r.text();
  });

  it('refuses a form that ends before its file', async () => {
    const body = '--XyZ\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--XyZ--\r\n';
    const r = await fetch(`${erne.gw.url}/${bucket}`, { method: 'POST', body, headers: { 'content-type': 'multipart/form-data; boundary=XyZ' } });
    expect(r.status).toBe(400);
    expect(parseError(await r.text()).Code).toBe('InvalidArgument');
  });
});
