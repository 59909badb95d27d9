/**
 * S6 (issue 9): cheap XML must not stall the gateway. A CompleteMultipartUpload body of a
 * million empty elements costs the client ~4 MB and used to cost the gateway seconds of its
 * one thread and hundreds of MB. Now the upload is looked up and the caller authorized before
 * the body is read, and the body is read as it arrives, refused once it holds more elements
 * than 10,000 parts can. Run against `erne serve` in a child process, whose memory we read.
 */
import { readFileSync } from 'node:fs';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey, startChildGateway, type ChildGateway } from '../helpers/child.js';
import { s3Client, uniqueBucket, type Creds } from '../helpers/gateway.js';
import { holdRequest, within, type HeldRequest } from '../helpers/held-body.js';
import { parseError } from '../helpers/raw.js';

/** 950,000 empty elements: 3.8 MB, the probe's body */
const BOMB = Buffer.from('<CompleteMultipartUpload>' + '<a/>'.repeat(950_000) + '</CompleteMultipartUpload>');
const PIECE = 64 * 1024;

function peakRssKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]);
}

/** sends the bomb's first `bytes`, then holds the rest back until the gateway has answered */
async function sendHeld(req: HeldRequest, bytes: number): Promise<void> {
  for (let at = 0; at < bytes; at += PIECE) {
    if (!(await req.write(BOMB.subarray(at, Math.min(bytes, at + PIECE))))) return;
  }
}

/** sends all of it as fast as the connection takes it (the attack) */
async function sendAll(req: HeldRequest): Promise<void> {
  for (let at = 0; at < BOMB.length; at += PIECE) {
    if (!(await req.write(BOMB.subarray(at, at + PIECE)))) return;
  }
}

describe('S6: XML element bombs', () => {
  let gw: ChildGateway;
  let s3: S3Client;
  let stranger: Creds;
  const bucket = uniqueBucket('bomb');
  let uploadId = '';

  beforeAll(async () => {
    gw = await startChildGateway();
    s3 = s3Client(gw);
    stranger = await createKey(gw.dataDir);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small.txt', Body: 'still here' }));
    uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'big' }))).UploadId!;
  }, 60_000);
  afterAll(async () => {
    s3?.destroy();
    await gw?.stop();
  });

  const complete = (id: string, creds?: Creds) => ({ method: 'POST', path: `/${bucket}/big`, query: `uploadId=${encodeURIComponent(id)}`, contentLength: BOMB.length, creds });

  it('a made-up upload id is 404 NoSuchUpload before the body is read', async () => {
    const req = holdRequest(gw, complete('bogus-upload-id'));
    await sendHeld(req, PIECE);
    const res = await within(req.response, 15_000, 'no answer while the body was held back: the gateway waited for the body');
    expect(res.status).toBe(404);
    expect(parseError(res.text).Code).toBe('NoSuchUpload');
    expect(req.sent).toBeLessThan(BOMB.length);
  });

  it('a key with no grant on the bucket is 403 AccessDenied before the body is read', async () => {
    const req = holdRequest(gw, complete(uploadId, stranger));
    await sendHeld(req, PIECE);
    const res = await within(req.response, 15_000, 'no answer while the body was held back: the gateway waited for the body');
    expect(res.status).toBe(403);
    expect(parseError(res.text).Code).toBe('AccessDenied');
  });

  it('on a real upload, the bomb is 400 MalformedXML once it holds more elements than 10,000 parts can', async () => {
    const req = holdRequest(gw, complete(uploadId));
    // 1 MB is 250,000 elements, past the bound; the other 2.8 MB are never sent
    await sendHeld(req, 1024 * 1024);
    const res = await within(req.response, 15_000, 'no answer while the body was held back: the gateway waited for the body');
    expect(res.status).toBe(400);
    expect(parseError(res.text).Code).toBe('MalformedXML');
    expect(req.sent).toBeLessThan(BOMB.length);
  });

  it('eight concurrent bombs get their errors, memory stays bounded, and another client’s GETs all succeed', async () => {
    const before = peakRssKb(gw.proc.pid!);
    const reader = s3Client(gw);
    const kinds = [() => complete('bogus-upload-id'), () => complete(uploadId, stranger), () => complete(uploadId)];
    const want = [
      [404, 'NoSuchUpload'],
      [403, 'AccessDenied'],
      [400, 'MalformedXML'],
    ];
    const bombs = Array.from({ length: 8 }, (_, i) => {
      const req = holdRequest(gw, kinds[i % 3]!());
      void sendAll(req);
      return req.response.then((r) => ({ i, status: r.status, code: parseError(r.text).Code }));
    });
    let done = false;
    const answered = Promise.all(bombs).finally(() => (done = true));
    // awaited below, after the GETs: not an unhandled rejection meanwhile if a bomb fails
    answered.catch(() => undefined);
    // GETs run until every bomb is answered (and at least a few of them)
    const gets: string[] = [];
    while (!done || gets.length < 5) {
      const r = await reader.send(new GetObjectCommand({ Bucket: bucket, Key: 'small.txt' }));
      gets.push(await r.Body!.transformToString());
    }
    const results = await answered;
    reader.destroy();
    for (const r of results) expect([r.status, r.code]).toEqual(want[r.i % 3]);
    expect(gets.every((g) => g === 'still here')).toBe(true);
    // the bodies were never parsed whole: the gateway's peak memory grew by well under what
    // eight parsed bodies took (~590 MB before)
    const grewMb = (peakRssKb(gw.proc.pid!) - before) / 1024;
    expect(grewMb).toBeLessThan(100);
  }, 120_000);
});
