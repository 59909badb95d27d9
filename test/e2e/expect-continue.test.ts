/**
 * Item 5 of issue 9: `Expect: 100-continue`. The gateway says `100 Continue` only once the
 * request is authenticated and authorized and what it writes to exists; a request that will
 * fail gets its final status without its body ever being sent. Raw node:http requests that
 * wait for the 100 before sending a byte of body, as clients do.
 */
import { CreateMultipartUploadCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../helpers/child.js';
import { ROOT, useGateway, type Creds } from '../helpers/gateway.js';
import { holdRequest, within, type HeldRequestOptions } from '../helpers/held-body.js';
import { parseError } from '../helpers/raw.js';

const BODY = Buffer.alloc(256 * 1024, 'x');

/** waits for 100 Continue or the final answer, whichever comes; sends the body only after a 100 */
async function send(gw: { url: string }, o: Omit<HeldRequestOptions, 'contentLength' | 'expectContinue'>) {
  const req = holdRequest(gw, { ...o, contentLength: BODY.length, expectContinue: true });
  const first = await within(Promise.race([req.continue.then(() => 'continue' as const), req.response.then(() => 'final' as const)]), 15_000, 'neither 100 Continue nor a final answer');
  // (a gateway that refuses after its 100 may never take the whole body)
  if (first === 'continue') await Promise.race([req.write(BODY), req.response.catch(() => undefined)]);
  const res = await within(req.response, 15_000, 'no final answer');
  return { continued: req.continued, sent: req.sent, status: res.status, code: res.status >= 300 ? parseError(res.text).Code : undefined };
}

describe('Expect: 100-continue', () => {
  const f = useGateway({ bucket: true });
  let stranger: Creds;
  beforeAll(async () => {
    stranger = await createKey(f.dataDir);
  });

  it.each<[string, () => Omit<HeldRequestOptions, 'contentLength' | 'expectContinue'>, number, string]>([
    ['anonymous PUT on a private bucket', () => ({ method: 'PUT', path: `/${f.bucket}/anon`, creds: null }), 403, 'AccessDenied'],
    ['a key with no grant on the bucket', () => ({ method: 'PUT', path: `/${f.bucket}/stranger`, creds: stranger }), 403, 'AccessDenied'],
    ['a wrong secret', () => ({ method: 'PUT', path: `/${f.bucket}/forged`, creds: { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'not-the-secret' } }), 403, 'SignatureDoesNotMatch'],
    ['root, a bucket that does not exist', () => ({ method: 'PUT', path: '/no-such-bucket-for-continue/k' }), 404, 'NoSuchBucket'],
    ['root, UploadPart to an upload that does not exist', () => ({ method: 'PUT', path: `/${f.bucket}/k`, query: 'partNumber=1&uploadId=made-up' }), 404, 'NoSuchUpload'],
  ])('%s: the final status arrives, no 100, no body sent', async (_name, request, status, code) => {
    const r = await send(f.gw, request());
    expect({ status: r.status, code: r.code, continued: r.continued, sent: r.sent }).toEqual({ status, code, continued: false, sent: 0 });
  });

  it('a PUT that will succeed gets 100 Continue, sends its body and is stored', async () => {
    const r = await send(f.gw, { method: 'PUT', path: `/${f.bucket}/continued` });
    expect({ status: r.status, continued: r.continued, sent: r.sent }).toEqual({ status: 200, continued: true, sent: BODY.length });
    const got = await f.s3.send(new GetObjectCommand({ Bucket: f.bucket, Key: 'continued' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(BODY)).toBe(true);
  });

  it('an UploadPart to a real upload gets 100 Continue', async () => {
    const { UploadId } = await f.s3.send(new CreateMultipartUploadCommand({ Bucket: f.bucket, Key: 'mp' }));
    const r = await send(f.gw, { method: 'PUT', path: `/${f.bucket}/mp`, query: `partNumber=1&uploadId=${encodeURIComponent(UploadId!)}` });
    expect({ status: r.status, continued: r.continued }).toEqual({ status: 200, continued: true });
  });
});
