/**
 * One `erne serve` per data directory (<data-dir>/erne.lock holds its pid): a second one is
 * refused in one line, a lock left by a process that died is taken over, and the workers of
 * `--workers 2` share their primary's lock. Child processes of the built command.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from '../helpers/child.js';
import { runErne, STACK_FRAME } from '../helpers/erne-run.js';
import { tempDir } from '../helpers/gateway.js';

const running: ChildGateway[] = [];
afterEach(async () => {
  for (const g of running.splice(0)) await g.stop();
});

async function start(...args: Parameters<typeof startChildGateway>): Promise<ChildGateway> {
  const g = await startChildGateway(...args);
  running.push(g);
  return g;
}

/** the pid of a process that has exited */
function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  return new Promise((resolve) => p.once('exit', () => resolve(p.pid!)));
}

const lockPid = (dir: string) => (JSON.parse(readFileSync(join(dir, 'erne.lock'), 'utf8')) as { pid: number }).pid;

describe('erne serve on a data directory another process serves', () => {
  it('is refused with one line naming that process and the lock file; the first keeps serving', async () => {
    const first = await start();
    expect(lockPid(first.dataDir)).toBe(first.proc.pid);
    const second = await runErne(['serve', '--port', '0', '--data-dir', first.dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).not.toMatch(STACK_FRAME);
    expect(second.stderr).toBe(`erne: --data-dir ${first.dataDir} is already served by process ${first.proc.pid} (lock file ${join(first.dataDir, 'erne.lock')}); stop that one first, or use another --data-dir\n`);
    expect(lockPid(first.dataDir)).toBe(first.proc.pid);
    const health = await fetch(`${first.url}/.erne/health`);
    expect(health.status).toBe(200);
  });

  it('the lock goes with a clean stop, and a lock left by a killed process is taken over', async () => {
    const dir = tempDir('erne-lock-');
    const a = await start({ dataDir: dir });
    await a.stop({ keepData: true });
    expect(existsSync(join(dir, 'erne.lock'))).toBe(false);

    const b = await start({ dataDir: dir });
    await b.kill();
    expect(lockPid(dir)).toBe(b.proc.pid);
    const c = await start({ dataDir: dir });
    expect(lockPid(dir)).toBe(c.proc.pid);
  });

  it('a lock naming a pid that no longer runs is taken over', async () => {
    const dir = tempDir('erne-lock-');
    writeFileSync(join(dir, 'erne.lock'), JSON.stringify({ pid: await deadPid() }) + '\n');
    const g = await start({ dataDir: dir });
    expect(lockPid(dir)).toBe(g.proc.pid);
  });

  it('--workers 2: the workers serve under the primary lock, and a second serve is refused', async () => {
    const g = await start({ args: ['--workers', '2'] });
    const deadline = Date.now() + 20_000;
    while (!/2 workers are serving/.test(g.output())) {
      if (Date.now() > deadline) throw new Error(`the workers did not both start:\n${g.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lockPid(g.dataDir)).toBe(g.proc.pid);
    const second = await runErne(['serve', '--port', '0', '--data-dir', g.dataDir]);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^erne: --data-dir \\S+ is already served by process ${g.proc.pid} `));
    expect((await fetch(`${g.url}/.erne/health`)).status).toBe(200);
  });
});
