/**
 * What `erne serve` checks before it touches anything, so the usual mistakes (a port in use,
 * an address this machine does not have, a data directory that is a file or not writable)
 * end with one line that says what to change, and a failed start leaves no data directory
 * behind that it made itself.
 */
import { constants } from 'node:fs';
import { access, mkdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { dirname } from 'node:path';
import { ACCESS_KEY_ID_PATTERN, SECRET_KEY_PATTERN } from '../metadata/keygen.js';
import { UsageError, type FlagValues } from './args.js';
import { lockDataDir } from './data-lock.js';
import { CommandError } from './errors.js';

interface SystemError {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
}

/** a listen error as the one line an operator needs, or undefined when it is no such error */
export function listenProblem(err: unknown, host: string, port: number, flag = '--port'): string | undefined {
  const e = err as SystemError;
  switch (e?.code) {
    case 'EADDRINUSE':
      return `port ${e.port ?? port} on ${host} is already in use (another server is listening there); choose another with ${flag}`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${host}: no network interface of this machine has that address (--host)`;
    case 'EACCES':
      return e.syscall === 'listen' || e.syscall === 'bind' ? `no permission to listen on port ${port} (ports below 1024 need root); choose another with ${flag}` : undefined;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${host}: no such host name (--host)`;
    default:
      return undefined;
  }
}

/**
 * Listens on host:port and closes again, so a port in use or a foreign address is found before
 * the data directory is touched. Port 0 is any free port and needs no probe.
 */
export async function probeListen(host: string, port: number, flag = '--port'): Promise<void> {
  if (port === 0) return;
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => resolve());
    });
  } catch (err) {
    const problem = listenProblem(err, host, port, flag);
    if (problem) throw new CommandError(problem);
    throw err;
  }
  await new Promise((resolve) => server.close(resolve));
}

function reason(err: unknown): string {
  const code = (err as SystemError).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  return (err as Error).message;
}

/** the nearest existing ancestor of a path, to say which part of it is a file */
async function nearestExisting(path: string): Promise<string> {
  for (let p = dirname(path); ; p = dirname(p)) {
    try {
      await stat(p);
      return p;
    } catch {
      if (dirname(p) === p) return p;
    }
  }
}

/**
 * Makes sure the data directory can be used: an existing one must be a writable directory
 * (it is not changed here); a missing one is created. Returns the topmost directory this call
 * created, which a failed start removes again (removeCreated), or undefined.
 */
export async function prepareDataDir(dir: string): Promise<string | undefined> {
  let isDir: boolean | undefined;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (err) {
    const code = (err as SystemError).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new CommandError(`cannot use --data-dir ${dir}: ${reason(err)}`);
  }
  if (isDir === false) throw new CommandError(`--data-dir ${dir} is a file, not a directory`);
  if (isDir) {
    try {
      await access(dir, constants.W_OK | constants.X_OK);
    } catch {
      throw new CommandError(`--data-dir ${dir} is not writable by this user`);
    }
    return undefined;
  }
  try {
    return await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as SystemError).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') throw new CommandError(`cannot create --data-dir ${dir}: ${await nearestExisting(dir)} is a file`);
    throw new CommandError(`cannot create --data-dir ${dir}: ${reason(err)}`);
  }
}

/** undoes prepareDataDir's creation after a failed start; an existing directory is never removed */
export async function removeCreated(created: string | undefined): Promise<void> {
  if (created !== undefined) await rm(created, { recursive: true, force: true });
}

export interface PreparedStart {
  /** after a failed start: the lock is released and a data directory this start made is removed */
  undo(): Promise<void>;
}

/** the checks above in order, then the data directory's lock (cli/data-lock.ts) */
export async function prepareStart(flags: FlagValues): Promise<PreparedStart> {
  const host = String(flags['host']);
  await probeListen(host, Number(flags['port']));
  if (flags['metrics-port'] !== undefined) await probeListen(host, Number(flags['metrics-port']), '--metrics-port');
  const created = await prepareDataDir(String(flags['data-dir']));
  let lock;
  try {
    lock = lockDataDir(String(flags['data-dir']));
  } catch (err) {
    await removeCreated(created);
    throw err;
  }
  return {
    async undo() {
      lock.release();
      await removeCreated(created);
    },
  };
}

/** THE root key named by the environment (gateway/credentials.ts), both halves or neither */
export function rootFromEnv(env: Record<string, string | undefined>): { rootAccessKey?: string; rootSecretKey?: string } {
  const id = env['ERNE_ROOT_ACCESS_KEY'] || undefined;
  const secret = env['ERNE_ROOT_SECRET_KEY'] || undefined;
  if (id === undefined && secret === undefined) return {};
  if (id === undefined || secret === undefined) {
    const [set, unset] = id === undefined ? ['ERNE_ROOT_SECRET_KEY', 'ERNE_ROOT_ACCESS_KEY'] : ['ERNE_ROOT_ACCESS_KEY', 'ERNE_ROOT_SECRET_KEY'];
    throw new UsageError(`${set} is set but ${unset} is not: set both to name the root key, or neither to use the generated one`);
  }
  if (!ACCESS_KEY_ID_PATTERN.test(id)) throw new UsageError('ERNE_ROOT_ACCESS_KEY: 3 to 128 characters from A-Z a-z 0-9 . _ -');
  if (!SECRET_KEY_PATTERN.test(secret)) throw new UsageError('ERNE_ROOT_SECRET_KEY: 8 to 128 printable characters, no spaces');
  return { rootAccessKey: id, rootSecretKey: secret };
}
