/**
 * One run of the built `erne` command (or another script of dist/) as a child process, as a
 * user runs it, with its exit code and both outputs. Needs `npm run build` first.
 */
import { execFile } from 'node:child_process';
import { ERNE_JS } from './child.js';

export interface CliRun {
  /** exit code; null when it was killed (e.g. it ran past timeoutMs) */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** added to (or, with '' values, blanking) this process's environment */
  env?: Record<string, string>;
  cwd?: string;
  /** run as this user and group (a root test runner checking permission errors) */
  uid?: number;
  gid?: number;
  /** a mistake that does not end the process fails the test instead of hanging it */
  timeoutMs?: number;
  /** the script to run instead of dist/cli/erne.js */
  script?: string;
}

export function runErne(args: string[], opts: RunOptions = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [opts.script ?? ERNE_JS, ...args],
      {
        env: { ...process.env, ...opts.env },
        cwd: opts.cwd,
        uid: opts.uid,
        gid: opts.gid,
        timeout: opts.timeoutMs ?? 20_000,
        killSignal: 'SIGKILL',
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** stack frames as node prints them */
export const STACK_FRAME = /^\s+at /m;
