/**
 * Durability: `erne serve` as a child process is SIGKILLed in the middle of many concurrent
 * PUTs, restarted on the same data dir, and every acknowledged object must be intact (bytes
 * and ETag) while no partial object is visible. Needs `npm run build`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { bodyBytes, listEtags, s3Client, uniqueBucket } from '../helpers/gateway.js';
import { KillAnswers } from '../helpers/kill-answers.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let gw: ChildGateway | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  await gw?.stop({ keepData: true });
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('SIGKILL during concurrent PUTs loses no acknowledged object and shows no partial one', async () => {
  gw = await startChildGateway();
  dataDir = gw.dataDir;
  const bucket = uniqueBucket('dur');
  let s3 = s3Client(gw);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));

  // what each key may legitimately hold: every body ever sent for it, by md5
  const sentBodies = new Map<string, Set<string>>();
  const acked = new Map<string, { md5: string; etag: string }>();
  const answers = new KillAnswers();
  let stop = false;
  let n = 0;

  const worker = async (w: number) => {
    while (!stop) {
      n += 1;
      // a few keys are overwritten again and again; most are new
      const key = n % 5 === 0 ? `hot/${w % 3}` : `obj/${w}/${n}`;
      const size = [100, 4_000, 70_000, 300_000, 1_200_000][n % 5];
      const data = randomBytes(size);
      const sums = sentBodies.get(key) ?? new Set<string>();
      sums.add(md5(data));
      sentBodies.set(key, sums);
      const body = n % 2 === 0 ? data : Readable.from([data.subarray(0, size >> 1), data.subarray(size >> 1)]);
      try {
        const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size }));
        acked.set(key, { md5: md5(data), etag: r.ETag as string });
      } catch (err) {
        answers.failed(`PUT ${key} (${size} bytes)`, err);
        return; // the server died under us (or the test fails below, showing the answer)
      }
    }
  };

  const workers = Array.from({ length: 12 }, (_, w) => worker(w));
  const start = Date.now();
  while (acked.size < 40 && Date.now() - start < 15_000) await new Promise((r) => setTimeout(r, 20));
  expect(acked.size, answers.report()).toBeGreaterThanOrEqual(40);
  answers.killing();
  await gw.kill();
  stop = true;
  await Promise.all(workers);
  s3.destroy();
  expect(answers.unexpected, `unexpected answers:\n${answers.report()}`).toEqual([]);

  gw = await startChildGateway({ dataDir, port: gw.port });
  s3 = s3Client(gw);

  for (const [key, a] of acked) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = await bodyBytes(got.Body);
    if (key.startsWith('hot/')) {
      // a later, unacknowledged overwrite may have won; it must be whole
      expect(sentBodies.get(key)?.has(md5(bytes))).toBe(true);
    } else {
      expect(md5(bytes)).toBe(a.md5);
      expect(got.ETag).toBe(a.etag);
    }
    expect(got.ETag).toBe(`"${md5(bytes)}"`);
  }

  const listed = await listEtags(s3, bucket);
  const unacked = [...listed.keys()].filter((k) => !acked.has(k)).length;
  console.log(
    `durability: ${n} PUTs started, ${acked.size} keys acknowledged before SIGKILL, cut off by it: ${answers.cutOffSummary()}; ` +
      `${listed.size} listed after restart (${unacked} of them unacknowledged but whole)`,
  );
  for (const k of acked.keys()) expect(listed.has(k)).toBe(true);
  for (const [key, etag] of listed) {
    const sums = sentBodies.get(key);
    expect(sums, `unexpected key ${key}`).toBeDefined();
    const bytes = await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
    expect(sums?.has(md5(bytes)), `partial or foreign bytes under ${key}`).toBe(true);
    expect(etag).toBe(`"${md5(bytes)}"`);
  }
  s3.destroy();
}, 90_000);
