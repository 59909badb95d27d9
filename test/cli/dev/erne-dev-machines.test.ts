/**
 * `erne dev --driver process` as people run it (a child process of dist/cli/erne.js; `npm run
 * build` first): each region's gateway is a machine of the process driver kept by the
 * scheduler. An object written in iad is read in fra with @aws-sdk/client-s3; a SIGKILLed
 * gateway machine is restarted by the scheduler, says so, and serves the object again; the
 * gateways' log lines are shown as `[iad gateway] …`;
 * `erne machines list` against the printed Machines API shows the machines; Ctrl-C leaves no
 * process it started running (checked by pid: redis-servers, machine supervisors, gateways).
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../../machines/api/types.js';
import { commandOf, descendants, startErneDev, type ErneDev } from '../../helpers/erne-dev.js';
import { runErne } from '../../helpers/erne-run.js';
import { bodyBytes, tempDir, uniqueBucket } from '../../helpers/gateway.js';
import { waitFor } from '../../helpers/wait.js';

const LATENCY = 20;

let dataDir: string;
let dev: ErneDev;
const bucket = uniqueBucket('dev-machines');
const body = Buffer.from('written in iad, read in fra '.repeat(2000));

beforeAll(async () => {
  dataDir = tempDir('erne-dev-machines-');
  dev = await startErneDev(['--regions', 'iad,fra', '--driver', 'process', '--latency', `${LATENCY}ms`, '--verbose', '--data-dir', dataDir]);
}, 90_000);

afterAll(async () => {
  if (dev && dev.proc.exitCode === null) {
    const left = descendants(dev.proc.pid!);
    await dev.stop('SIGTERM');
    for (const pid of left) if (commandOf(pid)) process.kill(pid, 'SIGKILL');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

function region(name: string) {
  const r = dev.summary.regions.find((x) => x.name === name);
  if (!r) throw new Error(`no region ${name} in ${JSON.stringify(dev.summary)}`);
  return r;
}

/** `erne machines list --json` against the Machines API erne dev printed */
async function listMachines(): Promise<Machine[]> {
  const m = dev.summary.machines!;
  const run = await runErne(['machines', 'list', '--json', '--endpoint', m.endpoint], { env: { ERNE_MACHINES_TOKEN: m.token } });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Machine[];
}

/** the object, read through a region's endpoint, retried until it is there */
async function readThrough(name: string): Promise<Buffer> {
  const s3 = dev.client(region(name));
  return waitFor(`${bucket}/hello.txt through ${name}`, async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'hello.txt' }));
    return bodyBytes(got.Body);
  }, 30_000, 100);
}

function timedGet(url: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url + '/', { agent: false }, (res) => {
        res.resume();
        res.once('end', () => resolve(performance.now() - t0));
      })
      .once('error', reject);
  });
}

describe('erne dev --regions iad,fra --driver process', () => {
  it('runs each gateway as a machine: the printed Machines API lists them started, with the printed pids', async () => {
    const s = dev.summary;
    expect(s.machines).toMatchObject({ driver: 'process', app: 'erne' });
    expect(readFileSync(join(dataDir, 'machines', 'token'), 'utf8')).toBe(`${s.machines!.token}\n`);
    const machines = await listMachines();
    expect(machines.map((m) => [m.region, m.state]).sort()).toEqual([
      ['fra', 'started'],
      ['iad', 'started'],
    ]);
    for (const r of s.regions) {
      const m = machines.find((x) => x.region === r.name)!;
      expect(m.id).toBe(r.machineId);
      expect(m.erne?.pid).toBe(r.gatewayPid);
      expect(m.config.restart?.policy).toBe('always');
      expect(commandOf(r.gatewayPid!)).toContain(` serve --host 127.0.0.1 --port ${new URL(r.endpoint).port} --region ${r.name} `);
    }
  });

  it('the latency proxies stand between the regions as without --driver', async () => {
    for (const r of dev.summary.regions) {
      expect(r.internal).not.toBe(r.endpoint);
      expect(await timedGet(r.internal)).toBeGreaterThanOrEqual(2 * LATENCY);
    }
  });

  it('an object written in iad is read in fra', async () => {
    const iad = dev.client(region('iad'));
    await iad.send(new CreateBucketCommand({ Bucket: bucket }));
    await iad.send(new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: body }));
    expect((await readThrough('fra')).equals(body)).toBe(true);
    // the gateway's own log lines (--verbose: one per request) are shown as erne dev shows its children's
    await dev.waitFor(/^\[iad gateway\] \{"level":"info".*"op":"PutObject"/m);
  }, 60_000);

  it("a SIGKILLed gateway machine is restarted by the scheduler, says so, and serves the object again", async () => {
    const iad = region('iad');
    const from = dev.output().length;
    process.kill(iad.gatewayPid!, 'SIGKILL');
    await dev.waitFor(new RegExp(`erne dev: iad gateway \\(machine ${iad.machineId}, pid ${iad.gatewayPid}\\) died \\(SIGKILL\\); the scheduler restarts it in [\\d.]+ s \\(restart policy always\\)\\n`), from);
    const back = await dev.waitFor(new RegExp(`erne dev: iad gateway \\(machine ${iad.machineId}\\) is back \\(pid (\\d+)\\)\\n`), from, 60_000);
    const pid = Number(back[1]);
    expect(pid).not.toBe(iad.gatewayPid);
    expect(commandOf(pid)).toContain(` serve --host 127.0.0.1 --port ${new URL(iad.endpoint).port} --region iad `);
    expect((await readThrough('iad')).equals(body)).toBe(true);
    expect((await readThrough('fra')).equals(body)).toBe(true);
    const m = (await listMachines()).find((x) => x.id === iad.machineId)!;
    expect(m.erne?.restarts).toBe(1);
    expect(m.erne?.pid).toBe(pid);
  }, 90_000);

  it('Ctrl-C (SIGINT) stops every process it started: none is left running', async () => {
    const started = descendants(dev.proc.pid!);
    const commands = started.map((pid) => commandOf(pid) ?? '');
    expect(commands.filter((c) => c.startsWith('redis-server '))).toHaveLength(2);
    expect(commands.filter((c) => c.includes('/machines/drivers/process/supervisor.js '))).toHaveLength(2);
    expect(commands.filter((c) => c.includes(' serve --host 127.0.0.1 '))).toHaveLength(2);
    const api = dev.summary.machines!.endpoint;
    expect(await dev.stop('SIGINT')).toBe(0);
    expect(dev.output()).toMatch(/erne dev: SIGINT: stopping every process it started\n/);
    const left = started.filter((pid) => commandOf(pid) !== undefined);
    expect(left.map((pid) => `${pid} ${commandOf(pid)}`)).toEqual([]);
    // the scheduler stopped with it: no death was told, no restart made while stopping
    expect(dev.output().match(/died \(/g)).toHaveLength(1);
    await expect(fetch(`${api}/v1/apps`)).rejects.toThrow();
  }, 90_000);

  it('machines left running by a SIGKILLed erne dev are removed by the next run, which finds the data', async () => {
    const killed = await startErneDev(['--regions', 'iad,fra', '--driver', 'process', '--data-dir', dataDir]);
    const gateways = killed.summary.regions.map((r) => r.gatewayPid!);
    let next: ErneDev | undefined;
    try {
      killed.proc.kill('SIGKILL');
      await killed.stop();
      // machines outlive their scheduler by design (a restarted scheduler adopts them)
      expect(gateways.filter((pid) => commandOf(pid) !== undefined)).toHaveLength(2);
      next = await startErneDev(['--regions', 'iad,fra', '--driver', 'process', '--data-dir', dataDir]);
      for (const r of killed.summary.regions) {
        expect(next.output()).toContain(`erne dev: stopping machine ${r.machineId} (pid `);
      }
      expect(gateways.filter((pid) => commandOf(pid) !== undefined)).toEqual([]);
      dev = next;
      expect((await readThrough('fra')).equals(body)).toBe(true);
      expect((await listMachines()).map((m) => m.id).sort()).toEqual(next.summary.regions.map((r) => r.machineId).sort());
      const started = descendants(next.proc.pid!);
      expect(await next.stop('SIGINT')).toBe(0);
      expect(started.filter((pid) => commandOf(pid) !== undefined)).toEqual([]);
    } finally {
      for (const pid of [...gateways, ...(next ? descendants(next.proc.pid!) : [])]) if (commandOf(pid)) process.kill(pid, 'SIGKILL');
      if (next) await next.stop('SIGKILL');
    }
  }, 120_000);
});
