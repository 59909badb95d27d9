/**
 * `erne keys …` on a path that holds no Erne data says so (one line, exit 1) instead of making
 * an empty region there, and a role on a bucket that does not exist is given with a warning.
 * Child processes of the built command.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, ListBucketsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { runErne, STACK_FRAME } from '../helpers/erne-run.js';
import { ROOT, s3Client, tempDir } from '../helpers/gateway.js';

describe('erne keys on a directory without Erne data', () => {
  let parent: string;
  beforeAll(() => {
    parent = tempDir('erne-nodata-');
    mkdirSync(join(parent, 'empty'));
  });

  it.each([
    ['keys list', ['keys', 'list']],
    ['keys create', ['keys', 'create']],
    ['keys delete', ['keys', 'delete', 'EKNOSUCHKEY000000000']],
  ])('%s on an empty and on a missing directory: one line, exit 1, nothing made', async (_name, args) => {
    for (const dir of [join(parent, 'empty'), join(parent, 'missing')]) {
      const r = await runErne([...args, '--data-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(r.stderr).toBe(`erne: no Erne data in --data-dir ${dir}: check the path, or start 'erne serve --data-dir ${dir}' first\n`);
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(parent)).toEqual(['empty']);
    expect(readdirSync(join(parent, 'empty'))).toEqual([]);
  });

  it('a --metadata-dir without metadata is named as such', async () => {
    const dir = join(parent, 'empty');
    const r = await runErne(['keys', 'list', '--data-dir', dir, '--metadata-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`erne: no Erne metadata in --metadata-dir ${dir}: check the path, or start 'erne serve' with it first\n`);
    expect(existsSync(join(dir, 'data.mdb'))).toBe(false);
  });
});

describe('erne keys create --bucket', () => {
  let g: ChildGateway;
  beforeAll(async () => {
    g = await startChildGateway();
    await s3Client(g, ROOT).send(new CreateBucketCommand({ Bucket: 'photos' }));
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('naming a bucket that does not exist: one warning line, and the key is made', async () => {
    const r = await runErne(['keys', 'create', '--bucket', 'photos,fotos', '--role', 'ReadOnly', '--json', '--data-dir', g.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("erne: warning: no bucket named fotos (yet); the key's role there applies once a bucket of that name exists\n");
    const key = JSON.parse(r.stdout) as { accessKeyId: string; secretAccessKey: string; grants: Record<string, string> };
    expect(key.grants).toEqual({ photos: 'ReadOnly', fotos: 'ReadOnly' });
    const listed = await s3Client(g, key).send(new ListBucketsCommand({}));
    expect((listed.Buckets ?? []).map((b) => b.Name)).toEqual(['photos']);
  });

  it('naming buckets that exist: no warning', async () => {
    const r = await runErne(['keys', 'create', '--bucket', 'photos', '--role', 'Editor', '--data-dir', g.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Role:\s+Editor on photos/);
  });
});
