/**
 * CORS: Put/Get/DeleteBucketCors through @aws-sdk/client-s3 with S3's validation, the
 * unauthenticated OPTIONS preflight over raw HTTP, and Access-Control-* headers on actual
 * requests (successes and errors alike) that carry an Origin.
 */
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type CORSRule,
} from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest } from '../helpers/raw.js';

const bucket = uniqueBucket('cors');
const bare = uniqueBucket('nocors');

const RULES: CORSRule[] = [
  {
    ID: 'uploads',
    AllowedOrigins: ['https://app.example.com', 'https://*.example.org'],
    AllowedMethods: ['PUT', 'POST'],
    AllowedHeaders: ['content-type', 'x-amz-*'],
    ExposeHeaders: ['ETag', 'x-amz-version-id'],
    MaxAgeSeconds: 600,
  },
  { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
];

const erne = useGateway({ bucket });

beforeAll(async () => {
  await erne.s3.send(new CreateBucketCommand({ Bucket: bare }));
  await erne.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'hi' }));
  await erne.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: RULES } }));
});

function preflight(b: string, key: string, origin: string | undefined, method: string | undefined, headers?: string) {
  const h: Record<string, string> = {};
  if (origin !== undefined) h['Origin'] = origin;
  if (method !== undefined) h['Access-Control-Request-Method'] = method;
  if (headers !== undefined) h['Access-Control-Request-Headers'] = headers;
  return rawRequest(erne.gw, { method: 'OPTIONS', path: `/${b}/${key}`, headers: h, creds: null });
}

describe('bucket CORS configuration', () => {
  it('returns the rules as stored', async () => {
    const got = await erne.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
    expect(got.CORSRules).toEqual([
      { ID: 'uploads', AllowedOrigins: RULES[0]!.AllowedOrigins, AllowedMethods: ['PUT', 'POST'], AllowedHeaders: ['content-type', 'x-amz-*'], ExposeHeaders: ['ETag', 'x-amz-version-id'], MaxAgeSeconds: 600 },
      { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
    ]);
  });

  it('answers NoSuchCORSConfiguration when there is none, and after a delete', async () => {
    expect((await sdkError(erne.s3.send(new GetBucketCorsCommand({ Bucket: bare })))).name).toBe('NoSuchCORSConfiguration');
    const b = uniqueBucket('cdel');
    await erne.s3.send(new CreateBucketCommand({ Bucket: b }));
    await erne.s3.send(new PutBucketCorsCommand({ Bucket: b, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }));
    const del = await erne.s3.send(new DeleteBucketCorsCommand({ Bucket: b }));
    expect(del.$metadata.httpStatusCode).toBe(204);
    const e = await sdkError(erne.s3.send(new GetBucketCorsCommand({ Bucket: b })));
    expect([e.name, e.status]).toEqual(['NoSuchCORSConfiguration', 404]);
  });

  it.each([
    ['an unsupported method', [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }], 'InvalidRequest'],
    ['two wildcards in an origin', [{ AllowedOrigins: ['https://*.*.com'], AllowedMethods: ['GET'] }], 'InvalidRequest'],
    ['101 rules', Array.from({ length: 101 }, () => ({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] })), 'InvalidRequest'],
  ])('refuses %s', async (_n, rules, code) => {
    const e = await sdkError(erne.s3.send(new PutBucketCorsCommand({ Bucket: bare, CORSConfiguration: { CORSRules: rules } })));
    expect(e.name).toBe(code);
    expect(e.status).toBe(400);
  });

  it('refuses a rule without an origin (MalformedXML)', async () => {
    const body = '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    const r = await rawRequest(erne.gw, { method: 'PUT', path: `/${bare}`, query: 'cors=', body });
    expect(parseError(r.text).Code).toBe('MalformedXML');
  });
});

describe('preflight (OPTIONS, unauthenticated)', () => {
  it('allows a matching origin, method and headers', async () => {
    const r = await preflight(bucket, 'upload.bin', 'https://app.example.com', 'PUT', 'Content-Type, X-Amz-Date');
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(r.headers['access-control-allow-methods']).toBe('PUT, POST');
    expect(r.headers['access-control-allow-headers']).toBe('content-type, x-amz-date');
    expect(r.headers['access-control-expose-headers']).toBe('ETag, x-amz-version-id');
    expect(r.headers['access-control-max-age']).toBe('600');
    expect(r.headers['access-control-allow-credentials']).toBe('true');
    expect(r.headers['vary']).toContain('Origin');
  });

  it('matches a wildcard origin, and answers * for a rule allowing any origin', async () => {
    const sub = await preflight(bucket, 'x', 'https://cdn.example.org', 'POST');
    expect(sub.status).toBe(200);
    expect(sub.headers['access-control-allow-origin']).toBe('https://cdn.example.org');
    const any = await preflight(bucket, 'x', 'https://elsewhere.net', 'GET');
    expect(any.status).toBe(200);
    expect(any.headers['access-control-allow-origin']).toBe('*');
    expect(any.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it.each([
    ['an unknown origin for PUT', 'https://evil.example.net', 'PUT', undefined],
    ['a method no rule allows', 'https://app.example.com', 'DELETE', undefined],
    ['a header no rule allows', 'https://app.example.com', 'PUT', 'authorization'],
  ])('refuses %s with 403 AccessForbidden', async (_n, origin, method, headers) => {
    const r = await preflight(bucket, 'x', origin, method, headers);
    expect(r.status).toBe(403);
    const e = parseError(r.text);
    expect(e.Code).toBe('AccessForbidden');
    expect(e.Message).toMatch(/^CORSResponse: This CORS request is not allowed/);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses every preflight on a bucket without CORS configuration', async () => {
    const r = await preflight(bare, 'x', 'https://app.example.com', 'GET');
    expect(r.status).toBe(403);
    expect(parseError(r.text).Code).toBe('AccessForbidden');
  });

  it('needs Origin and Access-Control-Request-Method', async () => {
    expect((await preflight(bucket, 'x', undefined, 'GET')).status).toBe(400);
    expect((await preflight(bucket, 'x', 'https://app.example.com', undefined)).status).toBe(400);
  });

  it('answers NoSuchBucket for a missing bucket', async () => {
    const r = await preflight(uniqueBucket('gone'), 'x', 'https://app.example.com', 'GET');
    expect(r.status).toBe(404);
  });
});

describe('actual requests with an Origin', () => {
  it('carry the matching rule\'s headers, on success and on error', async () => {
    const ok = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/hello.txt`, headers: { Origin: 'https://site.test' } });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('hi');
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    expect(ok.headers['access-control-allow-methods']).toBe('GET, HEAD');
    const missing = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/nope.txt`, headers: { Origin: 'https://site.test' } });
    expect(missing.status).toBe(404);
    expect(missing.headers['access-control-allow-origin']).toBe('*');
    const denied = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/anon.txt`, body: 'x', creds: null, headers: { Origin: 'https://app.example.com' } });
    expect(denied.status).toBe(403);
    expect(denied.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(denied.headers['access-control-expose-headers']).toBe('ETag, x-amz-version-id');
  });

  it('get none when no rule matches, or without an Origin', async () => {
    const other = await rawRequest(erne.gw, { method: 'PUT', path: `/${bucket}/o.txt`, body: 'x', headers: { Origin: 'https://evil.example.net' } });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const plain = await rawRequest(erne.gw, { method: 'GET', path: `/${bucket}/hello.txt` });
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
  });
});
