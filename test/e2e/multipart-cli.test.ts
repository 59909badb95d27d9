/**
 * Multipart through Debian's aws CLI v2: `s3 cp` of a 20 MiB file (the CLI splits it into
 * 8 MiB parts with its own checksum settings) both ways, the s3api multipart calls, and
 * `s3 rb --force` of a bucket an interrupted upload left behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadBucketCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { awsCli, sdkError, uniqueBucket, useGateway } from '../helpers/gateway.js';

const MiB = 1024 * 1024;
let dir: string;
const bucket = uniqueBucket('mpcli');
const erne = useGateway();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'erne-mp-cli-'));
  const r = await awsCli(erne.gw, ['s3', 'mb', `s3://${bucket}`]);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function api(args: string[]): Promise<Record<string, unknown>> {
  const r = await awsCli(erne.gw, ['s3api', ...args, '--output', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : {};
}

describe('aws CLI', () => {
  it('s3 cp uploads 20 MiB as a multipart object and downloads it intact', async () => {
    const data = randomBytes(20 * MiB);
    writeFileSync(join(dir, 'up.bin'), data);
    const up = await awsCli(erne.gw, ['s3', 'cp', join(dir, 'up.bin'), `s3://${bucket}/cli/up.bin`]);
    expect(up.code, up.stderr).toBe(0);
    const head = await api(['head-object', '--bucket', bucket, '--key', 'cli/up.bin']);
    expect(head.ContentLength).toBe(data.length);
    expect(String(head.ETag)).toMatch(/-3"$/); // 8 + 8 + 4 MiB
    const down = await awsCli(erne.gw, ['s3', 'cp', `s3://${bucket}/cli/up.bin`, join(dir, 'down.bin')]);
    expect(down.code, down.stderr).toBe(0);
    const got = readFileSync(join(dir, 'down.bin'));
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('s3api create-multipart-upload / upload-part / list-parts / complete-multipart-upload', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1234)];
    const created = await api(['create-multipart-upload', '--bucket', bucket, '--key', 'api.bin', '--content-type', 'text/x-test']);
    const uploadId = String(created.UploadId);
    const done: { PartNumber: number; ETag: string }[] = [];
    for (const [i, body] of parts.entries()) {
      const file = join(dir, `part${i + 1}`);
      writeFileSync(file, body);
      const r = await api(['upload-part', '--bucket', bucket, '--key', 'api.bin', '--upload-id', uploadId, '--part-number', String(i + 1), '--body', file]);
      expect(r.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
      done.push({ PartNumber: i + 1, ETag: String(r.ETag) });
    }
    const listed = await api(['list-parts', '--bucket', bucket, '--key', 'api.bin', '--upload-id', uploadId]);
    expect((listed.Parts as { Size: number }[]).map((p) => p.Size)).toEqual([5 * MiB, 1234]);
    const uploads = await api(['list-multipart-uploads', '--bucket', bucket]);
    expect((uploads.Uploads as { UploadId: string }[]).map((u) => u.UploadId)).toContain(uploadId);
    writeFileSync(join(dir, 'parts.json'), JSON.stringify({ Parts: done }));
    const c = await api(['complete-multipart-upload', '--bucket', bucket, '--key', 'api.bin', '--upload-id', uploadId, '--multipart-upload', `file://${join(dir, 'parts.json')}`]);
    expect(String(c.ETag)).toMatch(/-2"$/);
    await api(['get-object', '--bucket', bucket, '--key', 'api.bin', join(dir, 'api.out')]);
    expect(readFileSync(join(dir, 'api.out')).equals(Buffer.concat(parts))).toBe(true);
    const head = await api(['head-object', '--bucket', bucket, '--key', 'api.bin', '--part-number', '2']);
    expect(head.PartsCount).toBe(2);
    expect(head.ContentLength).toBe(1234);
  });

  it('s3 rb --force after an interrupted upload: the bucket goes, its upload is aborted, its part freed', async () => {
    const b = uniqueBucket('rbforce');
    expect((await awsCli(erne.gw, ['s3', 'mb', `s3://${b}`])).code).toBe(0);
    writeFileSync(join(dir, 'small.txt'), 'an object rb deletes first');
    expect((await awsCli(erne.gw, ['s3', 'cp', join(dir, 'small.txt'), `s3://${b}/small.txt`])).code).toBe(0);
    // an upload that was started and never completed nor aborted
    const uploadId = String((await api(['create-multipart-upload', '--bucket', b, '--key', 'half.bin'])).UploadId);
    writeFileSync(join(dir, 'half-part'), randomBytes(5 * MiB));
    await api(['upload-part', '--bucket', b, '--key', 'half.bin', '--upload-id', uploadId, '--part-number', '1', '--body', join(dir, 'half-part')]);
    await erne.gw.janitor.runOnce();
    const before = blobFiles();

    const rb = await awsCli(erne.gw, ['s3', 'rb', '--force', `s3://${b}`]);
    expect(rb.code, rb.stderr).toBe(0);
    expect((await sdkError(erne.s3.send(new HeadBucketCommand({ Bucket: b })))).status).toBe(404);
    // a part uploaded to the aborted upload is refused
    const late = await sdkError(erne.s3.send(new UploadPartCommand({ Bucket: b, Key: 'half.bin', UploadId: uploadId, PartNumber: 2, Body: 'late' })));
    expect(late.status).toBe(404);
    // a new bucket of the same name starts with no uploads
    expect((await awsCli(erne.gw, ['s3', 'mb', `s3://${b}`])).code).toBe(0);
    expect((await api(['list-multipart-uploads', '--bucket', b])).Uploads ?? []).toEqual([]);
    // the part's bytes are garbage: a janitor pass removes them (a pass already running may
    // have read the queues before the delete, so ask again until the count is reached)
    for (let i = 0; i < 3 && blobFiles() > before - 1; i++) await erne.gw.janitor.runOnce();
    expect(blobFiles()).toBe(before - 1);
  });
});

/** blob files on the gateway's volume */
function blobFiles(): number {
  const walk = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? walk(join(d, e.name)) : 1), 0);
  return walk(join(erne.dataDir, 'volume', 'blobs'));
}
