/**
 * `erne dev` as a child process (`node dist/cli/erne.js dev … --json`; `npm run build` first):
 * resolves once it has printed its endpoints, and gives what tests need to drive and check it
 * (its output, waiting for a line, every process it started by pid, a signal to stop it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import http from 'node:http';
import { ERNE_JS } from './child.js';
import type { DevSummary, RegionSummary } from '../../cli/dev/summary.js';

export interface ErneDev {
  proc: ChildProcess;
  summary: DevSummary;
  /** stdout and stderr so far */
  output(): string;
  /** resolves with the first match of `re` in the output from `from` on (polls, with a deadline) */
  waitFor(re: RegExp, from?: number, ms?: number): Promise<RegExpMatchArray>;
  /** a client for one region's endpoint with the printed root key */
  client(region: RegionSummary): S3Client;
  /** sends the signal and resolves with the exit code once it has exited */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startErneDev(args: string[], env: Record<string, string> = {}, opts: { readyMs?: number } = {}): Promise<ErneDev> {
  const proc = spawn(process.execPath, [ERNE_JS, 'dev', '--json', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const readyMs = opts.readyMs ?? 60_000;
  const deadline = Date.now() + readyMs;
  while (!stdout.includes('\n')) {
    if (proc.exitCode !== null) throw new Error(`erne dev exited early (code ${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`erne dev printed no endpoints within ${readyMs / 1000} s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const summary = JSON.parse(stdout.split('\n')[0]!) as DevSummary;

  return {
    proc,
    summary,
    output: () => out,
    async waitFor(re, from = 0, ms = 30_000) {
      const until = Date.now() + ms;
      for (;;) {
        const m = out.slice(from).match(re);
        if (m) return m;
        if (Date.now() > until) throw new Error(`no ${re} in erne dev's output within ${ms / 1000} s:\n${out.slice(from)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    client(region) {
      return new S3Client({
        endpoint: region.endpoint,
        region: region.name,
        forcePathStyle: true,
        credentials: { accessKeyId: summary.accessKeyId, secretAccessKey: summary.secretAccessKey },
        maxAttempts: 1,
        // processes behind it get killed: no connection outlives a request
        requestHandler: { httpAgent: new http.Agent({ keepAlive: false }) },
      });
    },
    async stop(signal = 'SIGINT') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** every live process below `pid` (children, their children …), from /proc */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // fields after the command name (which may hold spaces): state, ppid, …
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') parent.set(Number(name), Number(ppid));
    } catch {
      /* gone meanwhile */
    }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) found.push(child), walk(child);
  };
  walk(pid);
  return found;
}

/** the live process's command line, or undefined when it is gone (or a zombie) */
export function commandOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return undefined;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}
