/**
 * `erne storage create -a APP` against Erne's own Machines API (machines/, Fly's shape) with the
 * process driver: real machine processes running an app that uses the S3 SDK with no settings.
 * The variables reach every machine as a new version, rolled one machine at a time; the secret
 * is not printed; an app that already sets any of the names is refused with nothing changed.
 * Needs `npm run build` (the CLI and the machine supervisor run from dist/).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessDriver } from '../../machines/drivers/process/index.js';
import { runProbe } from '../../machines/scheduler/probe.js';
import { startMachinesService, type MachinesService } from '../../machines/service.js';
import { REPO_ROOT, startChildGateway, type ChildGateway } from '../helpers/child.js';
import { s3Client, tempDir } from '../helpers/gateway.js';
import { asRoot, erneAt } from '../helpers/storage-app.js';
import { waitFor } from '../helpers/wait.js';

const APP_JS = join(REPO_ROOT, 'test', 'cli', 'fixtures', 'machine-app.mjs');
const TOKEN = 'machines-test-token';

interface Machine {
  id: string;
  state: string;
  instance_id: string;
  config: { env?: Record<string, string> };
}
interface MachineEvent {
  type: string;
  status: string;
  timestamp: number;
}

let g: ChildGateway;
let machines: MachinesService;
let driver: ProcessDriver;
let dir: string;
let outDir: string;

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${machines.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** an app of `count` running machines, each running machine-app.mjs with env `env` */
async function makeApp(name: string, count: number, env: Record<string, string> = {}): Promise<Machine[]> {
  await api('POST', '/v1/apps', { app_name: name, org_slug: 'test' });
  const made: Machine[] = [];
  for (let i = 0; i < count; i++) {
    made.push(await api<Machine>('POST', `/v1/apps/${name}/machines`, { region: 'iad', config: { init: { exec: [process.execPath, '--no-warnings', APP_JS] }, env: { OUT_DIR: outDir, ...env }, restart: { policy: 'no' } } }));
  }
  for (const m of made) await api('GET', `/v1/apps/${name}/machines/${m.id}/wait?state=started&timeout=30`);
  return made;
}

const machinesEnv = () => ({ ...asRoot(), ERNE_MACHINES_TOKEN: TOKEN });

beforeAll(async () => {
  g = await startChildGateway();
  dir = tempDir('erne-storage-app-');
  outDir = join(dir, 'out');
  mkdirSync(outDir);
  driver = new ProcessDriver({ root: join(dir, 'driver'), network: 'loopback' });
  machines = await startMachinesService({ dataDir: join(dir, 'machines'), host: '127.0.0.1', port: 0, token: TOKEN, driver, probe: runProbe, defaultRegion: 'iad', tickMs: 100 });
}, 60_000);

afterAll(async () => {
  await machines?.close();
  await driver?.destroyAll();
  await g?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('erne storage create -a APP', () => {
  it('sets the variables on every machine as a new version, one machine at a time; the app uses the bucket; the secret is not printed', async () => {
    const before = await makeApp('web', 2);
    const r = await erneAt(g.url, ['storage', 'create', '-a', 'web', '-y', '--machines-endpoint', machines.url], machinesEnv());
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split('=')[0])).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'BUCKET_NAME']);
    const bucket = lines.find((l) => l.startsWith('BUCKET_NAME='))!.slice('BUCKET_NAME='.length);
    expect(r.stderr).toMatch(/set on 2 machine\(s\) of web/);

    const after = await api<Machine[]>('GET', '/v1/apps/web/machines');
    const secret = after[0]!.config.env!.AWS_SECRET_ACCESS_KEY!;
    expect(secret).toMatch(/^\S{40}$/);
    expect(r.stdout + r.stderr).not.toContain(secret);
    for (const m of after) {
      const was = before.find((b) => b.id === m.id)!;
      expect(m.instance_id).not.toBe(was.instance_id);
      expect(m.config.env).toMatchObject({ OUT_DIR: outDir, AWS_REGION: 'auto', AWS_ENDPOINT_URL_S3: g.url, BUCKET_NAME: bucket, AWS_SECRET_ACCESS_KEY: secret });
    }
    // each new version put and got its own object with the injected key
    const results = await waitFor('both new versions to use the bucket', () => {
      const files = after.map((m) => join(outDir, `${m.id}-${m.instance_id}.json`));
      return files.every((f) => existsSync(f)) ? files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as { read?: string; error?: string; machine: string }) : undefined;
    }, 30_000);
    for (const [i, res] of results!.entries()) expect(res, res.error).toMatchObject({ read: `written by ${after[i]!.id}-${after[i]!.instance_id}` });
    const root = s3Client(g);
    const seen = await root.send(new GetObjectCommand({ Bucket: bucket, Key: `machines/${after[0]!.id}-${after[0]!.instance_id}` }));
    expect(await seen.Body!.transformToString()).toBe(`written by ${after[0]!.id}-${after[0]!.instance_id}`);
    root.destroy();
    // the first machine's new version was started before the second machine was touched
    const [first, second] = after;
    const ev = (m: Machine) => api<MachineEvent[]>('GET', `/v1/apps/web/machines/${m.id}/events`);
    const firstEvents = await ev(first!);
    const updatedFirst = firstEvents.find((e) => e.type === 'update')!;
    const startedFirst = firstEvents.filter((e) => e.type === 'start' && e.status === 'started' && e.timestamp >= updatedFirst.timestamp).at(-1)!;
    const updatedSecond = (await ev(second!)).find((e) => e.type === 'update')!;
    expect(startedFirst.timestamp).toBeLessThanOrEqual(updatedSecond.timestamp);
  });

  it('an app that already sets one of the names is refused, and nothing is made or changed', async () => {
    const before = await makeApp('taken', 2, { BUCKET_NAME: 'mine-already' });
    const buckets = (await erneAt(g.url, ['storage', 'list', '--json'])).stdout;
    const keys = (await erneAt(g.url, ['keys', 'list', '--json'])).stdout;
    const r = await erneAt(g.url, ['storage', 'create', '-a', 'taken', '-y', '--machines-endpoint', machines.url], machinesEnv());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('erne: app taken already sets BUCKET_NAME on its machines: nothing was changed (remove them first, or use another app)\n');
    expect(r.stdout).toBe('');
    expect((await erneAt(g.url, ['storage', 'list', '--json'])).stdout).toBe(buckets);
    expect((await erneAt(g.url, ['keys', 'list', '--json'])).stdout).toBe(keys);
    const after = await api<Machine[]>('GET', '/v1/apps/taken/machines');
    expect(after.map((m) => m.instance_id).sort()).toEqual(before.map((m) => m.instance_id).sort());
  });

  it('without the Machines API settings, or for an app with no machines: one line, nothing made', async () => {
    const noEndpoint = await erneAt(g.url, ['storage', 'create', '-a', 'web', '-y'], { ...machinesEnv(), ERNE_MACHINES_ENDPOINT: '' });
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toBe('erne: --app needs the Machines API: --machines-endpoint URL (or ERNE_MACHINES_ENDPOINT)\n');
    await api('POST', '/v1/apps', { app_name: 'empty', org_slug: 'test' });
    const buckets = (await erneAt(g.url, ['storage', 'list', '--json'])).stdout;
    const none = await erneAt(g.url, ['storage', 'create', '-a', 'empty', '-y', '--machines-endpoint', machines.url], machinesEnv());
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('erne: app empty has no machines to give the variables to\n');
    const badToken = await erneAt(g.url, ['storage', 'create', '-a', 'web', '-y', '--machines-endpoint', machines.url], { ...machinesEnv(), ERNE_MACHINES_TOKEN: 'wrong' });
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/^erne: Machines API: listing the machines of web answered 401: /);
    expect((await erneAt(g.url, ['storage', 'list', '--json'])).stdout).toBe(buckets);
  });
});
