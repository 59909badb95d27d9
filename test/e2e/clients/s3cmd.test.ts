/**
 * s3cmd (Debian package, /usr/bin/s3cmd) doing its normal job against a real gateway, with a
 * config file written to a temp dir: path style (host_bucket without %(bucket)s), plain HTTP,
 * SigV4. Covers mb, put (small, and 12 MiB with 5 MiB multipart chunks), ls/la, info, get,
 * sync up and down (and again with --delete-removed after local changes), cp and mv
 * (server-side), put --acl-public / setacl --acl-private, multipart/abortmp, del,
 * del --recursive, rb.
 */
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateMultipartUploadCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { uniqueBucket } from '../../helpers/gateway.js';
import { writeS3cmdConfig } from './configs.js';
import { describeNeeds } from '../../helpers/requires.js';
import { useClientSuite } from './suite.js';
import { cleanEnv, fileMd5, makeTree, mustRun, randomFile, smallFile, sortedEntries, treeMd5 } from './support.js';

const MiB = 1024 * 1024;
const bucket = uniqueBucket('s3cmd');
const s3u = (k = '') => `s3://${bucket}/${k}`;

/** the config file (in the temp dir) that points s3cmd at the proxy */
let cfg: string;
const suite = useClientSuite({
  name: 's3cmd',
  needs: 's3cmd',
  setup: async ({ bin, tr, dir }) => {
    cfg = join(dir, 's3cfg');
    writeS3cmdConfig(cfg, tr.url, { multipartChunkMiB: 15 });
    console.log(`s3cmd used: ${bin}: ${(await mustRun(bin, ['--version'])).trim()}`);
    await s3cmd('mb', s3u());
  },
});

/** s3cmd with our config (and -d when ERNE_CLIENTS_DEBUG=1); throws with its output on failure. */
const s3cmd = (...args: string[]) =>
  mustRun(suite.bin, ['-c', cfg, ...(process.env.ERNE_CLIENTS_DEBUG === '1' ? ['-d'] : []), ...args], { env: cleanEnv({ HOME: suite.dir }), cwd: suite.dir });

/** Object names under a prefix, from `s3cmd ls --recursive` (last column: s3://bucket/key). */
async function keys(prefix: string): Promise<string[]> {
  const out = await s3cmd('ls', '--recursive', s3u(prefix));
  return out
    .split('\n')
    .map((l) => l.match(/s3:\/\/[^/]+\/(.*)$/)?.[1])
    .filter((k): k is string => k !== undefined && k !== '')
    .sort();
}

/** The object's ETag as the gateway reports it (a multipart upload's ends in -<parts>). */
async function etag(key: string): Promise<string | undefined> {
  return (await suite.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
}

describeNeeds(suite.need)(`s3cmd (${suite.bin})`, () => {
  it('ls shows the bucket made by mb', async () => {
    expect(await s3cmd('ls')).toContain(s3u().slice(0, -1));
  });

  it('put and get a small file; info shows its size and MD5', async () => {
    const sum = await randomFile(join(suite.dir, 'small.bin'), 2345);
    await s3cmd('put', join(suite.dir, 'small.bin'), s3u('small.bin'));
    const info = await s3cmd('info', s3u('small.bin'));
    expect(info).toMatch(/File size:\s+2345/);
    expect(info).toContain(sum);
    await s3cmd('get', s3u('small.bin'), join(suite.dir, 'small.down'));
    expect(await fileMd5(join(suite.dir, 'small.down'))).toBe(sum);
  });

  it('put of a 12 MiB file with --multipart-chunk-size-mb=5 (3 parts), get back intact', async () => {
    const sum = await randomFile(join(suite.dir, 'twelve.bin'), 12 * MiB + 9);
    await s3cmd('put', '--multipart-chunk-size-mb=5', join(suite.dir, 'twelve.bin'), s3u('big/twelve.bin'));
    expect(await etag('big/twelve.bin')).toMatch(/^"[0-9a-f]{32}-3"$/);
    await s3cmd('get', s3u('big/twelve.bin'), join(suite.dir, 'twelve.down'));
    expect(await fileMd5(join(suite.dir, 'twelve.down'))).toBe(sum);
    // s3cmd keeps the whole-file md5 in its attrs header and shows it as the MD5
    expect(await s3cmd('info', s3u('big/twelve.bin'))).toContain(sum);
  });

  it('put of a 16 MiB file with the default 15 MiB chunks (multipart)', async () => {
    const sum = await randomFile(join(suite.dir, 'sixteen.bin'), 16 * MiB);
    await s3cmd('put', join(suite.dir, 'sixteen.bin'), s3u('big/sixteen.bin'));
    expect(await etag('big/sixteen.bin')).toMatch(/^"[0-9a-f]{32}-2"$/);
    await s3cmd('get', s3u('big/sixteen.bin'), join(suite.dir, 'sixteen.down'));
    expect(await fileMd5(join(suite.dir, 'sixteen.down'))).toBe(sum);
  });

  it('ls of a prefix shows DIR entries; la lists all buckets', async () => {
    smallFile(join(suite.dir, 'lsd', 'a.txt'), 'a');
    smallFile(join(suite.dir, 'lsd', 'sub', 'b.txt'), 'bb');
    await s3cmd('put', '--recursive', join(suite.dir, 'lsd') + '/', s3u('ls/'));
    const top = await s3cmd('ls', s3u('ls/'));
    expect(top).toMatch(/DIR\s+s3:\/\/[^/]+\/ls\/sub\//);
    expect(top).toMatch(/\s1\s+s3:\/\/[^/]+\/ls\/a\.txt/);
    expect(await keys('ls/')).toEqual(['ls/a.txt', 'ls/sub/b.txt']);
    expect(await s3cmd('la')).toMatch(new RegExp(`DIR\\s+${s3u('ls/')}`));
  });

  it('cp and mv (server-side)', async () => {
    const sum = await randomFile(join(suite.dir, 'c.bin'), 4000);
    await s3cmd('put', join(suite.dir, 'c.bin'), s3u('copy/src.bin'));
    await s3cmd('cp', s3u('copy/src.bin'), s3u('copy/dst.bin'));
    await s3cmd('mv', s3u('copy/dst.bin'), s3u('copy/moved.bin'));
    expect(await keys('copy/')).toEqual(['copy/moved.bin', 'copy/src.bin']);
    await s3cmd('get', s3u('copy/moved.bin'), join(suite.dir, 'moved.down'));
    expect(await fileMd5(join(suite.dir, 'moved.down'))).toBe(sum);
  });

  it('sync a tree up and down, then --delete-removed after local changes', async () => {
    const up = join(suite.dir, 'sync-up');
    const tree = makeTree(up, 60);
    tree.set('big/six.bin', await randomFile(join(up, 'big', 'six.bin'), 6 * MiB));
    await s3cmd('sync', '--multipart-chunk-size-mb=5', up + '/', s3u('sync/'));
    expect(await keys('sync/')).toEqual([...tree.keys()].map((k) => `sync/${k}`).sort());
    const down = join(suite.dir, 'sync-down');
    await s3cmd('sync', s3u('sync/'), down + '/');
    expect(sortedEntries(await treeMd5(down))).toEqual(sortedEntries(tree));

    const [gone, changed] = [...tree.keys()].filter((k) => k.startsWith('docs/'));
    unlinkSync(join(up, gone));
    writeFileSync(join(up, changed), 'changed by the test');
    smallFile(join(up, 'new', 'n.txt'), 'new');
    await s3cmd('sync', '--delete-removed', up + '/', s3u('sync/'));
    await s3cmd('sync', '--delete-removed', s3u('sync/'), down + '/');
    expect(sortedEntries(await treeMd5(down))).toEqual(sortedEntries(await treeMd5(up)));
    expect(existsSync(join(down, gone))).toBe(false);
    expect(readFileSync(join(down, changed), 'utf8')).toBe('changed by the test');
  });

  it('put --acl-public makes an object anonymously readable; setacl --acl-private takes it back', async () => {
    await randomFile(join(suite.dir, 'pub.bin'), 500);
    await s3cmd('put', '--acl-public', join(suite.dir, 'pub.bin'), s3u('pub/pub.bin'));
    const url = `${suite.gw.url}/${bucket}/pub/pub.bin`;
    expect((await fetch(url)).status).toBe(200);
    expect(await s3cmd('info', s3u('pub/pub.bin'))).toMatch(/ACL:\s+\*anon\*: READ/);
    await s3cmd('setacl', '--acl-private', s3u('pub/pub.bin'));
    expect((await fetch(url)).status).toBe(403);
  });

  it('multipart lists an unfinished upload; abortmp aborts it', async () => {
    const { UploadId } = await suite.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp/unfinished.bin' }));
    expect(await s3cmd('multipart', s3u())).toContain(UploadId!);
    await s3cmd('abortmp', s3u('mp/unfinished.bin'), UploadId!);
    expect(await s3cmd('multipart', s3u())).not.toContain(UploadId!);
  });

  it('del, del --recursive --force, rb', async () => {
    await s3cmd('del', s3u('small.bin'));
    expect(await keys('small')).toEqual([]);
    await s3cmd('del', '--recursive', '--force', s3u());
    expect(await keys('')).toEqual([]);
    await s3cmd('rb', s3u());
    expect(await s3cmd('ls')).not.toContain(s3u().slice(0, -1));
  });
});
