/**
 * The `aws` CLI (Debian's awscli v2 at /usr/bin/aws when installed) against a real gateway:
 * s3 mb/cp/ls/rm, s3api put-object/get-object/head-object/list-objects-v2, and errors.
 * Files stay single-PUT: small ones under the 8 MiB default multipart threshold, and one
 * 12 MiB file with a config file raising the threshold (multipart is not in issue 2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_BIN, awsCli, uniqueBucket, useGateway } from '../helpers/gateway.js';

// no bucket from the fixture: `aws s3 mb` makes it, the first thing under test
const erne = useGateway();
let dir: string;
const bucket = uniqueBucket('cli');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

const aws = async (...args: string[]) => {
  const r = await awsCli(erne.gw, args);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
};

beforeAll(async () => {
  const v = await awsCli({ url: 'http://127.0.0.1:1' }, ['--version']);
  console.log(`aws CLI used: ${AWS_BIN}: ${(v.stdout || v.stderr).trim()}`);
  dir = mkdtempSync(join(tmpdir(), 'erne-cli-'));
  await aws('s3', 'mb', `s3://${bucket}`);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('aws s3', () => {
  it('s3 ls lists the bucket made by s3 mb', async () => {
    const out = await aws('s3', 'ls');
    expect(out).toContain(bucket);
  });

  it('s3 cp up and down (small and 5 MiB), bytes and ETag intact', async () => {
    for (const [name, size] of [['small.txt', 1234], ['five.bin', 5 * 1024 * 1024 + 11]] as const) {
      const data = randomBytes(size);
      writeFileSync(join(dir, name), data);
      await aws('s3', 'cp', join(dir, name), `s3://${bucket}/cp/${name}`);
      const head = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `cp/${name}` }));
      expect(head.ContentLength).toBe(size);
      expect(head.ETag).toBe(`"${md5(data)}"`);
      expect(head.ContentEncoding).toBeUndefined();
      await aws('s3', 'cp', `s3://${bucket}/cp/${name}`, join(dir, `${name}.down`));
      expect(md5(readFileSync(join(dir, `${name}.down`)))).toBe(md5(data));
    }
  });

  it('s3 cp of 12 MiB with multipart_threshold raised to 64MB (single PUT)', async () => {
    const cfg = join(dir, 'config');
    writeFileSync(cfg, '[default]\ns3 =\n  multipart_threshold = 64MB\n');
    const data = randomBytes(12 * 1024 * 1024);
    writeFileSync(join(dir, 'twelve.bin'), data);
    const up = await awsCli(erne.gw, ['s3', 'cp', join(dir, 'twelve.bin'), `s3://${bucket}/big/twelve.bin`], undefined, { configFile: cfg });
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const head = await erne.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/twelve.bin' }));
    expect(head.ETag).toBe(`"${md5(data)}"`); // a multipart ETag would end in -N
    const down = await awsCli(erne.gw, ['s3', 'cp', `s3://${bucket}/big/twelve.bin`, join(dir, 'twelve.down')], undefined, { configFile: cfg });
    expect(down.code).toBe(0);
    expect(md5(readFileSync(join(dir, 'twelve.down')))).toBe(md5(data));
  });

  it('s3 cp --recursive, s3 ls with prefixes, s3 rm and rm --recursive', async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, 'sub dir'), { recursive: true });
    writeFileSync(join(src, 'a.txt'), 'a');
    writeFileSync(join(src, 'sub dir', 'b.txt'), 'bb');
    writeFileSync(join(src, 'sub dir', 'ünï.txt'), 'ccc');
    await aws('s3', 'cp', '--recursive', src, `s3://${bucket}/tree/`);

    const top = await aws('s3', 'ls', `s3://${bucket}/tree/`);
    expect(top).toMatch(/PRE sub dir\//);
    expect(top).toMatch(/\s1 a\.txt/);
    const rec = await aws('s3', 'ls', '--recursive', `s3://${bucket}/tree/`);
    expect(rec).toContain('tree/sub dir/b.txt');
    expect(rec).toContain('tree/sub dir/ünï.txt');

    await aws('s3', 'rm', `s3://${bucket}/tree/a.txt`);
    let keys = (await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tree/' }))).Contents?.map((c) => c.Key);
    expect(keys).toEqual(['tree/sub dir/b.txt', 'tree/sub dir/ünï.txt']);

    await aws('s3', 'rm', '--recursive', `s3://${bucket}/tree/`);
    keys = (await erne.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'tree/' }))).Contents?.map((c) => c.Key) ?? [];
    expect(keys).toEqual([]);
  });
});

describe('aws s3api', () => {
  it('put-object / head-object / get-object with metadata and content type', async () => {
    const data = Buffer.from('s3api body\n');
    writeFileSync(join(dir, 'api.txt'), data);
    const put = JSON.parse(
      await aws('s3api', 'put-object', '--bucket', bucket, '--key', 'api/obj.txt', '--body', join(dir, 'api.txt'), '--content-type', 'text/plain', '--metadata', 'color=blue,size=small'),
    ) as { ETag: string };
    expect(put.ETag).toBe(`"${md5(data)}"`);
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', bucket, '--key', 'api/obj.txt')) as {
      ContentLength: number;
      ContentType: string;
      Metadata: Record<string, string>;
      ETag: string;
    };
    expect(head.ContentLength).toBe(data.length);
    expect(head.ContentType).toBe('text/plain');
    expect(head.Metadata).toEqual({ color: 'blue', size: 'small' });
    expect(head.ETag).toBe(put.ETag);
    const out = join(dir, 'api.down');
    const get = JSON.parse(await aws('s3api', 'get-object', '--bucket', bucket, '--key', 'api/obj.txt', '--range', 'bytes=0-4', out)) as { ContentRange: string };
    expect(get.ContentRange).toBe(`bytes 0-4/${data.length}`);
    expect(readFileSync(out, 'utf8')).toBe('s3api');
  });

  it('list-objects-v2 with prefix and delimiter', async () => {
    for (const k of ['lv/a/1', 'lv/a/2', 'lv/b', 'lv/c/1']) await aws('s3api', 'put-object', '--bucket', bucket, '--key', k);
    const r = JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'lv/', '--delimiter', '/')) as {
      Contents?: { Key: string }[];
      CommonPrefixes?: { Prefix: string }[];
    };
    expect(r.Contents?.map((c) => c.Key)).toEqual(['lv/b']);
    expect(r.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['lv/a/', 'lv/c/']);
    // the CLI paginates itself with continuation tokens when asked for small pages
    const all = JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', bucket, '--prefix', 'lv/', '--page-size', '1')) as { Contents: { Key: string }[] };
    expect(all.Contents.map((c) => c.Key)).toEqual(['lv/a/1', 'lv/a/2', 'lv/b', 'lv/c/1']);
  });

  it('errors: missing key, missing bucket, wrong secret', async () => {
    const nk = await awsCli(erne.gw, ['s3api', 'get-object', '--bucket', bucket, '--key', 'nope', join(dir, 'x')]);
    expect(nk.code).not.toBe(0);
    expect(nk.stderr).toContain('NoSuchKey');
    const nb = await awsCli(erne.gw, ['s3', 'ls', `s3://${uniqueBucket('missing')}/`]);
    expect(nb.code).not.toBe(0);
    expect(nb.stderr).toContain('NoSuchBucket');
    const bad = await awsCli(erne.gw, ['s3', 'ls', `s3://${bucket}/`], { accessKeyId: erne.gw.root.accessKeyId, secretAccessKey: 'wrong' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('SignatureDoesNotMatch');
  });
});
