/** `erne bench`: flags → BenchConfig → runBench → table/JSON on stdout, report files on disk. */
import { UsageError, type FlagValues } from '../cli/args.js';
import { BenchError } from './client.js';
import { formatErrors, formatTable, renderHtml, stamp, writeReport } from './report.js';
import { runBench } from './runner.js';
import { parseDuration, parseSize } from './size.js';
import type { BenchConfig } from './workload.js';
import { WORKLOADS } from './workloads/index.js';

function count(flags: FlagValues, name: string, min: number): number {
  const raw = String(flags[name]);
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new UsageError(`--${name}: expected a whole number ≥ ${min}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function wrap<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

export function benchConfig(flags: FlagValues): BenchConfig {
  const workload = String(flags['workload']);
  if (!WORKLOADS[workload]) throw new UsageError(`--workload: unknown '${workload}' (one of: ${Object.keys(WORKLOADS).join(', ')})`);
  const accessKey = flags['access-key'];
  const secretKey = flags['secret-key'];
  if (typeof accessKey !== 'string' || typeof secretKey !== 'string') throw new UsageError('erne bench: --access-key and --secret-key are required (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)');
  const endpoint = String(flags['endpoint']);
  wrap('endpoint', () => new URL(endpoint));
  return {
    endpoint,
    accessKey,
    secretKey,
    region: String(flags['region']),
    bucket: String(flags['bucket']),
    workload,
    size: wrap('size', () => parseSize(String(flags['size']))),
    partSize: wrap('part-size', () => parseSize(String(flags['part-size']))),
    concurrency: count(flags, 'concurrency', 1),
    durationMs: wrap('duration', () => parseDuration(String(flags['duration']))),
    warmupMs: wrap('warmup', () => parseDuration(String(flags['warmup']))),
    keys: count(flags, 'keys', 0),
    procs: count(flags, 'procs', 1),
  };
}

export async function benchCommand(flags: FlagValues, out: (s: string) => void): Promise<void> {
  const config = benchConfig(flags);
  const tty = process.stderr.isTTY;
  const err = (s: string) => void process.stderr.write(s);
  let result;
  try {
    result = await runBench(config, {
      log: (line) => err(line + '\n'),
      progress: (line) => err(tty ? `\r\x1b[K${line}` : line + '\n'),
      serverPid: flags['pid'] !== undefined ? count(flags, 'pid', 1) : undefined,
    });
  } catch (e) {
    // setting up (bucket, objects to read) failed: one line, not a stack
    if (!(e instanceof BenchError)) throw e;
    err(`erne bench: could not prepare the ${config.workload} workload: ${e.message}\n`);
    process.exitCode = 1;
    return;
  }
  if (tty) err('\r\x1b[K');
  const name = `${config.workload}-${stamp()}`;
  const paths = writeReport(String(flags['out']), name, result, renderHtml(`erne bench: ${config.workload} against ${config.endpoint}`, [result]));
  if (flags['json']) out(JSON.stringify(result, null, 2) + '\n');
  else {
    out(formatTable([result]) + '\n');
    const errors = formatErrors([result]);
    if (errors) out('\nerrors:\n' + errors + '\n');
  }
  err(`report: ${paths.html} (JSON: ${paths.json})\n`);
}
