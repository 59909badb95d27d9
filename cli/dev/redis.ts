/**
 * The redis-server of one `erne dev` region: loopback only, nothing kept on disk (a restart
 * comes back EMPTY, the case replication must survive), and a readiness probe that asks PING.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import type { ChildSpec } from './supervisor.js';

export const REDIS_SERVER = 'redis-server';

/** what every redis-server says when it starts and stops (and the overcommit advice, moot without saves) */
const ROUTINE = /Redis is starting|Redis version=|Configuration loaded|Server initialized|Memory overcommit|Received SIG\w+ scheduling shutdown|User requested shutdown|ready to exit|Ready to accept connections/;

/** undefined when `redis-server --version` runs; otherwise the one line to show */
export function redisMissing(bin = REDIS_SERVER, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(bin, ['--version'], { env, timeout: 10_000 }, (err) => {
      if (!err) return resolve(undefined);
      const code = (err as NodeJS.ErrnoException).code;
      resolve(
        code === 'ENOENT'
          ? `${bin} is not installed (or not on PATH); erne dev runs one per region: install Redis (apt-get install redis-server, brew install redis)`
          : `${bin} --version fails (${err.message.split('\n')[0]}); erne dev needs a working redis-server`,
      );
    });
  });
}

export function redisSpec(opts: { name: string; port: number; cwd: string; env?: NodeJS.ProcessEnv; bin?: string }): ChildSpec {
  return {
    name: opts.name,
    command: opts.bin ?? REDIS_SERVER,
    // --save '' and no AOF: an in-memory Redis, as a region's queue Redis runs by default
    args: ['--port', String(opts.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    cwd: opts.cwd,
    env: opts.env,
    ready: () => redisPing(opts.port),
    readyTimeoutMs: 10_000,
    show: (line) => !ROUTINE.test(line),
  };
}

/** true when a Redis on 127.0.0.1:port answers PING with PONG */
export function redisPing(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
