/**
 * What a SigV4 signature must cover beyond its own arithmetic: the Host header (or a captured
 * virtual-host request could be re-pointed at another bucket) and a region this gateway
 * answers for (`auto`, `us-east-1`, or its own `--region`), both for the Authorization header
 * and for presigned URLs. Raw requests signed with aws4 against a real gateway (region
 * eu-test-1, virtual hosts under localhost), plus the SDK for the region rules.
 */
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import aws4 from 'aws4';
import { beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, ROOT, s3Client, uniqueBucket, useGateway } from '../helpers/gateway.js';
import { parseError, rawRequest, type RawResponse } from '../helpers/raw.js';

const REGION = 'eu-test-1';
const mine = uniqueBucket('scope-a');
const other = uniqueBucket('scope-b');
const erne = useGateway({ region: REGION, domain: 'localhost', bucket: mine });

beforeAll(async () => {
  await erne.s3.send(new PutObjectCommand({ Bucket: mine, Key: 'k', Body: 'mine' }));
  await erne.s3.send(new CreateBucketCommand({ Bucket: other }));
  await erne.s3.send(new PutObjectCommand({ Bucket: other, Key: 'k', Body: 'secret of the other bucket' }));
});

function expectError(res: RawResponse, status: number, code: string): Record<string, unknown> {
  expect({ status: res.status, body: res.text.slice(0, 400) }).toMatchObject({ status });
  const e = parseError(res.text);
  expect(e.Code).toBe(code);
  return e;
}

describe('the Host header must be signed', () => {
  it('a virtual-host GET whose signature leaves Host out is refused, as it is and re-pointed at another bucket', async () => {
    const host = (bucket: string) => `${bucket}.localhost:${erne.gw.port}`;
    const asSigned = await rawRequest(erne.gw, { method: 'GET', path: '/k', host: host(mine), unsignedHeaders: ['host'], region: REGION });
    expect(expectError(asSigned, 403, 'AccessDenied').HeadersNotSigned).toBe('host');
    const repointed = await rawRequest(erne.gw, {
      method: 'GET',
      path: '/k',
      host: host(mine),
      unsignedHeaders: ['host'],
      region: REGION,
      tamper: (h) => {
        h['Host'] = host(other);
      },
    });
    expect(repointed.text).not.toContain('secret');
    expect(expectError(repointed, 403, 'AccessDenied').HeadersNotSigned).toBe('host');
    // the same request with Host signed works
    const signed = await rawRequest(erne.gw, { method: 'GET', path: '/k', host: host(mine), region: REGION });
    expect(signed.status).toBe(200);
    expect(signed.text).toBe('mine');
  });

  it('a presigned URL whose X-Amz-SignedHeaders leaves host out is refused', async () => {
    const u = new URL(erne.gw.url);
    // one other header is signed, so the signature itself is well-formed
    const headers = { 'Cache-Control': 'no-cache' };
    const url = (extra: object) =>
      aws4.sign({ service: 's3', region: REGION, method: 'GET', host: u.host, path: `/${mine}/k?X-Amz-Expires=300`, headers, signQuery: true, ...extra }, ROOT).path!;
    const unsigned = url({ extraHeadersToIgnore: { host: true } });
    expect(unsigned).toContain('X-Amz-SignedHeaders=cache-control&');
    const res = await fetch(`${erne.gw.url}${unsigned}`, { headers });
    const text = await res.text();
    expect({ status: res.status, text: text.slice(0, 300) }).toMatchObject({ status: 403 });
    const e = parseError(text);
    expect({ code: e.Code, notSigned: e.HeadersNotSigned }).toEqual({ code: 'AccessDenied', notSigned: 'host' });
    const ok = await fetch(`${erne.gw.url}${url({})}`, { headers });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('mine');
  });
});

describe('the signing region', () => {
  it.each(['auto', 'us-east-1', REGION])('a request signed for %s is served', async (region) => {
    const res = await rawRequest(erne.gw, { method: 'GET', path: `/${mine}/k`, region });
    expect(res.status).toBe(200);
    expect(res.text).toBe('mine');
  });

  it('a request signed for another region → 400 AuthorizationHeaderMalformed naming the region expected', async () => {
    const res = await rawRequest(erne.gw, { method: 'GET', path: `/${mine}/k`, region: 'eu-west-9' });
    const e = expectError(res, 400, 'AuthorizationHeaderMalformed');
    expect(e.Message).toBe(`The authorization header is malformed; the region 'eu-west-9' is wrong; expecting '${REGION}'`);
    expect(e.Region).toBe(REGION);
  });

  it('presigned: auto and the own region pass, another region → 400 AuthorizationQueryParametersError', async () => {
    const u = new URL(erne.gw.url);
    const url = (region: string) =>
      `${erne.gw.url}${aws4.sign({ service: 's3', region, method: 'GET', host: u.host, path: `/${mine}/k?X-Amz-Expires=300`, signQuery: true }, ROOT).path!}`;
    for (const region of ['auto', REGION]) {
      const res = await fetch(url(region));
      expect({ region, status: res.status, body: await res.text() }).toEqual({ region, status: 200, body: 'mine' });
    }
    const res = await fetch(url('ap-south-7'));
    const text = await res.text();
    expect({ status: res.status, text: text.slice(0, 300) }).toMatchObject({ status: 400 });
    const e = parseError(text);
    expect({ status: res.status, code: e.Code, message: e.Message, region: e.Region }).toEqual({
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message: `Error parsing the X-Amz-Credential parameter; the region 'ap-south-7' is wrong; expecting '${REGION}'`,
      region: REGION,
    });
  });

  it('through the SDK: region auto works, a wrong region is an AuthorizationHeaderMalformed error', async () => {
    const auto = s3Client(erne.gw, ROOT, { config: { region: 'auto' } });
    const wrong = s3Client(erne.gw, ROOT, { config: { region: 'sa-east-1' } });
    try {
      const got = await auto.send(new GetObjectCommand({ Bucket: mine, Key: 'k' }));
      expect((await bodyBytes(got.Body)).toString()).toBe('mine');
      await expect(wrong.send(new GetObjectCommand({ Bucket: mine, Key: 'k' }))).rejects.toMatchObject({
        name: 'AuthorizationHeaderMalformed',
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      auto.destroy();
      wrong.destroy();
    }
  });
});
