/**
 * THE root key of `erne serve`: ERNE_ROOT_ACCESS_KEY/SECRET name it; without them it is
 * generated once and kept in <data-dir>/root-credentials.json. A root key that is no longer
 * the one (the generated one once the environment names another, or one an earlier
 * environment named) is deleted, so it stops working; `erne keys list` says which key is the
 * root and where it comes from; root keys an operator made with `keys create --root` stay.
 * Child processes of the built command.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ListBucketsCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { runErne, STACK_FRAME } from '../helpers/erne-run.js';
import { s3Client, tempDir, type Creds } from '../helpers/gateway.js';

const K2: Creds = { accessKeyId: 'ERNEROOTTWO000000002', secretAccessKey: 'root-two-secret-0000000000000000000002' };
const K3: Creds = { accessKeyId: 'ERNEROOTTHREE0000003', secretAccessKey: 'root-three-secret-00000000000000000003' };
const OPS: Creds = { accessKeyId: 'ERNEOPSROOT000000001', secretAccessKey: 'ops-root-secret-0000000000000000000001' };

const unset = { ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: '' };
const named = (c: Creds) => ({ ERNE_ROOT_ACCESS_KEY: c.accessKeyId, ERNE_ROOT_SECRET_KEY: c.secretAccessKey });

function generated(dataDir: string): Creds {
  return JSON.parse(readFileSync(join(dataDir, 'root-credentials.json'), 'utf8')) as Creds;
}

async function listsBuckets(g: ChildGateway, c: Creds): Promise<string> {
  try {
    const r = await s3Client(g, c).send(new ListBucketsCommand({}));
    return `ok: ${(r.Buckets ?? []).map((b) => b.Name).join(',')}`;
  } catch (err) {
    return (err as Error).name;
  }
}

interface KeyRow {
  accessKeyId: string;
  root: boolean;
  rootSource?: string;
}

async function keys(dataDir: string): Promise<KeyRow[]> {
  const r = await runErne(['keys', 'list', '--data-dir', dataDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as KeyRow[]).sort((a, b) => a.accessKeyId.localeCompare(b.accessKeyId));
}

describe('the root key of erne serve', () => {
  it('the environment names THE root key: the generated one, and one an earlier environment named, are retired', async () => {
    const dataDir = tempDir('erne-root-');

    // 1. first start without the environment: a generated key, kept in the data dir
    let g = await startChildGateway({ dataDir, env: unset });
    const k1 = generated(dataDir);
    expect(g.output()).toContain(k1.accessKeyId);
    expect(await s3Client(g, k1).send(new CreateBucketCommand({ Bucket: 'photos' })).then(() => 'made')).toBe('made');
    const ops = await runErne(['keys', 'create', '--root', '--name', 'ops', '--access-key', OPS.accessKeyId, '--secret-key', OPS.secretAccessKey, '--data-dir', dataDir]);
    expect(ops.code, ops.stderr).toBe(0);
    const text = await runErne(['keys', 'list', '--data-dir', dataDir]);
    expect(text.stdout).toMatch(new RegExp(`^${k1.accessKeyId}\\s+root\\s+\\S+\\s+root \\(erne serve's root key, generated and kept in ${join(dataDir, 'root-credentials.json')}\\)$`, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^${OPS.accessKeyId}\\s+root\\s+\\S+\\s+ops$`, 'm'));
    await g.stop({ keepData: true });

    // 2. the environment names another key: it is THE root key, the generated one stops working
    g = await startChildGateway({ dataDir, env: named(K2) });
    try {
      expect(g.output()).toContain(K2.accessKeyId);
      // the retired key is named once, in the log, and its secret nowhere
      expect(g.output()).toMatch(new RegExp(`root key ${k1.accessKeyId} \\(generated, was in \\S+root-credentials.json\\) is retired: ERNE_ROOT_ACCESS_KEY names the root key now`));
      expect(g.output()).not.toContain(k1.secretAccessKey);
      expect(await listsBuckets(g, K2)).toBe('ok: photos');
      expect(await listsBuckets(g, k1)).toBe('InvalidAccessKeyId');
      expect(await listsBuckets(g, OPS)).toBe('ok: photos');
      expect(existsSync(join(dataDir, 'root-credentials.json'))).toBe(false);
      const rows = await keys(dataDir);
      expect(rows.map((k) => k.accessKeyId)).toEqual([OPS.accessKeyId, K2.accessKeyId]);
      expect(rows[0]).toMatchObject({ root: true });
      expect(rows[0]!.rootSource).toBeUndefined();
      expect(rows[1]).toMatchObject({ root: true, rootSource: 'env' });
      const list = await runErne(['keys', 'list', '--data-dir', dataDir]);
      expect(list.stdout).toMatch(new RegExp(`^${K2.accessKeyId}\\s+root\\s+\\S+\\s+root \\(erne serve's root key, from ERNE_ROOT_ACCESS_KEY\\)$`, 'm'));
    } finally {
      await g.stop({ keepData: true });
    }

    // 3. another key in the environment: the earlier one is retired as well
    g = await startChildGateway({ dataDir, env: named(K3) });
    try {
      expect(await listsBuckets(g, K3)).toBe('ok: photos');
      expect(await listsBuckets(g, K2)).toBe('InvalidAccessKeyId');
      expect((await keys(dataDir)).map((k) => k.accessKeyId)).toEqual([OPS.accessKeyId, K3.accessKeyId]);
    } finally {
      await g.stop({ keepData: true });
    }

    // 4. the environment unset again: a generated key is THE root key, the named one is retired
    g = await startChildGateway({ dataDir, env: unset });
    try {
      const k4 = generated(dataDir);
      expect(k4.accessKeyId).not.toBe(k1.accessKeyId);
      expect(g.output()).toContain(k4.accessKeyId);
      expect(await listsBuckets(g, k4)).toBe('ok: photos');
      expect(await listsBuckets(g, K3)).toBe('InvalidAccessKeyId');
      const rows = await keys(dataDir);
      expect(rows).toHaveLength(2);
      expect(rows.find((k) => k.accessKeyId === OPS.accessKeyId)).toMatchObject({ root: true });
      expect(rows.find((k) => k.accessKeyId === OPS.accessKeyId)!.rootSource).toBeUndefined();
      expect(rows.find((k) => k.accessKeyId === k4.accessKeyId)).toMatchObject({ root: true, rootSource: 'generated' });
    } finally {
      await g.stop();
    }
  });

  it.each([
    [{ ERNE_ROOT_ACCESS_KEY: K2.accessKeyId, ERNE_ROOT_SECRET_KEY: '' }, 'ERNE_ROOT_ACCESS_KEY is set but ERNE_ROOT_SECRET_KEY is not'],
    [{ ERNE_ROOT_ACCESS_KEY: '', ERNE_ROOT_SECRET_KEY: K2.secretAccessKey }, 'ERNE_ROOT_SECRET_KEY is set but ERNE_ROOT_ACCESS_KEY is not'],
  ])('only one of the pair set (%j): exit 2, one line, nothing created', async (env, message) => {
    const parent = tempDir('erne-root-');
    const dataDir = join(parent, 'data');
    const r = await runErne(['serve', '--port', '0', '--data-dir', dataDir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).toBe(`erne: ${message}: set both to name the root key, or neither to use the generated one\n`);
    expect(readdirSync(parent)).toEqual([]);
  });
});
