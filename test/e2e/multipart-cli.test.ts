/**
 * Multipart through Debian's aws CLI v2: `s3 cp` of a 20 MiB file (the CLI splits it into
 * 8 MiB parts with its own checksum settings) both ways, and the s3api multipart calls.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, uniqueBucket, useGateway } from '../helpers/gateway.js';

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
});
