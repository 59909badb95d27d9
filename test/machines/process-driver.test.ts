/**
 * The process driver with real processes: the real gateway (`erne serve`) as a machine, its
 * HTTP check, an S3 round trip through it, stop / kill / signal, logs that follow, adoption by
 * a new driver after the "scheduler" process that started a machine was killed, destroy.
 * Needs `npm run build` (the gateway and the machine supervisor run from dist/).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../machines/checks.js';
import { ProcessDriver } from '../../machines/drivers/process/index.js';
import { parseLogLine } from '../../machines/drivers/process/log-file.js';
import { files, readJson, writeJson, type StateRecord } from '../../machines/drivers/process/machine-files.js';
import type { LaunchSpec } from '../../machines/drivers/types.js';
import { ERNE_JS, freePort, REPO_ROOT } from '../helpers/child.js';
import { REGION, ROOT, s3Client, tempDir } from '../helpers/gateway.js';
import { waitFor } from '../helpers/wait.js';

const NODE = process.execPath;
let root: string;
let driver: ProcessDriver;
let seq = 0;

function spec(argv: string[], extra: Partial<LaunchSpec> = {}): LaunchSpec {
  const machineId = `m${++seq}-${process.pid}`;
  return {
    machineId,
    instanceId: `i-${seq}`,
    app: 'erne-test',
    region: 'iad',
    argv,
    env: {},
    volumeDir: join(root, 'volumes', machineId),
    workDir: driver.workDirFor(machineId),
    ports: [],
    guest: { cpus: 1, memoryMb: 256 },
    ...extra,
  };
}

/** a node program given as source text */
const nodeProgram = (src: string) => [NODE, '-e', src];

async function logText(id: string): Promise<string> {
  const lines: string[] = [];
  for await (const l of driver.logs(id)) lines.push(l);
  return lines.join('\n');
}

beforeAll(() => {
  root = tempDir('erne-procdrv-');
  driver = new ProcessDriver({ root, stopTimeoutMs: 10_000 });
});

afterAll(async () => {
  await driver.destroyAll();
  rmSync(root, { recursive: true, force: true });
});

describe('process driver', () => {
  it('runs the real gateway as a machine: its HTTP check passes, S3 works through it, SIGTERM stops it', async () => {
    const port = await freePort();
    const s = spec([NODE, ERNE_JS, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', '.', '--region', REGION], {
      env: { ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId, ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey },
      ports: [{ internal: port, host: port, protocol: 'tcp' }],
    });
    await driver.start(s);
    const check = { type: 'http' as const, port, path: '/.erne/health', timeout: '1s' };
    await waitFor('the gateway health check to pass', async () => (await runCheck(check, { host: '127.0.0.1' })).status === 'passing');
    expect((await runCheck({ type: 'tcp', port }, { host: '127.0.0.1' })).status).toBe('passing');

    const s3 = s3Client({ url: `http://127.0.0.1:${port}` });
    await s3.send(new CreateBucketCommand({ Bucket: 'machine-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'machine-bucket', Key: 'k', Body: 'through a machine' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'machine-bucket', Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('through a machine');
    s3.destroy();

    const st = await driver.status(s.machineId);
    expect(st).toMatchObject({ state: 'running', detail: { network: 'loopback', instance: 'i-1' } });
    // the gateway's data dir is the machine's volume (its cwd)
    expect(existsSync(s.volumeDir)).toBe(true);

    await driver.stop(s.machineId);
    const after = await driver.status(s.machineId);
    expect(after.state).toBe('exited');
    // the gateway ends by itself on SIGTERM, within the timeout: not killed
    expect(after.signal === 'SIGKILL').toBe(false);
    expect((await runCheck(check, { host: '127.0.0.1' })).status).toBe('failing');

    const log = await logText(s.machineId);
    expect(log).toContain('serving S3 at');
    const stamped = parseLogLine(log.split('\n').find((l) => l.includes('serving S3 at'))!);
    expect(stamped.source).toMatch(/out|err/);
    expect(Number.isNaN(Date.parse(stamped.time))).toBe(false);
  });

  it('kills a program that ignores SIGTERM once the stop timeout has passed', async () => {
    const s = spec(nodeProgram(`process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000); console.log('ready')`));
    await driver.start(s);
    // the supervisor's own start line quotes the program: the program's output is an `out` line
    await waitFor('the program to be ready', async () => (await logText(s.machineId)).includes(' out ready'));
    await driver.stop(s.machineId, { timeoutMs: 300 });
    expect(await driver.status(s.machineId)).toMatchObject({ state: 'exited', signal: 'SIGKILL', exitCode: null });
    expect(await logText(s.machineId)).toContain(' out ignoring SIGTERM');
  });

  it('sees a SIGKILLed program as exited with that signal, and a normal exit with its code', async () => {
    const s = spec(nodeProgram('setInterval(() => {}, 1000)'));
    await driver.start(s);
    const st = await driver.status(s.machineId);
    expect(st.state).toBe('running');
    process.kill(st.pid!, 'SIGKILL');
    await waitFor('the machine to be seen exited', async () => (await driver.status(s.machineId)).state === 'exited');
    expect(await driver.status(s.machineId)).toMatchObject({ state: 'exited', signal: 'SIGKILL', exitCode: null });

    const e = spec(nodeProgram('process.exit(3)'));
    await driver.start(e);
    await waitFor('the program to end', async () => (await driver.status(e.machineId)).state === 'exited');
    expect(await driver.status(e.machineId)).toMatchObject({ state: 'exited', exitCode: 3, signal: null });
    // started again, it runs again (a new run of the same machine)
    await driver.start(e);
    await waitFor('the second run to end', async () => (await logText(e.machineId)).split('program exited with code 3').length === 3);
  });

  it('passes a signal on, and follows the log as lines are written', async () => {
    const s = spec(nodeProgram(`console.log('one'); process.on('SIGUSR1', () => console.error('two')); setInterval(() => {}, 1000)`));
    await driver.start(s);
    const ac = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const l of driver.logs(s.machineId, { follow: true, signal: ac.signal })) seen.push(l);
    })();
    await waitFor('the first line in the followed log', () => seen.some((l) => l.endsWith(' out one')));
    await driver.signal(s.machineId, 'SIGUSR1');
    await waitFor('the line written after the signal', () => seen.some((l) => l.endsWith(' err two')));
    ac.abort();
    await following;
    await driver.stop(s.machineId);
  });

  it('refuses to start a program that does not exist, saying why', async () => {
    const s = spec(['/nonexistent/erne-program']);
    await expect(driver.start(s)).rejects.toThrow(/cannot start \/nonexistent\/erne-program: .*ENOENT/);
    expect((await driver.status(s.machineId)).state).toBe('exited');
  });

  it('a machine outlives the scheduler that started it, and a new driver adopts it (never a reused pid)', async () => {
    const live = spec(nodeProgram('setInterval(() => {}, 1000)'));
    const dead = spec(nodeProgram('setInterval(() => {}, 1000)'));
    // a separate "scheduler" process starts two machines, then is SIGKILLed
    const script = `
      import { ProcessDriver } from ${JSON.stringify(join(REPO_ROOT, 'dist/machines/drivers/process/index.js'))};
      const d = new ProcessDriver({ root: ${JSON.stringify(root)} });
      for (const s of ${JSON.stringify([live, dead])}) await d.start(s);
      console.log('started');
      setInterval(() => {}, 1000);`;
    const scheduler = spawn(NODE, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    scheduler.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const gone = new Promise((r) => scheduler.once('exit', r));
    await waitFor('the scheduler to start its machines', () => out.includes('started'));
    scheduler.kill('SIGKILL');
    await gone;

    const fresh = new ProcessDriver({ root });
    const liveSt = await fresh.status(live.machineId);
    expect(liveSt.state).toBe('running');
    // the dead one ended after the scheduler died: its end is known all the same
    process.kill((await fresh.status(dead.machineId)).pid!, 'SIGKILL');
    await waitFor('the second machine to be seen exited', async () => (await fresh.status(dead.machineId)).state === 'exited');

    const listed = await fresh.list();
    expect(listed.find((m) => m.machineId === live.machineId)).toMatchObject({ instanceId: live.instanceId, status: { state: 'running', pid: liveSt.pid } });
    expect(listed.find((m) => m.machineId === dead.machineId)).toMatchObject({ status: { state: 'exited', signal: 'SIGKILL' } });

    // a record whose pid now belongs to another process (here: this test runner) is not adopted
    const paths = files(dead.workDir);
    const state = readJson<StateRecord>(paths.state)!;
    rmSync(paths.exit);
    writeJson(paths.state, { ...state, supervisor: { pid: process.pid, startTime: '1' }, program: { pid: process.pid, startTime: '1' } });
    expect((await fresh.status(dead.machineId)).state).toBe('exited');
    expect((await fresh.list()).find((m) => m.machineId === dead.machineId)?.status.state).toBe('exited');

    // the adopted machine is stopped by the new driver
    await fresh.stop(live.machineId);
    expect((await fresh.status(live.machineId)).state).toBe('exited');
  });

  it('destroy stops the machine and removes its files and volume', async () => {
    const s = spec(nodeProgram(`require('fs').writeFileSync('data', 'x'); setInterval(() => {}, 1000)`));
    await driver.start(s);
    await waitFor('the program to write to its volume', () => existsSync(join(s.volumeDir, 'data')));
    const pid = (await driver.status(s.machineId)).pid!;
    await driver.destroy(s.machineId);
    expect(existsSync(s.workDir)).toBe(false);
    expect(existsSync(s.volumeDir)).toBe(false);
    expect(await driver.status(s.machineId)).toEqual({ state: 'missing' });
    expect((await driver.list()).some((m) => m.machineId === s.machineId)).toBe(false);
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
  });
});
