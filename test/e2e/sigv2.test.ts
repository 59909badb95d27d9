/**
 * Signature Version 2 over real HTTP, signed here by hand from AWS's description (each test
 * spells out the StringToSign it signs): the Authorization header (path and virtual-host
 * style), v2 presigned URLs, v2 POST forms, and what a tampered, stale, expired or corrupted
 * request gets. The switch that turns v2 off (erne serve --no-sigv2) runs the real CLI.
 */
import { createHash, createHmac } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { bodyBytes, ROOT, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest, type RawRequest } from '../helpers/raw.js';

const DOMAIN = 's3.sigv2.test';
const bucket = uniqueBucket('sigv2');
const erne = useGateway({ bucket, domain: DOMAIN });

const sign = (stringToSign: string, secret = ROOT.secretAccessKey) => createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
const md5 = (s: string) => createHash('md5').update(s).digest('base64');

/** sends `req` with "Authorization: AWS <root key>:<signature of stringToSign>" */
function v2(gw: { url: string }, req: RawRequest, stringToSign: string, secret?: string) {
  return rawRequest(gw, { ...req, creds: null, headers: { ...req.headers, Authorization: `AWS ${ROOT.accessKeyId}:${sign(stringToSign, secret)}` } });
}

const exists = async (key: string) => (await sdkError(erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })))).status !== 404;

describe('SigV2 in the Authorization header', () => {
  it('PUT then GET (Content-Type, Content-MD5, a UTF-8 x-amz-meta value): stored and read back', async () => {
    const date = new Date().toUTCString();
    const body = 'hello from sigv2';
    const put = await v2(
      erne.gw,
      {
        method: 'PUT',
        path: `/${bucket}/v2/hello.txt`,
        headers: { Date: date, 'Content-Type': 'text/plain', 'Content-MD5': md5(body), 'x-amz-meta-city': 'Zürich' },
        body,
      },
      `PUT\n${md5(body)}\ntext/plain\n${date}\nx-amz-meta-city:Zürich\n/${bucket}/v2/hello.txt`,
    );
    expect(put.status, put.text).toBe(200);
    const get = await v2(erne.gw, { method: 'GET', path: `/${bucket}/v2/hello.txt`, headers: { Date: date } }, `GET\n\n\n${date}\n/${bucket}/v2/hello.txt`);
    expect(get.status, get.text).toBe(200);
    expect(get.text).toBe(body);
    expect(get.headers['content-type']).toBe('text/plain');
  });

  it('virtual-host style: the Host bucket is signed in front of the path; x-amz-date replaces Date', async () => {
    const date = new Date().toUTCString();
    const host = `${bucket}.${DOMAIN}:${erne.gw.port}`;
    const put = await v2(
      erne.gw,
      { method: 'PUT', path: '/v2/vhost.txt', host, headers: { 'x-amz-date': date }, body: 'vhost' },
      `PUT\n\n\n\nx-amz-date:${date}\n/${bucket}/v2/vhost.txt`,
    );
    expect(put.status, put.text).toBe(200);
    const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'v2/vhost.txt' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('vhost');
  });

  it('a header changed after signing: 403 SignatureDoesNotMatch with the StringToSign the server computed; nothing stored', async () => {
    const date = new Date().toUTCString();
    const res = await v2(
      erne.gw,
      { method: 'PUT', path: `/${bucket}/v2/tampered.txt`, headers: { Date: date, 'x-amz-acl': 'public-read' }, body: 'x' },
      `PUT\n\n\n${date}\nx-amz-acl:private\n/${bucket}/v2/tampered.txt`,
    );
    expect(res.status).toBe(403);
    const err = parseError(res.text);
    expect(err.Code).toBe('SignatureDoesNotMatch');
    expect(err['AWSAccessKeyId']).toBe(ROOT.accessKeyId);
    expect(err['StringToSign']).toBe(`PUT\n\n\n${date}\nx-amz-acl:public-read\n/${bucket}/v2/tampered.txt`);
    expect(err['StringToSignBytes']).toMatch(/^50 55 54 0a /);
    expect(await exists('v2/tampered.txt')).toBe(false);
  });

  it('a Date 20 minutes old: 403 RequestTimeTooSkewed', async () => {
    const date = new Date(Date.now() - 20 * 60_000).toUTCString();
    const res = await v2(erne.gw, { method: 'GET', path: `/${bucket}`, headers: { Date: date } }, `GET\n\n\n${date}\n/${bucket}/`);
    expect(res.status).toBe(403);
    expect(parseError(res.text).Code).toBe('RequestTimeTooSkewed');
  });

  it('a body that does not match its Content-MD5: 400 BadDigest, nothing stored (the body itself is not signed)', async () => {
    const date = new Date().toUTCString();
    const res = await v2(
      erne.gw,
      { method: 'PUT', path: `/${bucket}/v2/corrupt.txt`, headers: { Date: date, 'Content-MD5': md5('sent') }, body: 'changed' },
      `PUT\n${md5('sent')}\n\n${date}\n/${bucket}/v2/corrupt.txt`,
    );
    expect(res.status).toBe(400);
    expect(parseError(res.text).Code).toBe('BadDigest');
    expect(await exists('v2/corrupt.txt')).toBe(false);
  });
});

describe('SigV2 presigned URLs', () => {
  const key = 'v2/presigned.txt';
  beforeAll(async () => {
    const date = new Date().toUTCString();
    const put = await v2(erne.gw, { method: 'PUT', path: `/${bucket}/${key}`, headers: { Date: date }, body: 'shared' }, `PUT\n\n\n${date}\n/${bucket}/${key}`);
    expect(put.status, put.text).toBe(200);
  });
  const url = (expires: number, resource = `/${bucket}/${key}`) =>
    `${erne.gw.url}/${bucket}/${key}?AWSAccessKeyId=${ROOT.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sign(`GET\n\n\n${expires}\n${resource}`))}`;

  it('fetched with no credentials before Expires', async () => {
    const res = await fetch(url(Math.floor(Date.now() / 1000) + 300));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('shared');
  });

  it('Expires in the past: 403 AccessDenied, Request has expired', async () => {
    const res = await fetch(url(Math.floor(Date.now() / 1000) - 1));
    expect(res.status).toBe(403);
    expect(parseError(await res.text())).toMatchObject({ Code: 'AccessDenied', Message: 'Request has expired' });
  });

  it('signed for another key: 403 SignatureDoesNotMatch', async () => {
    const res = await fetch(url(Math.floor(Date.now() / 1000) + 300, `/${bucket}/v2/other.txt`));
    expect(res.status).toBe(403);
    expect(parseError(await res.text()).Code).toBe('SignatureDoesNotMatch');
  });
});

/** a v2 browser form: the policy (base64 JSON) and its signature, base64 HMAC-SHA1 of the base64 text */
function v2Form(key: string, secret = ROOT.secretAccessKey): FormData {
  const policy = Buffer.from(
    JSON.stringify({ expiration: new Date(Date.now() + 300_000).toISOString(), conditions: [{ bucket }, ['starts-with', '$key', 'forms/'], { 'Content-Type': 'text/plain' }] }),
  ).toString('base64');
  const form = new FormData();
  form.append('key', key);
  form.append('AWSAccessKeyId', ROOT.accessKeyId);
  form.append('Policy', policy);
  form.append('Signature', sign(policy, secret));
  form.append('Content-Type', 'text/plain');
  form.append('file', new Blob(['posted with v2']), 'note.txt');
  return form;
}

describe('SigV2 POST forms', () => {
  it('uploads, and the object is readable', async () => {
    const res = await fetch(`${erne.gw.url}/${bucket}`, { method: 'POST', body: v2Form('forms/note.txt') });
    expect(res.status, await res.clone().text()).toBe(204);
    const got = await erne.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'forms/note.txt' }));
    expect((await bodyBytes(got.Body)).toString()).toBe('posted with v2');
    expect(got.ContentType).toBe('text/plain');
  });

  it('a policy signed with another secret: 403 SignatureDoesNotMatch, nothing stored', async () => {
    const res = await fetch(`${erne.gw.url}/${bucket}`, { method: 'POST', body: v2Form('forms/forged.txt', 'not-the-secret') });
    expect(res.status).toBe(403);
    expect(parseError(await res.text()).Code).toBe('SignatureDoesNotMatch');
    expect(await exists('forms/forged.txt')).toBe(false);
  });
});

describe('erne serve --no-sigv2 (the real CLI): v2 refused with 400 InvalidRequest, v4 served', () => {
  let child: ChildGateway;
  const NOT_SUPPORTED = 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.';
  beforeAll(async () => {
    child = await startChildGateway({ args: ['--no-sigv2'] });
    const mb = await rawRequest(child, { method: 'PUT', path: '/v4only' });
    expect(mb.status, mb.text).toBe(200);
  });
  afterAll(async () => {
    await child?.stop();
  });

  it('a SigV4 request is served', async () => {
    const put = await rawRequest(child, { method: 'PUT', path: '/v4only/k', body: 'v4' });
    expect(put.status, put.text).toBe(200);
  });

  it('a v2 header request', async () => {
    const date = new Date().toUTCString();
    const res = await v2(child, { method: 'GET', path: '/v4only/k', headers: { Date: date } }, `GET\n\n\n${date}\n/v4only/k`);
    expect(res.status).toBe(400);
    expect(parseError(res.text)).toMatchObject({ Code: 'InvalidRequest', Message: NOT_SUPPORTED });
  });

  it('a v2 presigned URL', async () => {
    const expires = Math.floor(Date.now() / 1000) + 300;
    const res = await fetch(`${child.url}/v4only/k?AWSAccessKeyId=${ROOT.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sign(`GET\n\n\n${expires}\n/v4only/k`))}`);
    expect(res.status).toBe(400);
    expect(parseError(await res.text())).toMatchObject({ Code: 'InvalidRequest', Message: NOT_SUPPORTED });
  });

  it('a v2 POST form', async () => {
    const res = await fetch(`${child.url}/v4only`, { method: 'POST', body: v2Form('forms/x.txt') });
    expect(res.status).toBe(400);
    expect(parseError(await res.text())).toMatchObject({ Code: 'InvalidRequest', Message: NOT_SUPPORTED });
  });
});
