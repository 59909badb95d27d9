/**
 * A full volume: the gateway's bytes live on a small tmpfs (metadata elsewhere). PUTs and
 * UploadParts that do not fit fail with 507 InsufficientStorage, nothing half-written becomes
 * visible or stays behind in the volume, existing objects stay readable, and writes succeed
 * again once space returns (the tmpfs is remounted bigger).
 *
 * Needs root (mount -t tmpfs): where mounting is refused the test is skipped, its title saying
 * why, and in CI (CI=true) it fails instead.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bodyBytes, s3Client, sdkError, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import { itNeeds, need } from '../helpers/requires.js';

const root = tempDir('erne-fulldisk-');
const volume = join(root, 'volume');
let mounted = false;
let refused: string | undefined;
try {
  mkdirSync(volume);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', volume], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  refused = `cannot mount a tmpfs here, which needs root (${(err as Error).message.split('\n')[0]})`;
}

let t: TestGateway;
let s3: S3Client;
const bucket = 'full';
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  if (!mounted) return;
  t = await startTestGateway({ dataDir: join(root, 'data'), volumeDir: volume });
  s3 = s3Client(t.gw);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  s3?.destroy();
  await t?.stop();
  if (mounted) execFileSync('umount', ['-l', volume]);
  rmSync(root, { recursive: true, force: true });
});

async function listing(): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (r.Contents ?? []).map((c) => `${c.Key} ${c.ETag} ${c.Size}`).sort();
}

itNeeds(need(refused))('fails writes that do not fit with InsufficientStorage, keeps reads working, and writes again once space returns', async () => {
  const kept = new Map<string, Buffer>();
  for (let i = 0; i < 3; i++) {
    const data = randomBytes(1024 * 1024);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `kept-${i}`, Body: data }));
    kept.set(`kept-${i}`, data);
  }
  const before = await listing();

  // 3 MiB in and ~5 MiB left: the second of these cannot fit
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fits', Body: randomBytes(3 * 1024 * 1024) }));
  const before2 = await listing();
  expect(before2.length).toBe(before.length + 1);
  const e = await sdkError(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'too-big', Body: randomBytes(4 * 1024 * 1024) })));
  expect(e.name).toBe('InsufficientStorage');
  expect(e.status).toBe(507);
  expect(e.message).toMatch(/volume is full/);

  // nothing half-written: not listed, not readable, no temp file left in the volume
  expect(await listing()).toEqual(before2);
  expect((await sdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'too-big' })))).status).toBe(404);
  expect(readdirSync(join(volume, 'tmp'))).toEqual([]);

  // multipart: the upload starts (metadata only) but a part that does not fit fails the same way
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
  const pe = await sdkError(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: randomBytes(5 * 1024 * 1024) })));
  expect(pe.name).toBe('InsufficientStorage');
  expect(pe.status).toBe(507);
  expect((await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId }))).Parts ?? []).toEqual([]);
  expect(readdirSync(join(volume, 'tmp'))).toEqual([]);

  // reads of what was stored keep working on the full volume
  for (const [key, data] of kept) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(md5(await bodyBytes(got.Body))).toBe(md5(data));
  }

  // space returns: the same writes now succeed
  execFileSync('mount', ['-o', 'remount,size=64m', volume]);
  const big = randomBytes(4 * 1024 * 1024);
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'too-big', Body: big }));
  expect(put.ETag).toBe(`"${md5(big)}"`);
  const part = randomBytes(5 * 1024 * 1024);
  const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: part }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }] } }));
  expect(md5(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'too-big' }))).Body))).toBe(md5(big));
  expect(md5(await bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp' }))).Body))).toBe(md5(part));
});

