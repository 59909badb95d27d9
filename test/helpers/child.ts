/**
 * Erne as a child process (`node dist/cli/erne.js serve`), for tests that must SIGKILL the
 * server, and the `erne keys` CLI for adding non-root keys. Both need `npm run build` first.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REGION, ROOT, tempDir, type Creds } from './gateway.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ERNE_JS = join(REPO_ROOT, 'dist', 'cli', 'erne.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** One GET / with a short timeout: true once a server at `url` answers anything. */
export function answersAt(url: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const r = http.get(`${url}/`, { agent: false }, (res) => {
      res.resume();
      resolve(true);
    });
    r.on('error', () => resolve(false));
    r.setTimeout(timeoutMs, () => {
      r.destroy();
      resolve(false);
    });
  });
}

/** true once something on 127.0.0.1:`port` answers HTTP */
export const answers = (port: number): Promise<boolean> => answersAt(`http://127.0.0.1:${port}`);

/** the process `pid` still exists */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ChildGateway {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  /** output so far, for failure messages */
  output(): string;
  /** SIGKILL and wait for the exit */
  kill(): Promise<void>;
  /** SIGTERM, wait for the exit; removes the data dir unless keepData */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export interface ChildOptions {
  dataDir?: string;
  port?: number;
  domain?: string;
  env?: Record<string, string>;
  /** more `erne serve` flags */
  args?: string[];
  /** run under `ulimit -n` of this many open files */
  openFiles?: number;
  /** node's own flags, before the script (a startup snapshot, say) */
  nodeArgs?: string[];
}

/** Starts `erne serve` and resolves once its port answers HTTP and its start banner is out. */
export async function startChildGateway(opts: ChildOptions = {}): Promise<ChildGateway> {
  const dataDir = opts.dataDir ?? tempDir('erne-child-');
  const port = opts.port ?? (await freePort());
  const args = [...(opts.nodeArgs ?? []), ERNE_JS, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir, '--region', REGION];
  if (opts.domain) args.push('--domain', opts.domain);
  if (opts.args) args.push(...opts.args);
  // the shell sets the limit and becomes node (exec): proc.pid stays the gateway's
  const [cmd, argv] = opts.openFiles ? ['/bin/sh', ['-c', `ulimit -n ${opts.openFiles} && exec "$0" "$@"`, process.execPath, ...args]] : [process.execPath, args];
  const proc = spawn(cmd, argv, {
    env: { ...process.env, ERNE_ROOT_ACCESS_KEY: ROOT.accessKeyId, ERNE_ROOT_SECRET_KEY: ROOT.secretAccessKey, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const deadline = Date.now() + 20_000;
  while (!(await answers(port))) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`erne serve exited early:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`erne serve did not answer on ${port} within 20 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // the port answers a moment before the start banner is written: tests read the banner
  while (!out.includes('serving S3 at') && proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    proc,
    output: () => out,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    async stop(o = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      if (!o.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the erne CLI and resolves with its stdout (rejects on a non-zero exit). */
export function erneCli(args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [ERNE_JS, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`erne ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(String(stdout));
    });
  });
}

let keySeq = 0;
/**
 * Adds a non-root key pair to a data dir through `erne keys create --json` (a separate
 * process, so the in-process gateway's LMDB handle is not opened twice in one process).
 */
export async function createKey(dataDir: string, creds?: Creds): Promise<Creds> {
  keySeq += 1;
  const want = creds ?? {
    accessKeyId: `ERNETESTUSER${String(process.pid % 10000).padStart(4, '0')}${String(keySeq).padStart(4, '0')}`,
    secretAccessKey: `erne-test-user-secret-${process.pid}-${keySeq}-xxxxxxxxxxxx`,
  };
  const out = await erneCli(['keys', 'create', '--data-dir', dataDir, '--access-key', want.accessKeyId, '--secret-key', want.secretAccessKey, '--json']);
  let parsed: Partial<Creds>;
  try {
    parsed = JSON.parse(out) as Partial<Creds>;
  } catch {
    parsed = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Partial<Creds>;
  }
  if (parsed.accessKeyId !== want.accessKeyId || parsed.secretAccessKey !== want.secretAccessKey) {
    throw new Error(`erne keys create printed ${out}`);
  }
  return want;
}
