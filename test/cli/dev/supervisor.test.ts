/**
 * The supervisor of `erne dev` with real child processes (small node programs listening on a
 * port): a killed child is restarted and says so, one that keeps dying waits longer each
 * time, one that stayed up starts again from the short wait, and stopping leaves no process.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StartError, Supervisor, type ChildSpec } from '../../../cli/dev/supervisor.js';
import { freePort, pidAlive as alive } from '../../helpers/child.js';
import { tempDir } from '../../helpers/gateway.js';


/**
 * A child that records each start (time and pid) in STARTS, exits at once with code 3 while the
 * file FAIL exists, otherwise listens on PORT and says so; IGNORE_TERM makes it shrug off SIGTERM.
 */
const CHILD = `
const fs = require('node:fs');
fs.appendFileSync(process.env.STARTS, Date.now() + ' ' + process.pid + '\\n');
if (fs.existsSync(process.env.FAIL)) { console.error('failing on purpose'); process.exit(3); }
if (process.env.IGNORE_TERM) process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
require('node:net').createServer((s) => s.end(String(process.pid))).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening\\nsecond line'));
`;

/** the pid of the child answering on the port, or undefined */
function answeringPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('end', () => resolve(Number(text) || undefined));
    s.once('error', () => resolve(undefined));
  });
}

async function answers(port: number): Promise<boolean> {
  return (await answeringPid(port)) !== undefined;
}

async function until(ok: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Fixture {
  sup: Supervisor;
  notices: string[];
  logs: string[];
  spec: (name: string, extraEnv?: Record<string, string>) => Promise<ChildSpec & { port: number; starts: string; fail: string }>;
  starts: (file: string) => { at: number; pid: number }[];
}

const dirs: string[] = [];
const usedPorts = new Set<number>();
const sups: Supervisor[] = [];
afterEach(async () => {
  for (const s of sups.splice(0)) s.killAll();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fixture(policy = { initialDelayMs: 100, maxDelayMs: 400, stableAfterMs: 1500 }, stopGraceMs = 15_000): Fixture {
  const dir = tempDir('erne-sup-');
  dirs.push(dir);
  const notices: string[] = [];
  const logs: string[] = [];
  const sup = new Supervisor({ notice: (l) => notices.push(l), log: (l) => logs.push(l), policy, stopGraceMs });
  sups.push(sup);
  return {
    sup,
    notices,
    logs,
    async spec(name, extraEnv = {}) {
      // freePort may hand out a port twice in a row: two children must not share one
      let port = await freePort();
      while (usedPorts.has(port)) port = await freePort();
      usedPorts.add(port);
      const starts = join(dir, `${name}.starts`);
      const fail = join(dir, `${name}.fail`);
      return {
        name,
        command: process.execPath,
        args: ['-e', CHILD],
        env: { ...process.env, PORT: String(port), STARTS: starts, FAIL: fail, ...extraEnv },
        // its own answer, not another program's that took the port meanwhile
        ready: async (pid) => (await answeringPid(port)) === pid,
        port,
        starts,
        fail,
      };
    },
    starts: (file) =>
      existsSync(file)
        ? readFileSync(file, 'utf8')
            .trim()
            .split('\n')
            .map((l) => ({ at: Number(l.split(' ')[0]), pid: Number(l.split(' ')[1]) }))
        : [],
  };
}

describe('supervisor', () => {
  it('restarts a SIGKILLed child, says so in one line each way, and prefixes its output', async () => {
    const f = fixture();
    const spec = await f.spec('web');
    const child = await f.sup.start(spec);
    const first = child.pid!;
    expect(await answers(spec.port)).toBe(true);
    await until(() => f.logs.includes('[web] second line'), 'the prefixed output');
    expect(f.logs).toContain('[web] listening');

    process.kill(first, 'SIGKILL');
    await until(() => f.notices.some((n) => n.startsWith('web is back')), 'the back notice');
    expect(f.notices[0]).toBe(`web (pid ${first}) died (SIGKILL); restarting it in 0.1 s`);
    expect(f.notices[1]).toBe(`web is back (pid ${child.pid})`);
    expect(child.pid).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(child.restarts).toBe(1);
    expect(await answeringPid(spec.port)).toBe(child.pid);
  });

  it('waits longer each time a child keeps dying, and from the short wait again once it stayed up', async () => {
    const f = fixture();
    const spec = await f.spec('flaky');
    const child = await f.sup.start(spec);
    writeFileSync(spec.fail, '');
    process.kill(child.pid!, 'SIGKILL');
    // the first start, then four failed restarts
    await until(() => f.starts(spec.starts).length >= 5, 'four restarts');
    rmSync(spec.fail);
    await until(() => f.notices.some((n) => n.startsWith('flaky is back')), 'the recovery');

    const at = f.starts(spec.starts).map((s) => s.at);
    const gaps = at.slice(2).map((t, i) => t - at[i + 1]!);
    // 0.1 s before the first restart, then 0.2, 0.4, 0.4 (the cap) between the failed ones
    expect(gaps[0]).toBeGreaterThanOrEqual(200);
    expect(gaps[1]).toBeGreaterThanOrEqual(400);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
    expect(f.notices.filter((n) => /exited before it was ready \(exit code 3\) \[failing on purpose\]; trying again in/.test(n)).length).toBeGreaterThanOrEqual(3);
    expect(f.notices.some((n) => n.endsWith('trying again in 0.4 s'))).toBe(true);

    // up longer than stableAfterMs: the next death waits the short time again
    const back = child.pid!;
    await until(() => f.starts(spec.starts).at(-1)!.at < Date.now() - 1600, 'a stable run');
    process.kill(back, 'SIGKILL');
    await until(() => f.notices.some((n) => n.startsWith(`flaky (pid ${back}) died`)), 'the second death');
    expect(f.notices.find((n) => n.startsWith(`flaky (pid ${back}) died`))).toMatch(/restarting it in 0\.1 s$/);
  });

  it('stops every child, SIGKILLing one that ignores SIGTERM; nothing restarts', async () => {
    const f = fixture(undefined, 500);
    const a = await f.sup.start(await f.spec('a'));
    const stubbornSpec = await f.spec('stubborn', { IGNORE_TERM: '1' });
    const stubborn = await f.sup.start(stubbornSpec);
    const pids = [a.pid!, stubborn.pid!];
    expect(f.sup.pids().sort()).toEqual([...pids].sort());
    await f.sup.stopAll();
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
    expect(f.logs, JSON.stringify(f.logs)).toContain('[stubborn] ignoring SIGTERM');
    expect(f.notices).toEqual([]);
    expect(f.starts(stubbornSpec.starts)).toHaveLength(1);
    expect(f.sup.pids()).toEqual([]);
  });

  it('a child that fails its first start is not restarted: the error names it and its last line', async () => {
    const f = fixture();
    const spec = await f.spec('broken');
    writeFileSync(spec.fail, '');
    const err = await f.sup.start(spec).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartError);
    expect((err as StartError).oneLine()).toBe('broken exited before it was ready (exit code 3): failing on purpose');
    expect(f.starts(spec.starts)).toHaveLength(1);
    expect(f.sup.pids()).toEqual([]);

    const missing = await f.sup.start({ name: 'ghost', command: '/nonexistent/program', args: [] }).catch((e: unknown) => e);
    expect((missing as StartError).oneLine()).toBe('ghost could not be started: spawn /nonexistent/program ENOENT');
  });
});
