/**
 * The scheduler with real gateways: `erne machines scale --count 2 --region iad,fra` makes
 * four `erne serve` machines under the process driver, each joined to its region (the cluster
 * file, the region's own redis-server and shared metadata directory); an object written
 * through iad is read through fra. The scheduler keeps two gateways per region through
 * repeated SIGKILLs; a gateway that hangs (SIGSTOP: running, but failing its health check past
 * the grace period) is replaced by a new instance; a restart of the scheduler adopts the
 * running gateways instead of starting duplicates; scaling down destroys the surplus.
 * Needs `npm run build` and redis-server.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Machine } from '../../machines/api/types.js';
import { erneCli, freePort, pidAlive as alive } from '../helpers/child.js';
import { CLUSTER_SECRET } from '../helpers/cluster.js';
import { ROOT, tempDir } from '../helpers/gateway.js';
import { MACHINES_TOKEN, startTestMachines, type TestMachines } from '../helpers/machines.js';
import { redisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const REGIONS = ['iad', 'fra'];
let t: TestMachines;
let confDir: string;
let clusterFile: string;
const redis = new Map<string, TestRedis>();

const cliEnv = () => ({
  ERNE_MACHINES_TOKEN: MACHINES_TOKEN,
  ERNE_MACHINES_ENDPOINT: t.url,
  ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId,
  ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey,
  ERNE_CLUSTER_SECRET: CLUSTER_SECRET,
});

const live = async (): Promise<Machine[]> => (await t.client.list('erne')).filter((m) => m.state !== 'destroyed');
const portOf = (m: Machine) => m.config.services![0]!.internal_port;

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/.erne/health`, { signal: AbortSignal.timeout(1500) });
    return res.ok;
  } catch {
    return false;
  }
}

/** every wanted gateway is started, serving, with its checks passing; returns them */
async function allServing(perRegion: Record<string, number>, timeoutMs = 60_000): Promise<Machine[]> {
  return waitFor<Machine[] | undefined>(
    `gateways ${JSON.stringify(perRegion)} started and healthy`,
    async () => {
      const ms = await live();
      for (const [r, n] of Object.entries(perRegion)) if (ms.filter((m) => m.region === r && m.state === 'started').length !== n) return undefined;
      if (ms.length !== Object.values(perRegion).reduce((a, b) => a + b, 0)) return undefined;
      for (const m of ms) if (!m.checks.some((c) => c.status === 'passing') || !(await healthy(portOf(m)))) return undefined;
      return ms;
    },
    timeoutMs,
    200,
  ) as Promise<Machine[]>;
}

/** gateway processes of this test's cluster on the machine (their command names its cluster file) */
function gatewayPids(): number[] {
  try {
    return execFileSync('pgrep', ['-f', `serve .*--cluster ${clusterFile}`], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function s3(port: number, region: string): S3Client {
  return new S3Client({ endpoint: `http://127.0.0.1:${port}`, region, forcePathStyle: true, credentials: ROOT, maxAttempts: 1 });
}

describeNeeds(redisServer)('scheduler with real gateways', () => {
  beforeAll(async () => {
    confDir = tempDir('erne-machines-cluster-');
    clusterFile = join(confDir, 'cluster.json');
    const ports: Record<string, number[]> = {};
    for (const r of REGIONS) {
      redis.set(r, await startRedis());
      ports[r] = [await freePort(), await freePort()];
    }
    writeFileSync(clusterFile, JSON.stringify({ control: 'iad', regions: REGIONS.map((r) => ({ name: r, internal: ports[r]!.map((p) => `http://127.0.0.1:${p}`) })) }));
    t = await startTestMachines();
  });

  afterAll(async () => {
    await t?.stop();
    for (const r of redis.values()) await r.stop();
    rmSync(confDir, { recursive: true, force: true });
  });

  it('scale --count 2 --region iad,fra starts two gateways per region, and replication works through them', async () => {
    const redisUrls = REGIONS.map((r) => `${r}=${redis.get(r)!.url}`).join(',');
    const out = await erneCli(['machines', 'scale', '--count', '2', '--region', 'iad,fra', '--cluster', clusterFile, '--redis-url', redisUrls, '--json'], cliEnv());
    const made = JSON.parse(out) as { created: string[]; destroyed: string[] };
    expect(made.created).toHaveLength(4);
    expect(made.destroyed).toEqual([]);
    const ms = await allServing({ iad: 2, fra: 2 });
    // each took a port its region lists in the cluster file
    expect(new Set(ms.map(portOf)).size).toBe(4);
    const iad = ms.find((m) => m.region === 'iad')!;
    const fra = ms.filter((m) => m.region === 'fra');
    const bucket = `machines-${process.pid}`;
    const put = s3(portOf(iad), 'iad');
    await put.send(new CreateBucketCommand({ Bucket: bucket }));
    await put.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: 'from iad' }));
    put.destroy();
    // both fra gateways serve the object written in iad
    for (const m of fra) {
      const get = s3(portOf(m), 'fra');
      const body = await waitFor(`hello.txt through fra gateway ${m.id}`, async () => (await get.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }))).Body!.transformToString());
      expect(body).toBe('from iad');
      get.destroy();
    }
    // scaling again to the same count changes nothing
    expect(JSON.parse(await erneCli(['machines', 'scale', '--count', '2', '--region', 'iad,fra', '--json'], cliEnv()))).toEqual({ created: [], destroyed: [] });
  }, 120_000);

  it('keeps two gateways per region through repeated SIGKILLs of machine processes', async () => {
    for (let round = 0; round < 3; round++) {
      const before = await allServing({ iad: 2, fra: 2 });
      // round 0 and 1: one gateway; round 2: one in each region at once
      const victims = round < 2 ? [before[(round * 3) % before.length]!] : REGIONS.map((r) => before.find((m) => m.region === r)!);
      for (const v of victims) process.kill(v.erne!.pid!, 'SIGKILL');
      const after = await allServing({ iad: 2, fra: 2 });
      for (const v of victims) {
        const m = after.find((x) => x.id === v.id)!;
        expect(m.erne!.pid).not.toBe(v.erne!.pid);
        expect(m.erne!.restarts).toBeGreaterThan(v.erne!.restarts);
        expect(m.events.some((e) => e.type === 'exit' && e.request?.['signal'] === 'SIGKILL')).toBe(true);
      }
      expect(after.map((m) => m.id).sort()).toEqual(before.map((m) => m.id).sort());
      expect(gatewayPids()).toHaveLength(4);
    }
  }, 180_000);

  it('a gateway failing its health check past the grace period is replaced by a new instance', async () => {
    const before = await allServing({ iad: 2, fra: 2 });
    const sick = before.find((m) => m.region === 'fra')!;
    // hung: the process runs, but answers nothing
    process.kill(sick.erne!.pid!, 'SIGSTOP');
    const replaced = await waitFor(
      'the hung gateway replaced',
      async () => {
        const m = await t.client.get('erne', sick.id);
        return m.instance_id !== sick.instance_id && m.state === 'started' && m.erne?.pid !== sick.erne!.pid && (await healthy(portOf(m))) ? m : undefined;
      },
      90_000,
      200,
    );
    expect(replaced!.events.find((e) => e.type === 'replace')?.request?.['reason']).toMatch(/health check health failing/);
    // the hung process was stopped for good
    await waitFor('the hung process gone', () => !alive(sick.erne!.pid!));
    await allServing({ iad: 2, fra: 2 });
    expect(gatewayPids()).toHaveLength(4);
  }, 150_000);

  it('a restarted scheduler adopts the running gateways: same processes, no duplicates', async () => {
    const before = await allServing({ iad: 2, fra: 2 });
    const pids = gatewayPids().sort();
    expect(pids).toHaveLength(4);
    const restartedAt = Date.now();
    await t.restart();
    // the new scheduler has looked at every machine: its checks ran again
    const after = await waitFor(
      'the new scheduler to check every machine',
      async () => {
        const ms = await live();
        return ms.length === 4 && ms.every((m) => m.state === 'started' && m.checks.some((c) => c.status === 'passing' && Date.parse(c.updated_at) >= restartedAt)) ? ms : undefined;
      },
      30_000,
      100,
    ).then((ms) => ms!);
    expect(after.map((m) => [m.id, m.erne!.pid, m.instance_id]).sort()).toEqual(before.map((m) => [m.id, m.erne!.pid, m.instance_id]).sort());
    for (const m of after) expect(m.events.some((e) => e.type === 'adopt' && e.timestamp >= restartedAt)).toBe(true);
    expect(gatewayPids().sort()).toEqual(pids);
    // still kept: a kill after the restart is restarted by the new scheduler
    process.kill(after[0]!.erne!.pid!, 'SIGKILL');
    await waitFor('the killed gateway back', async () => (await t.client.get('erne', after[0]!.id)).erne?.pid !== after[0]!.erne!.pid);
    await allServing({ iad: 2, fra: 2 });
  }, 120_000);

  it('erne machines list / status / logs show the gateways; scale down destroys the surplus', async () => {
    const listed = JSON.parse(await erneCli(['machines', 'list', '--region', 'fra', '--json'], cliEnv())) as Machine[];
    expect(listed.map((m) => m.region)).toEqual(['fra', 'fra']);
    const table = await erneCli(['machines', 'list'], cliEnv());
    expect(table.split('\n')[0]).toMatch(/^ID\s+NAME\s+REGION\s+STATE/);
    expect(table.split('\n').filter((l) => / started /.test(l))).toHaveLength(4);
    const status = await erneCli(['machines', 'status', listed[0]!.id], cliEnv());
    expect(status).toContain(`Machine ${listed[0]!.id}`);
    expect(status).toMatch(/state:\s+started/);
    expect(status).toMatch(/checks:\s+health passing/);
    const logs = await erneCli(['machines', 'logs', listed[0]!.id], cliEnv());
    expect(logs).toMatch(/serving S3 at/);
    const jsonLines = (await erneCli(['machines', 'logs', listed[0]!.id, '--json'], cliEnv())).trim().split('\n').map((l) => JSON.parse(l) as { machine: string; line: string });
    expect(jsonLines.every((l) => l.machine === listed[0]!.id)).toBe(true);
    expect(jsonLines.some((l) => /serving S3 at/.test(l.line))).toBe(true);

    const out = JSON.parse(await erneCli(['machines', 'scale', '--count', '1', '--region', 'fra', '--json'], cliEnv())) as { created: string[]; destroyed: string[] };
    expect(out.created).toEqual([]);
    expect(out.destroyed).toHaveLength(1);
    await allServing({ iad: 2, fra: 1 });
    await waitFor('three gateway processes', () => gatewayPids().length === 3);
  }, 120_000);
});
