/**
 * Crash safety beyond PUT (durability.test.ts): `erne serve` is SIGKILLed in the middle of
 * many concurrent multipart completions, CopyObjects, DeleteObjects and DeleteObjects
 * batches, restarted on the same data dir, and every acknowledged operation's effect must be
 * there while nothing partial is visible. Needs `npm run build`.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { bodyBytes, listEtags, s3Client } from '../helpers/gateway.js';
import { KillAnswers } from '../helpers/kill-answers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const bucket = 'crash';
let gw: ChildGateway | undefined;

afterAll(async () => {
  await gw?.stop();
});

async function read(s3: S3Client, key: string): Promise<{ md5: string; etag: string } | 'missing'> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { md5: md5(await bodyBytes(got.Body)), etag: got.ETag as string };
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return 'missing';
    throw err;
  }
}

it('SIGKILL during multipart completions, copies and deletes loses no acknowledged effect and shows nothing partial', async () => {
  gw = await startChildGateway();
  let s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const sources = new Map<string, string>();
  for (let i = 0; i < 4; i++) {
    const data = randomBytes(60_000 + i * 10_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `src-${i}`, Body: data }));
    sources.set(`src-${i}`, md5(data));
  }
  const victims: string[] = [];
  const victimMd5 = new Map<string, string>();
  for (let i = 0; i < 150; i++) {
    const data = randomBytes(i % 3 === 0 ? 50_000 : 500);
    const key = `del-${i}`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
    victims.push(key);
    victimMd5.set(key, md5(data));
  }

  // every multipart attempt has its own key and body, so any version of it must be that body
  const mpExpected = new Map<string, string>();
  const mpAcked = new Map<string, string>();
  const copies = new Map<string, string>(); // copy key → source key
  const copyAcked = new Set<string>();
  const deleteAcked = new Set<string>();
  const answers = new KillAnswers();
  let stop = false;
  let n = 0;

  const multipart = async (w: number): Promise<void> => {
    const key = `mp/${w}/${n++}`;
    const big = n % 4 === 0;
    const parts = big ? [randomBytes(5 * 1024 * 1024), randomBytes(30_000)] : [randomBytes(150_000)];
    mpExpected.set(key, md5(Buffer.concat(parts)));
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const done = [];
    for (const [i, body] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: i + 1, Body: body }));
      done.push({ PartNumber: i + 1, ETag: r.ETag });
    }
    const c = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, MultipartUpload: { Parts: done } }));
    mpAcked.set(key, c.ETag as string);
  };
  const copy = async (w: number): Promise<void> => {
    const key = `cp/${w}/${n++}`;
    const src = `src-${n % 4}`;
    copies.set(key, src);
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${bucket}/${src}` }));
    copyAcked.add(key);
  };
  const del = async (): Promise<void> => {
    const key = victims.shift();
    if (!key) return;
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    deleteAcked.add(key);
  };
  const delBatch = async (): Promise<void> => {
    const keys = victims.splice(0, 5);
    if (keys.length === 0) return;
    const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    for (const d of r.Deleted ?? []) deleteAcked.add(d.Key as string);
    for (const e of r.Errors ?? []) answers.wrong(`DeleteObjects key ${e.Key}`, `${e.Code} ${e.Message}`);
  };

  const worker = async (w: number) => {
    const ops = [multipart, copy, del, delBatch];
    for (let i = w; !stop; i++) {
      const op = ops[i % ops.length]!;
      try {
        await op(w);
      } catch (err) {
        answers.failed(`${op.name} (worker ${w})`, err);
        return; // the server died under us (or the test fails below, showing the answer)
      }
    }
  };
  const workers = Array.from({ length: 10 }, (_, w) => worker(w));
  const t0 = Date.now();
  while ((mpAcked.size < 8 || copyAcked.size < 15 || deleteAcked.size < 30) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 20));
  answers.killing();
  await gw.kill();
  stop = true;
  await Promise.all(workers);
  s3.destroy();
  expect(answers.unexpected, `unexpected answers:\n${answers.report()}`).toEqual([]);
  expect(mpAcked.size).toBeGreaterThanOrEqual(4);
  expect(copyAcked.size).toBeGreaterThanOrEqual(4);
  expect(deleteAcked.size).toBeGreaterThanOrEqual(4);

  gw = await startChildGateway({ dataDir: gw.dataDir, port: gw.port });
  s3 = s3Client(gw);

  // acknowledged: there, whole
  for (const [key, etag] of mpAcked) {
    const got = await read(s3, key);
    expect(got, key).not.toBe('missing');
    expect((got as { md5: string }).md5, key).toBe(mpExpected.get(key));
    expect((got as { etag: string }).etag, key).toBe(etag);
  }
  for (const key of copyAcked) expect(await read(s3, key), key).toMatchObject({ md5: sources.get(copies.get(key)!) });
  for (const key of deleteAcked) expect(await read(s3, key), key).toBe('missing');

  // not acknowledged: absent, or whole
  const listed = await listEtags(s3, bucket);
  for (const key of listed.keys()) {
    const got = await read(s3, key);
    expect(got, key).not.toBe('missing');
    const sum = (got as { md5: string }).md5;
    if (key.startsWith('mp/')) expect(sum, `partial multipart object ${key}`).toBe(mpExpected.get(key));
    else if (key.startsWith('cp/')) expect(sum, `partial copy ${key}`).toBe(sources.get(copies.get(key)!));
    else if (key.startsWith('del-')) expect(sum, key).toBe(victimMd5.get(key));
    else expect(sum, key).toBe(sources.get(key));
  }
  for (const key of [...mpAcked.keys(), ...copyAcked]) expect(listed.has(key), key).toBe(true);
  for (const key of deleteAcked) expect(listed.has(key), key).toBe(false);
  // a completed upload is no longer in progress
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  for (const u of uploads.Uploads ?? []) expect(mpAcked.has(u.Key as string), `completed upload still listed: ${u.Key}`).toBe(false);

  console.log(
    `crash: acknowledged before SIGKILL: ${mpAcked.size} multipart completions, ${copyAcked.size} copies, ${deleteAcked.size} deletes; ` +
      `cut off by it: ${answers.cutOffSummary()}; ` +
      `after restart ${listed.size} keys listed, every acknowledged effect present`,
  );
  s3.destroy();
}, 120_000);
