/**
 * The systems bench:compare measures, each started as its own child process on a fresh temp
 * directory and a free loopback port: Erne (`erne serve`, and `--workers N` once serve has
 * it), s3rver (the peer) and the bare Node.js ceiling (./ceiling-server.ts).
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TargetSpec {
  name: string;
  command(dir: string, port: number): { args: string[]; env?: Record<string, string> };
  accessKey: string;
  secretKey: string;
  /** false: the target cannot LIST (the ceiling) */
  lists: boolean;
}

export interface RunningTarget {
  spec: TargetSpec;
  endpoint: string;
  pid: number;
  stop(): Promise<void>;
}

const ROOT_DIR = fileURLToPath(new URL('../../', import.meta.url)); // dist/bench → repo
const ERNE_JS = join(ROOT_DIR, 'dist/cli/erne.js');
const CEILING_JS = join(ROOT_DIR, 'dist/bench/ceiling-server.js');
const ERNE_KEYS = { accessKey: 'ERNEBENCHROOT0000001', secretKey: 'erne-bench-root-secret-000000000000000001' };

export const REGION = 'us-east-1';

/** ERNE_BENCH_CPU_PROF=<dir>: every Erne process writes a V8 CPU profile there when it exits */
function cpuProfArgs(): string[] {
  const dir = process.env['ERNE_BENCH_CPU_PROF'];
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

export function erneTarget(workers?: number): TargetSpec {
  return {
    name: workers ? `Erne (${workers} workers)` : 'Erne',
    ...ERNE_KEYS,
    lists: true,
    command: (dir, port) => ({
      args: [...cpuProfArgs(), ERNE_JS, 'serve', '--port', String(port), '--data-dir', dir, '--region', REGION, ...(workers ? ['--workers', String(workers)] : [])],
      env: { ERNE_ROOT_ACCESS_KEY: ERNE_KEYS.accessKey, ERNE_ROOT_SECRET_KEY: ERNE_KEYS.secretKey },
    }),
  };
}

/** does this build of `erne serve` take --workers? */
export function erneHasWorkers(): boolean {
  try {
    return execFileSync(process.execPath, [ERNE_JS, 'serve', '--help'], { encoding: 'utf8' }).includes('--workers');
  } catch {
    return false;
  }
}

export function s3rverTarget(): TargetSpec {
  const bin = join(createRequire(import.meta.url).resolve('s3rver/package.json'), '..', 'bin', 's3rver.js');
  return {
    name: 's3rver',
    accessKey: 'S3RVER',
    secretKey: 'S3RVER',
    lists: true,
    command: (dir, port) => ({ args: [bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '-s', '--no-vhost-buckets'] }),
  };
}

export function ceilingTarget(): TargetSpec {
  return { name: 'bare Node (ceiling)', accessKey: 'none', secretKey: 'none', lists: false, command: (dir, port) => ({ args: [CEILING_JS, '--dir', dir, '--port', String(port)] }) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

/** `prepare` runs on the target's (empty) data directory before the server starts */
export async function startTarget(spec: TargetSpec, prepare?: (dataDir: string) => Promise<void>): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'erne-bench-target-'));
  const port = await freePort();
  const { args, env } = spec.command(join(dir, 'data'), port);
  if (prepare) {
    try {
      await prepare(join(dir, 'data'));
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const logFile = join(dir, 'server.log');
  const logFd = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(port))) {
    if (exited !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = readFileSync(logFile, 'utf8').slice(-2000);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${spec.name} did not start (exit ${exited}): ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    spec,
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (exited === undefined) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
