/**
 * The aws CLI doing its normal job, multipart included. It uses Debian's awscli v2 at
 * /usr/bin/aws (AWS_BIN from test/helpers/gateway.ts; a pip `aws` v1 earlier on PATH is NOT
 * the one run). Default transfer settings: files over 8 MiB go up as 8 MiB parts and come
 * down as ranged GETs. Covers s3 mb/cp/ls/sync/mv/rm/rb, server-side s3→s3 copy, cp --acl
 * public-read, and the s3api multipart calls by hand (create/upload-part/list-parts/complete,
 * with and without --checksum-algorithm SHA256, list-multipart-uploads, abort).
 * Single-PUT basics are in test/e2e/aws-cli.test.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AWS_BIN, awsCli, uniqueBucket } from '../../helpers/gateway.js';
import { describeNeeds } from '../../helpers/requires.js';
import { useClientSuite } from './suite.js';
import { fileMd5, makeTree, randomFile, smallFile, sortedEntries, treeMd5 } from './support.js';

const MiB = 1024 * 1024;
const bucket = uniqueBucket('awscli');
const s3u = (k = '') => `s3://${bucket}/${k}`;

const suite = useClientSuite({
  name: 'aws-cli',
  needs: 'aws',
  setup: async () => {
    const v = await awsCli({ url: 'http://127.0.0.1:1' }, ['--version']);
    console.log(`aws CLI used: ${AWS_BIN}: ${(v.stdout || v.stderr).trim()}`);
    await aws('s3', 'mb', s3u());
  },
});

/** Runs the CLI (with --debug when ERNE_CLIENTS_DEBUG=1) and throws with its output on failure. */
async function aws(...args: string[]): Promise<string> {
  const debug = process.env.ERNE_CLIENTS_DEBUG === '1' ? ['--debug'] : [];
  const r = await awsCli(suite.tr, [...debug, ...args]);
  if (r.code !== 0) throw new Error(`${AWS_BIN} ${args.join(' ')} exited ${r.code}:\n${r.stderr.slice(-6000)}`);
  return r.stdout;
}
/** parsed JSON output; the CLI prints nothing at all when a response has no fields to show */
const json = async <T>(...args: string[]) => {
  const out = (await aws(...args)).trim();
  return (out ? JSON.parse(out) : {}) as T;
};

async function keys(prefix: string): Promise<string[]> {
  const r = await json<{ Contents?: { Key: string }[] }>('s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', prefix);
  return (r.Contents ?? []).map((c) => c.Key).sort();
}

describeNeeds(suite.need)(`aws CLI (${AWS_BIN})`, () => {
  it('s3 cp a small file up and down', async () => {
    const sum = await randomFile(join(suite.dir, 'small.bin'), 4321);
    await aws('s3', 'cp', join(suite.dir, 'small.bin'), s3u('small.bin'));
    await aws('s3', 'cp', s3u('small.bin'), join(suite.dir, 'small.down'));
    expect(await fileMd5(join(suite.dir, 'small.down'))).toBe(sum);
  });

  it('s3 cp a 20 MiB file: multipart upload (3 parts), ranged download, bytes intact', async () => {
    const sum = await randomFile(join(suite.dir, 'twenty.bin'), 20 * MiB + 3);
    await aws('s3', 'cp', join(suite.dir, 'twenty.bin'), s3u('big/twenty.bin'));
    const head = await json<{ ETag: string; ContentLength: number }>('s3api', 'head-object', '--bucket', bucket, '--key', 'big/twenty.bin');
    expect(head.ContentLength).toBe(20 * MiB + 3);
    expect(head.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    await aws('s3', 'cp', s3u('big/twenty.bin'), join(suite.dir, 'twenty.down'));
    expect(await fileMd5(join(suite.dir, 'twenty.down'))).toBe(sum);
  });

  it('s3 ls: buckets, a prefix, --recursive', async () => {
    smallFile(join(suite.dir, 'ls', 'a.txt'), 'a');
    smallFile(join(suite.dir, 'ls', 'd', 'b.txt'), 'bb');
    await aws('s3', 'cp', '--recursive', join(suite.dir, 'ls'), s3u('ls/'));
    expect(await aws('s3', 'ls')).toContain(bucket);
    const top = await aws('s3', 'ls', s3u('ls/'));
    expect(top).toMatch(/PRE d\//);
    expect(top).toMatch(/\s1 a\.txt/);
    expect(await aws('s3', 'ls', '--recursive', s3u('ls/'))).toMatch(/\s2 ls\/d\/b\.txt/);
  });

  it('s3 cp s3→s3 (server-side copy, small and 20 MiB multipart) and s3 mv', async () => {
    const sum = await randomFile(join(suite.dir, 'c.bin'), 3000);
    await aws('s3', 'cp', join(suite.dir, 'c.bin'), s3u('copy/src.bin'));
    await aws('s3', 'cp', s3u('copy/src.bin'), s3u('copy/dst.bin'));
    await aws('s3', 'mv', s3u('copy/dst.bin'), s3u('copy/moved.bin'));
    expect(await keys('copy/')).toEqual(['copy/moved.bin', 'copy/src.bin']);
    await aws('s3', 'cp', s3u('copy/moved.bin'), join(suite.dir, 'moved.down'));
    expect(await fileMd5(join(suite.dir, 'moved.down'))).toBe(sum);
    // over 8 MiB the CLI copies with UploadPartCopy (x-amz-copy-source-range)
    const big = await randomFile(join(suite.dir, 'cbig.bin'), 20 * MiB);
    await aws('s3', 'cp', join(suite.dir, 'cbig.bin'), s3u('copy/big-src.bin'));
    await aws('s3', 'cp', s3u('copy/big-src.bin'), s3u('copy/big-dst.bin'));
    await aws('s3', 'cp', s3u('copy/big-dst.bin'), join(suite.dir, 'cbig.down'));
    expect(await fileMd5(join(suite.dir, 'cbig.down'))).toBe(big);
  });

  it('s3 sync a tree up and down, then again after local changes with --delete', async () => {
    const up = join(suite.dir, 'sync-up');
    const tree = makeTree(up, 60);
    tree.set('big/nine.bin', await randomFile(join(up, 'big', 'nine.bin'), 9 * MiB)); // multipart
    await aws('s3', 'sync', up, s3u('sync/'));
    expect(await keys('sync/')).toEqual([...tree.keys()].map((k) => `sync/${k}`).sort());
    const down = join(suite.dir, 'sync-down');
    await aws('s3', 'sync', s3u('sync/'), down);
    expect(sortedEntries(await treeMd5(down))).toEqual(sortedEntries(tree));
    // a second sync with nothing changed transfers nothing
    expect((await aws('s3', 'sync', up, s3u('sync/'))).trim()).toBe('');

    const [gone, changed] = [...tree.keys()].filter((k) => k.startsWith('a/'));
    unlinkSync(join(up, gone));
    writeFileSync(join(up, changed), 'changed contents, another size');
    smallFile(join(up, 'new', 'file.txt'), 'new');
    const out = await aws('s3', 'sync', '--delete', up, s3u('sync/'));
    expect(out).toContain(`delete: ${s3u('sync/' + gone)}`);
    expect(out).toContain(`upload: `);
    await aws('s3', 'sync', '--delete', s3u('sync/'), down);
    expect(sortedEntries(await treeMd5(down))).toEqual(sortedEntries(await treeMd5(up)));
    expect(existsSync(join(down, gone))).toBe(false);
    expect(readFileSync(join(down, changed), 'utf8')).toBe('changed contents, another size');
  });

  it('s3 cp --acl public-read makes the object anonymously readable; default stays private', async () => {
    await randomFile(join(suite.dir, 'pub.bin'), 600);
    await aws('s3', 'cp', '--acl', 'public-read', join(suite.dir, 'pub.bin'), s3u('pub/public.bin'));
    await aws('s3', 'cp', join(suite.dir, 'pub.bin'), s3u('pub/private.bin'));
    expect((await fetch(`${suite.gw.url}/${bucket}/pub/public.bin`)).status).toBe(200);
    expect((await fetch(`${suite.gw.url}/${bucket}/pub/private.bin`)).status).toBe(403);
    const acl = await json<{ Grants: { Grantee: { URI?: string }; Permission: string }[] }>('s3api', 'get-object-acl', '--bucket', bucket, '--key', 'pub/public.bin');
    expect(acl.Grants).toContainEqual({ Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' });
  });

  it('s3api multipart by hand: create, upload-part ×2, list-parts, complete', async () => {
    const p1 = join(suite.dir, 'p1.bin');
    const p2 = join(suite.dir, 'p2.bin');
    const s1 = await randomFile(p1, 5 * MiB);
    await randomFile(p2, 1234);
    const { UploadId } = await json<{ UploadId: string }>('s3api', 'create-multipart-upload', '--bucket', bucket, '--key', 'mpu/hand.bin', '--content-type', 'application/x-hand');
    const e1 = await json<{ ETag: string }>('s3api', 'upload-part', '--bucket', bucket, '--key', 'mpu/hand.bin', '--upload-id', UploadId, '--part-number', '1', '--body', p1);
    const e2 = await json<{ ETag: string }>('s3api', 'upload-part', '--bucket', bucket, '--key', 'mpu/hand.bin', '--upload-id', UploadId, '--part-number', '2', '--body', p2);
    expect(e1.ETag).toBe(`"${s1}"`);
    const parts = await json<{ Parts: { PartNumber: number; ETag: string; Size: number }[] }>(
      's3api', 'list-parts', '--bucket', bucket, '--key', 'mpu/hand.bin', '--upload-id', UploadId,
    );
    expect(parts.Parts.map((p) => [p.PartNumber, p.ETag, p.Size])).toEqual([[1, e1.ETag, 5 * MiB], [2, e2.ETag, 1234]]);
    const doc = JSON.stringify({ Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] });
    const done = await json<{ ETag: string; Key: string }>(
      's3api', 'complete-multipart-upload', '--bucket', bucket, '--key', 'mpu/hand.bin', '--upload-id', UploadId, '--multipart-upload', doc,
    );
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
    const head = await json<{ ContentLength: number; ContentType: string; ETag: string }>('s3api', 'head-object', '--bucket', bucket, '--key', 'mpu/hand.bin');
    expect([head.ContentLength, head.ContentType, head.ETag]).toEqual([5 * MiB + 1234, 'application/x-hand', done.ETag]);
  });

  it('s3api multipart with --checksum-algorithm SHA256: per-part checksums and the composite one', async () => {
    const p1 = join(suite.dir, 'c1.bin');
    const p2 = join(suite.dir, 'c2.bin');
    await randomFile(p1, 5 * MiB);
    await randomFile(p2, 4321);
    const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest();
    const key = ['--bucket', bucket, '--key', 'mpu/sha.bin'];
    const { UploadId } = await json<{ UploadId: string }>('s3api', 'create-multipart-upload', ...key, '--checksum-algorithm', 'SHA256');
    const parts = [];
    for (const [n, p] of [[1, p1], [2, p2]] as const) {
      const r = await json<{ ETag: string; ChecksumSHA256?: string }>('s3api', 'upload-part', ...key, '--upload-id', UploadId, '--part-number', String(n), '--body', p, '--checksum-algorithm', 'SHA256');
      expect(r.ChecksumSHA256).toBe(sha(p).toString('base64'));
      parts.push({ PartNumber: n, ETag: r.ETag, ChecksumSHA256: r.ChecksumSHA256 });
    }
    const listed = await json<{ Parts: { ChecksumSHA256?: string }[] }>('s3api', 'list-parts', ...key, '--upload-id', UploadId);
    expect(listed.Parts.map((p) => p.ChecksumSHA256)).toEqual(parts.map((p) => p.ChecksumSHA256));
    const done = await json<{ ChecksumSHA256?: string }>('s3api', 'complete-multipart-upload', ...key, '--upload-id', UploadId, '--multipart-upload', JSON.stringify({ Parts: parts }));
    // the composite checksum: SHA-256 of the concatenated part digests, then -<parts>
    const composite = `${createHash('sha256').update(Buffer.concat([sha(p1), sha(p2)])).digest('base64')}-2`;
    expect(done.ChecksumSHA256).toBe(composite);
    const head = await json<{ ChecksumSHA256?: string }>('s3api', 'head-object', ...key, '--checksum-mode', 'ENABLED');
    expect(head.ChecksumSHA256).toBe(composite);
  });

  it('s3api list-multipart-uploads and abort-multipart-upload', async () => {
    const { UploadId } = await json<{ UploadId: string }>('s3api', 'create-multipart-upload', '--bucket', bucket, '--key', 'mpu/aborted.bin');
    await randomFile(join(suite.dir, 'pa.bin'), 1000);
    await aws('s3api', 'upload-part', '--bucket', bucket, '--key', 'mpu/aborted.bin', '--upload-id', UploadId, '--part-number', '1', '--body', join(suite.dir, 'pa.bin'));
    const listed = await json<{ Uploads?: { Key: string; UploadId: string }[] }>('s3api', 'list-multipart-uploads', '--bucket', bucket);
    expect(listed.Uploads?.map((u) => [u.Key, u.UploadId])).toContainEqual(['mpu/aborted.bin', UploadId]);
    await aws('s3api', 'abort-multipart-upload', '--bucket', bucket, '--key', 'mpu/aborted.bin', '--upload-id', UploadId);
    const after = await json<{ Uploads?: { UploadId: string }[] }>('s3api', 'list-multipart-uploads', '--bucket', bucket);
    expect((after.Uploads ?? []).map((u) => u.UploadId)).not.toContain(UploadId);
    const r = await awsCli(suite.tr, ['s3api', 'list-parts', '--bucket', bucket, '--key', 'mpu/aborted.bin', '--upload-id', UploadId]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('NoSuchUpload');
    expect(await keys('mpu/aborted')).toEqual([]);
  });

  it('s3 rm, rm --recursive, rb', async () => {
    await aws('s3', 'rm', s3u('small.bin'));
    expect(await keys('small')).toEqual([]);
    await aws('s3', 'rm', '--recursive', s3u());
    expect(await keys('')).toEqual([]);
    await aws('s3', 'rb', s3u());
    expect(await aws('s3', 'ls')).not.toContain(bucket);
  });
});
