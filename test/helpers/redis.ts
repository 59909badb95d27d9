/**
 * A `redis-server` of the test's own, on a free loopback port, keeping nothing on disk (as the
 * regions' Redis does by default), so a kill and restart comes back EMPTY. Never the one on
 * 6379. Stop it in teardown.
 *
 *   const redis = await startRedis();
 *   … redis.url …
 *   await redis.kill();      // SIGKILL, as a crash
 *   await redis.restart();   // same port, empty
 *   await redis.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './child.js';
import { program } from './requires.js';

/** the machine has a redis-server to start (tests that need one use itNeeds/describeNeeds) */
export const redisServer = program('redis-server', ['--version'], 'redis-server');

export interface TestRedis {
  port: number;
  /** redis://127.0.0.1:PORT */
  url: string;
  /** SIGKILL the server and wait until it is gone (what it held is lost) */
  kill(): Promise<void>;
  /** start a fresh, empty server on the same port (after kill) */
  restart(): Promise<void>;
  /** stop it for good (safe to call twice) */
  stop(): Promise<void>;
}

const START_DEADLINE_MS = 10_000;

/** true once the server answers PING on `port` */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
  });
}

/** how many clients are connected to the server on `port` (this query's own connection included) */
export function redisClients(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    let got = '';
    s.setTimeout(2000, () => s.destroy(new Error('CLIENT LIST timed out')));
    s.once('error', reject);
    s.once('connect', () => s.write('CLIENT LIST\r\n'));
    s.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^\$(\d+)\r\n/.exec(got);
      if (!m || got.length < m[0].length + Number(m[1])) return;
      s.destroy();
      resolve(got.slice(m[0].length, m[0].length + Number(m[1])).split('\n').filter((l) => l.startsWith('id=')).length);
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let log = '';

  const launch = async () => {
    log = '';
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = p;
    p.stdout?.on('data', (d) => (log += d));
    p.stderr?.on('data', (d) => (log += d));
    const deadline = Date.now() + START_DEADLINE_MS;
    while (!(await pong(port))) {
      if (p.exitCode !== null || Date.now() > deadline) {
        p.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not start: ${log.trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  const end = async (signal: NodeJS.Signals) => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => end('SIGKILL'),
    restart: launch,
    stop: () => end('SIGTERM'),
  };
}
