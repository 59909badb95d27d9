/**
 * One load process: `concurrency` slots each repeat the workload's operation until the time
 * is up, recording latency per operation kind into histograms and ops/bytes per second.
 * Runs in the coordinator when --procs is 1, or as a forked child that gets its config by
 * IPC and sends progress and its final report back (see ./runner.ts).
 */
import { pathToFileURL } from 'node:url';
import { BenchClient, BenchError } from './client.js';
import { Histogram, type HistogramData } from './histogram.js';
import type { BenchConfig } from './workload.js';
import { WORKLOADS } from './workloads/index.js';

export interface Progress {
  ops: number;
  bytes: number;
  errors: number;
}

export interface WorkerReport {
  proc: number;
  elapsedMs: number;
  /** latency histograms per operation kind */
  ops: Record<string, HistogramData>;
  bytes: Record<string, number>;
  errors: Record<string, number>;
  /** the first message seen for each error code */
  errorSamples: Record<string, string>;
  /** per whole second since start: completed ops and bytes */
  series: { ops: number[]; bytes: number[] };
  /** CPU time this process used while loading, µs */
  cpuUs: number;
}

export type WorkerMessage = { type: 'progress'; progress: Progress } | { type: 'done'; report: WorkerReport } | { type: 'failed'; message: string };

export async function runLoad(config: BenchConfig, proc: number, keys: number, onProgress: (p: Progress) => void): Promise<WorkerReport> {
  const workload = WORKLOADS[config.workload];
  if (!workload) throw new Error(`unknown workload ${config.workload}`);
  const client = new BenchClient({ ...config, connections: config.concurrency });
  const op = await workload.start({ config, client, keys, proc });
  const hists = new Map<string, Histogram>();
  const bytes: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  const series = { ops: [] as number[], bytes: [] as number[] };
  const progress: Progress = { ops: 0, bytes: 0, errors: 0 };

  // warm-up: the same load, uncounted
  const warmEnd = performance.now() + config.warmupMs;
  const warm = async (s: number) => {
    while (performance.now() < warmEnd) await op(s).catch(() => new Promise((r) => setTimeout(r, 5)));
  };
  if (config.warmupMs > 0) await Promise.all(Array.from({ length: config.concurrency }, (_, s) => warm(s)));

  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + config.durationMs;
  const ticker = setInterval(() => onProgress({ ...progress }), 500);

  const slot = async (s: number) => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const r = await op(s);
        const t1 = performance.now();
        let h = hists.get(r.op);
        if (!h) hists.set(r.op, (h = new Histogram()));
        h.record((t1 - t0) * 1000);
        bytes[r.op] = (bytes[r.op] ?? 0) + r.bytes;
        const sec = Math.floor((t1 - start) / 1000);
        series.ops[sec] = (series.ops[sec] ?? 0) + 1;
        series.bytes[sec] = (series.bytes[sec] ?? 0) + r.bytes;
        progress.ops += 1;
        progress.bytes += r.bytes;
      } catch (err) {
        const code = err instanceof BenchError ? err.code : ((err as { code?: string }).code ?? (err as Error).name ?? 'Error');
        errors[code] = (errors[code] ?? 0) + 1;
        errorSamples[code] ??= String((err as Error).message ?? err).slice(0, 300);
        progress.errors += 1;
        // a target refusing everything should not be hammered in a tight loop
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  };
  await Promise.all(Array.from({ length: config.concurrency }, (_, s) => slot(s)));
  const elapsedMs = performance.now() - start;
  clearInterval(ticker);
  const cpu = process.cpuUsage(cpu0);
  await client.close();
  for (const k of ['ops', 'bytes'] as const) for (let i = 0; i < series[k].length; i += 1) series[k][i] ??= 0;
  return {
    proc,
    elapsedMs,
    ops: Object.fromEntries([...hists].map(([k, h]) => [k, h.toJSON()])),
    bytes,
    errors,
    errorSamples,
    series,
    cpuUs: cpu.user + cpu.system,
  };
}

// forked child: wait for one `run` message, load, report, leave
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.once('message', (m: { type: 'run'; config: BenchConfig; proc: number; keys: number }) => {
    const send = (msg: WorkerMessage) => process.send!(msg);
    runLoad(m.config, m.proc, m.keys, (progress) => send({ type: 'progress', progress })).then(
      (report) => send({ type: 'done', report }),
      (err: unknown) => send({ type: 'failed', message: (err as Error)?.stack ?? String(err) }),
    ).finally(() => process.disconnect());
  });
}
