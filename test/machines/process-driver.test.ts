/**
 * The process driver with real processes: the real gateway (`erne serve`) as a machine, its
 * HTTP check, an S3 round trip through it, stop / kill / signal, logs that follow, adoption by
 * a new driver after the "scheduler" process that started a machine was killed, destroy.
 * Needs `npm run build` (the gateway and the machine supervisor run from dist/).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
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
import { testLaunchSpec } from '../helpers/machines.js';
import { waitFor } from '../helpers/wait.js';

const NODE = process.execPath;
let root: string;
let driver: ProcessDriver;
let seq = 0;

function spec(argv: string[], extra: Partial<LaunchSpec> = {}): LaunchSpec {
  const machineId = `m${++seq}-${process.pid}`;
  return testLaunchSpec(driver, root, { machineId, instanceId: `i-${seq}`, region: 'iad', argv }, extra);
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
    expect(await driver.address(s.machineId)).toBe('127.0.0.1');
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
    // nothing runs: a signal is refused, a stop has nothing to do
    await expect(driver.signal(s.machineId, 'SIGTERM')).rejects.toThrow(/is not running/);
    await driver.stop(s.machineId);
    // a machine it never ran
    expect(await driver.status('no-such-machine')).toEqual({ state: 'missing' });
    await expect(logText('no-such-machine')).rejects.toThrow(/no machine no-such-machine/);
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

  it('two starts of one machine at once make one run', async () => {
    const s = spec(nodeProgram('setInterval(() => {}, 1000)'));
    await Promise.all([driver.start(s), driver.start(s)]);
    expect((await logText(s.machineId)).split('program running as pid').length).toBe(2);
    // a different instance while it runs is refused
    await expect(driver.start({ ...s, instanceId: 'other' })).rejects.toThrow(/stop it before starting other/);
    await driver.stop(s.machineId);
  });

  it('a machine whose supervisor was killed still runs, and is stopped; its end is then unknown', async () => {
    const s = spec(nodeProgram('setInterval(() => {}, 1000)'));
    await driver.start(s);
    const state = readJson<StateRecord>(files(s.workDir).state)!;
    process.kill(state.supervisor.pid, 'SIGKILL');
    await waitFor('the supervisor to be gone', () => !existsSync(`/proc/${state.supervisor.pid}`) || readFileSync(`/proc/${state.supervisor.pid}/stat`, 'utf8').includes(') Z '));
    expect(await driver.status(s.machineId)).toMatchObject({ state: 'running', pid: state.program.pid });
    await driver.stop(s.machineId, { timeoutMs: 2000 });
    expect(await driver.status(s.machineId)).toMatchObject({ state: 'exited', exitCode: null, signal: null, detail: { exit: 'unknown: the supervisor was killed' } });
  });

  it('keeps the log to two bounded files, and a follower goes on across the move', async () => {
    const small = new ProcessDriver({ root, logMaxBytes: 500 });
    const s = spec(nodeProgram(`let i = 0; process.on('SIGUSR1', () => console.log('line ' + String(i++).padStart(3, '0') + ' ' + 'x'.repeat(40))); setInterval(() => {}, 1000); console.log('ready')`));
    await small.start(s);
    const ac = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const l of small.logs(s.machineId, { follow: true, signal: ac.signal })) seen.push(parseLogLine(l).text);
    })();
    await waitFor('the program to be ready', () => seen.includes('ready'));
    const want: string[] = [];
    for (let i = 0; i < 20; i++) {
      want.push(`line ${String(i).padStart(3, '0')} ${'x'.repeat(40)}`);
      await small.signal(s.machineId, 'SIGUSR1');
      await waitFor(`line ${i} in the followed log`, () => seen.includes(want[i]!));
    }
    ac.abort();
    await following;
    expect(seen.filter((l) => l.startsWith('line '))).toEqual(want);
    const log = files(s.workDir).log;
    expect(statSync(log).size).toBeLessThanOrEqual(500);
    expect(statSync(`${log}.1`).size).toBeLessThanOrEqual(500);
    // what is kept reads in order and ends with the last line; the oldest lines are gone
    const kept = (await logText(s.machineId)).split('\n').map((l) => parseLogLine(l).text).filter((l) => l.startsWith('line '));
    expect(kept.at(-1)).toBe(want.at(-1));
    expect(kept).toEqual(want.slice(want.length - kept.length));
    expect(kept.length).toBeLessThan(want.length);
    await small.stop(s.machineId);
  });

  it('when the program ends, what it left running in its process group ends too', async () => {
    const s = spec(['/bin/sh', '-c', 'sleep 1000 & echo "left $!"; exit 0']);
    await driver.start(s);
    await waitFor('the program to end', async () => (await driver.status(s.machineId)).state === 'exited');
    const left = Number(/ out left (\d+)/.exec(await logText(s.machineId))?.[1]);
    expect(left).toBeGreaterThan(0);
    await waitFor('the leftover sleep to be gone', () => !existsSync(`/proc/${left}`) || readFileSync(`/proc/${left}/stat`, 'utf8').includes(') Z '));
  });

  it('a link between regions is a process of its own: found by a new driver, cut and healed, closed', async () => {
    const target = http.createServer((_, res) => res.end('through the link'));
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const port = (target.address() as AddressInfo).port;
    const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.text());
    try {
      const link = await driver.link('iad-fra', 'iad', { host: '127.0.0.1', port }, 5);
      expect(await get(link.url)).toBe('through the link');

      const fresh = new ProcessDriver({ root });
      expect(fresh.links.list()).toEqual([expect.objectContaining({ name: 'iad-fra', url: link.url, running: true })]);
      // opening it again while it runs is the same link; asking for another target is refused
      expect((await fresh.link('iad-fra', 'iad', { host: '127.0.0.1', port }, 5)).url).toBe(link.url);
      await expect(fresh.link('iad-fra', 'iad', { host: '127.0.0.1', port: port + 1 }, 5)).rejects.toThrow(/close it first/);

      fresh.links.cut('iad-fra');
      await waitFor('the cut link to refuse', () => get(link.url).then(() => false, () => true));
      fresh.links.heal('iad-fra');
      await waitFor('the healed link to carry traffic', () => get(link.url).then((b) => b === 'through the link', () => false));

      await fresh.links.close('iad-fra');
      expect(fresh.links.list()).toEqual([]);
      await expect(get(link.url)).rejects.toThrow();
    } finally {
      target.closeAllConnections();
      await new Promise((r) => target.close(r));
    }
  });

  it('refuses to start a machine whose host port is taken, naming the port', async () => {
    const busy = http.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const taken = (busy.address() as AddressInfo).port;
    try {
      const s = spec(nodeProgram('setInterval(() => {}, 1000)'), { ports: [{ internal: await freePort(), host: taken, protocol: 'tcp' }] });
      await expect(driver.start(s)).rejects.toThrow(new RegExp(`cannot publish port 127.0.0.1:${taken}: .*EADDRINUSE`));
      expect((await driver.status(s.machineId)).state).toBe('exited');
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });
});
