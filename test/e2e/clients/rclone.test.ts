/**
 * rclone (Debian package, /usr/bin/rclone) doing its normal job against a real gateway. The
 * remote `erne:` is configured only through RCLONE_CONFIG_ERNE_* environment variables
 * (provider Other, path style); AWS_CA_BUNDLE is removed from its environment because it
 * makes rclone fail over plain HTTP. Upload cutoff and chunk size are lowered so files over
 * 8 MiB go up as multipart uploads. The last steps turn versioning on and read an old
 * version through --s3-versions, then purge the (versioned) bucket.
 *
 * The must-show: `rclone sync` of a tree of 300 small files in nested directories
 * plus a 100 MB file, `rclone check` reporting 0 differences, then local edits/deletions,
 * sync again, check again.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutBucketVersioningCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { uniqueBucket } from '../../helpers/gateway.js';
import { rcloneEnv } from './configs.js';
import { describeNeeds } from '../../helpers/requires.js';
import { useClientSuite } from './suite.js';
import { fileMd5, makeTree, randomFile, run, smallFile, sortedEntries, treeMd5, type RunResult } from './support.js';

const MiB = 1024 * 1024;
const bucket = uniqueBucket('rclone');
const remote = (p = '') => `erne:${bucket}${p ? '/' + p : ''}`;
/** multipart above 8 MiB, in 8 MiB parts */
const MULTIPART = ['--s3-upload-cutoff', '8M', '--s3-chunk-size', '8M'];

/** the environment that configures the remote `erne:` (set up once the proxy runs) */
let env: NodeJS.ProcessEnv;
const suite = useClientSuite({
  name: 'rclone',
  needs: 'rclone',
  setup: async ({ bin, tr, dir }) => {
    env = rcloneEnv(dir, tr.url);
    console.log(`rclone used: ${bin}: ${(await run(bin, ['version'], { env })).stdout.split('\n')[0]}`);
    await rclone('mkdir', remote());
  },
});

/** rclone with the env-configured remote (-vv --dump headers when ERNE_CLIENTS_DEBUG=1). */
function rc(...args: string[]): Promise<RunResult> {
  const debug = process.env.ERNE_CLIENTS_DEBUG === '1' ? ['-vv', '--dump', 'headers'] : [];
  // no retries: a request that fails once must show, not be papered over by a second attempt
  return run(suite.bin, [...debug, '--retries', '1', '--low-level-retries', '1', ...args], { env, cwd: suite.dir, timeout: 180_000 });
}
async function rclone(...args: string[]): Promise<string> {
  const r = await rc(...args);
  if (r.code !== 0) throw new Error(`${suite.bin} ${args.join(' ')} exited ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-6000)}`);
  return r.stdout;
}
const lsf = async (p: string) => (await rclone('lsf', '-R', '--files-only', remote(p))).split('\n').filter(Boolean).sort();

describeNeeds(suite.need)(`rclone (${suite.bin})`, () => {
  it('lsd lists the bucket made by mkdir', async () => {
    expect(await rclone('lsd', 'erne:')).toContain(bucket);
  });

  it('copy a small file, ls/lsl/lsf it, cat it back', async () => {
    smallFile(join(suite.dir, 'one', 'hello.txt'), 'hello from rclone\n');
    await rclone('copy', join(suite.dir, 'one'), remote('small'));
    expect(await rclone('ls', remote('small'))).toMatch(/^\s*18 hello\.txt$/m);
    expect(await rclone('lsf', remote('small'))).toBe('hello.txt\n');
    expect(await rclone('lsl', remote('small'))).toContain('hello.txt');
    expect(await rclone('cat', remote('small/hello.txt'))).toBe('hello from rclone\n');
  });

  it('copyto a 20 MiB file as a multipart upload, md5sum and download match', async () => {
    const sum = await randomFile(join(suite.dir, 'twenty.bin'), 20 * MiB + 1);
    await rclone('copyto', ...MULTIPART, join(suite.dir, 'twenty.bin'), remote('big/twenty.bin'));
    // rclone records the whole-file MD5 in metadata for multipart uploads and reports it
    expect(await rclone('md5sum', remote('big'))).toContain(`${sum}  twenty.bin`);
    await rclone('copyto', remote('big/twenty.bin'), join(suite.dir, 'twenty.down'));
    expect(await fileMd5(join(suite.dir, 'twenty.down'))).toBe(sum);
  });

  it('server-side copyto and moveto inside the bucket', async () => {
    smallFile(join(suite.dir, 'c', 'src.txt'), 'copy me');
    await rclone('copy', join(suite.dir, 'c'), remote('copy'));
    // -vv shows whether rclone copied server-side ("Copied (server-side copy)")
    const cp = await rc('-v', 'copyto', remote('copy/src.txt'), remote('copy/dst.txt'));
    expect(cp.code, cp.stderr).toBe(0);
    expect(cp.stderr).toContain('server-side copy');
    await rclone('moveto', remote('copy/dst.txt'), remote('copy/moved.txt'));
    expect(await lsf('copy')).toEqual(['moved.txt', 'src.txt']);
    expect(await rclone('cat', remote('copy/moved.txt'))).toBe('copy me');
  });

  it('sync 300 files + a 100 MB file, check: 0 differences; edit locally, sync, check again; sync down matches', async () => {
    const src = join(suite.dir, 'tree');
    makeTree(src, 300);
    await randomFile(join(src, 'big', 'hundred.bin'), 100 * 1000 * 1000);
    await rclone('sync', '--s3-upload-cutoff', '8M', '--s3-chunk-size', '16M', '--transfers', '8', src, remote('tree'));
    const c1 = await rc('check', src, remote('tree'));
    expect(c1.stderr).toContain('0 differences found');
    expect(c1.stderr).toContain('301 matching files');
    expect(c1.code, c1.stderr).toBe(0);

    const files = [...(await treeMd5(src)).keys()].filter((k) => k.startsWith('docs/'));
    for (const k of files.slice(0, 3)) unlinkSync(join(src, k));
    for (const k of files.slice(3, 6)) writeFileSync(join(src, k), `edited ${k}\n`);
    smallFile(join(src, 'added', 'new one.txt'), 'new file\n');
    const before = await rc('check', src, remote('tree'));
    expect(before.code).not.toBe(0); // check does see the local edits
    await rclone('sync', ...MULTIPART, src, remote('tree'));
    const c2 = await rc('check', src, remote('tree'));
    expect(c2.stderr).toContain('0 differences found');
    expect(c2.code, c2.stderr).toBe(0);
    expect(await lsf('tree/docs')).not.toContain(files[0].slice('docs/'.length));

    const down = join(suite.dir, 'tree-down');
    await rclone('sync', remote('tree'), down);
    expect(sortedEntries(await treeMd5(down))).toEqual(sortedEntries(await treeMd5(src)));
    expect(readFileSync(join(down, files[3]), 'utf8')).toBe(`edited ${files[3]}\n`);
  });

  it('--s3-versions lists and reads an old version in a versioned bucket', async () => {
    await suite.s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    smallFile(join(suite.dir, 'v', 'doc.txt'), 'first\n');
    await rclone('copy', join(suite.dir, 'v'), remote('ver'));
    writeFileSync(join(suite.dir, 'v', 'doc.txt'), 'second version\n');
    await rclone('copy', join(suite.dir, 'v'), remote('ver'));
    const names = (await rclone('lsf', '--s3-versions', remote('ver'))).split('\n').filter(Boolean).sort();
    expect(names).toHaveLength(2);
    const old = names.find((n) => /^doc-v\d{4}-\d{2}-\d{2}-\d{6}-\d{3}\.txt$/.test(n));
    expect(old, names.join(', ')).toBeDefined();
    // read through the directory listing (GET ?versionId=); naming the old version as the
    // path itself (`cat remote:ver/doc-v….txt`) prints nothing with rclone 1.60 — see report
    const cat = await rc('cat', '--s3-versions', '--include', old!, remote('ver'));
    expect(cat.stdout, cat.stderr).toBe('first\n');
    expect(await rclone('cat', remote('ver/doc.txt'))).toBe('second version\n');
  });

  it('delete with a filter, then purge the bucket', async () => {
    await rclone('delete', '--include', '*.txt', remote('small'));
    expect(await lsf('small')).toEqual([]);
    await rclone('purge', remote());
    expect(await rclone('lsd', 'erne:')).not.toContain(bucket);
  });
});
