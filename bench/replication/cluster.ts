/**
 * The three regions the replication bench loads: `erne dev` (cli/dev/) run as a child process
 * on a fresh temp directory, so the bench starts exactly what a user starts (per region a
 * redis-server and a gateway, replication between them, no injected latency), reads where
 * they answer from its --json line, and stops them all with one SIGTERM.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DevSummary } from '../../cli/dev/summary.js';

const ERNE_JS = fileURLToPath(new URL('../../cli/erne.js', import.meta.url));

export interface BenchCluster {
  summary: DevSummary;
  pid: number;
  stop(): Promise<void>;
}

export async function startCluster(regions: string[], startTimeoutMs = 60_000): Promise<BenchCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'erne-bench-regions-'));
  const logFile = join(dir, 'erne-dev.log');
  const logFd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [ERNE_JS, 'dev', '--regions', regions.join(','), '--data-dir', join(dir, 'data'), '--json'], {
    // the bench's own ERNE_* settings are not the cluster's
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ERNE_DEV_'))),
    stdio: ['ignore', 'pipe', logFd],
  });
  closeSync(logFd);
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const summary = await new Promise<DevSummary>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`erne dev did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}: ${readFileSync(logFile, 'utf8').slice(-1500)}`));
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as DevSummary);
    });
    void gone.then(() => fail(new Error(`erne dev exited (${exited})`)));
  }).catch((err: unknown) => {
    cleanup();
    throw err;
  });
  return {
    summary,
    pid: child.pid!,
    async stop() {
      if (exited === undefined) {
        child.kill('SIGTERM');
        // a second signal makes erne dev kill what is left at once
        const timer = setTimeout(() => child.kill('SIGTERM'), 15_000);
        await gone;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}
