/**
 * The coordinator: prepares the workload once, runs the load in --procs processes (forked
 * ./worker.js children, or in this process when there is one), prints a progress line,
 * samples the server's RSS/CPU when it runs on this machine, and merges what the processes
 * measured into one result (histograms added, never percentiles averaged).
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BenchClient } from './client.js';
import { Histogram } from './histogram.js';
import { pidListeningOn, sampleProcess, type ServerUsage } from './procstat.js';
import { runLoad, type Progress, type WorkerMessage, type WorkerReport } from './worker.js';
import { PREPARE_CONCURRENCY, type BenchConfig } from './workload.js';
import { WORKLOADS } from './workloads/index.js';

export interface OpSummary {
  ops: number;
  opsPerSec: number;
  mibPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface BenchResult {
  workload: string;
  /** a label for the system measured (compare runs set it) */
  target?: string;
  config: Omit<BenchConfig, 'secretKey'>;
  keys: number;
  startedAt: string;
  elapsedMs: number;
  total: OpSummary;
  byOp: Record<string, OpSummary>;
  errorCount: number;
  errors: Record<string, number>;
  errorSamples: Record<string, string>;
  /** per second: ops/s and MiB/s over all processes */
  series: { t: number; opsPerSec: number; mibPerSec: number }[];
  client: { procs: number; cpuPercent: number };
  server?: ServerUsage;
}

export interface RunOptions {
  /** one line of progress (rewritten in place on a terminal) */
  progress?: (line: string) => void;
  log?: (line: string) => void;
  /** pid of the server to sample; default: whoever listens on the endpoint's port, if local */
  serverPid?: number;
  target?: string;
}

const MiB = 1024 * 1024;

/** dist/bench/worker.js, also when this module runs from source under a test runner */
function workerScript(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  if (existsSync(here)) return here;
  const dist = fileURLToPath(new URL('../dist/bench/worker.js', import.meta.url));
  if (existsSync(dist)) return dist;
  throw new Error(`no compiled worker at ${here} or ${dist}: run 'npx tsc -p tsconfig.json' first`);
}

function forkWorker(config: BenchConfig, proc: number, keys: number, onProgress: (p: Progress) => void): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    const child = fork(workerScript(), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let done = false;
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m.progress);
      else if (m.type === 'done') {
        done = true;
        resolve(m.report);
      } else {
        done = true;
        reject(new Error(`load process ${proc} failed: ${m.message}`));
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (!done) reject(new Error(`load process ${proc} exited with code ${code} before reporting`));
    });
    child.send({ type: 'run', config, proc, keys });
  });
}

function summarize(h: Histogram, bytes: number, secs: number): OpSummary {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    ops: h.count,
    opsPerSec: h.count / secs,
    mibPerSec: bytes / MiB / secs,
    p50Ms: ms(h.quantile(0.5)),
    p90Ms: ms(h.quantile(0.9)),
    p99Ms: ms(h.quantile(0.99)),
    maxMs: ms(h.maxUs),
    meanMs: ms(h.meanUs()),
  };
}

/** merges the processes' reports into one result */
export function mergeReports(reports: WorkerReport[], base: Pick<BenchResult, 'workload' | 'config' | 'keys' | 'startedAt' | 'target'>): BenchResult {
  const elapsedMs = Math.max(...reports.map((r) => r.elapsedMs));
  const secs = elapsedMs / 1000;
  const byKind = new Map<string, { h: Histogram; bytes: number }>();
  const total = new Histogram();
  let totalBytes = 0;
  const errors: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  const seriesOps: number[] = [];
  const seriesBytes: number[] = [];
  for (const r of reports) {
    for (const [op, data] of Object.entries(r.ops)) {
      const e = byKind.get(op) ?? { h: new Histogram(), bytes: 0 };
      e.h.merge(data);
      e.bytes += r.bytes[op] ?? 0;
      byKind.set(op, e);
      total.merge(data);
      totalBytes += r.bytes[op] ?? 0;
    }
    for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
    for (const [code, msg] of Object.entries(r.errorSamples)) errorSamples[code] ??= msg;
    r.series.ops.forEach((n, i) => (seriesOps[i] = (seriesOps[i] ?? 0) + n));
    r.series.bytes.forEach((n, i) => (seriesBytes[i] = (seriesBytes[i] ?? 0) + n));
  }
  // the last second is usually partial: scale it to a rate over the part that ran
  const series = Array.from({ length: seriesOps.length }, (_, i) => {
    const width = Math.min(1, secs - i) || 1;
    return { t: i, opsPerSec: (seriesOps[i] ?? 0) / width, mibPerSec: (seriesBytes[i] ?? 0) / MiB / width };
  });
  const cpuUs = reports.reduce((a, r) => a + r.cpuUs, 0);
  return {
    ...base,
    elapsedMs,
    total: summarize(total, totalBytes, secs),
    byOp: Object.fromEntries([...byKind].sort().map(([op, e]) => [op, summarize(e.h, e.bytes, secs)])),
    errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
    errors,
    errorSamples,
    series,
    client: { procs: reports.length, cpuPercent: (100 * cpuUs) / 1000 / elapsedMs },
  };
}

function localPort(endpoint: string): number | undefined {
  const url = new URL(endpoint);
  if (!['localhost', '127.0.0.1', '[::1]', '0.0.0.0'].includes(url.hostname)) return undefined;
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

export async function runBench(config: BenchConfig, opts: RunOptions = {}): Promise<BenchResult> {
  const workload = WORKLOADS[config.workload];
  if (!workload) throw new Error(`unknown workload '${config.workload}' (one of: ${Object.keys(WORKLOADS).join(', ')})`);
  const log = opts.log ?? (() => undefined);
  const progressLine = opts.progress ?? (() => undefined);
  const keys = config.keys > 0 ? config.keys : workload.defaultKeys(config);

  if (workload.prepare) {
    const client = new BenchClient({ ...config, connections: PREPARE_CONCURRENCY });
    try {
      await workload.prepare({ config, client, keys, log });
    } finally {
      await client.close();
    }
  }

  const port = localPort(config.endpoint);
  const pid = opts.serverPid ?? (port !== undefined ? pidListeningOn(port) : undefined);
  // the server is sampled over the measured part only, not the warm-up
  let sampler: ReturnType<typeof sampleProcess> | undefined;
  const samplerStart = setTimeout(() => (sampler = pid !== undefined ? sampleProcess(pid) : undefined), config.warmupMs);
  const startedAt = new Date().toISOString();
  const progress: Progress[] = Array.from({ length: config.procs }, () => ({ ops: 0, bytes: 0, errors: 0 }));
  const t0 = performance.now();
  const ticker = setInterval(() => {
    const secs = (performance.now() - t0 - config.warmupMs) / 1000;
    if (secs <= 0) return progressLine(`${config.workload} warming up`);
    const sum = progress.reduce((a, p) => ({ ops: a.ops + p.ops, bytes: a.bytes + p.bytes, errors: a.errors + p.errors }), { ops: 0, bytes: 0, errors: 0 });
    progressLine(
      `${config.workload} ${Math.min(secs, config.durationMs / 1000).toFixed(0)}/${(config.durationMs / 1000).toFixed(0)}s  ` +
        `${sum.ops} ops  ${(sum.ops / secs).toFixed(0)} ops/s  ${(sum.bytes / MiB / secs).toFixed(1)} MiB/s  ${sum.errors} errors`,
    );
  }, 1000);
  let reports: WorkerReport[];
  try {
    reports =
      config.procs === 1
        ? [await runLoad(config, 0, keys, (p) => (progress[0] = p))]
        : await Promise.all(Array.from({ length: config.procs }, (_, i) => forkWorker(config, i, keys, (p) => (progress[i] = p))));
  } finally {
    clearInterval(ticker);
  }
  clearTimeout(samplerStart);
  const server = (sampler as ReturnType<typeof sampleProcess> | undefined)?.stop();
  const { secretKey: _secret, ...shown } = config;
  const result = mergeReports(reports, { workload: config.workload, config: shown, keys, startedAt, target: opts.target });
  if (server) result.server = server;
  return result;
}
