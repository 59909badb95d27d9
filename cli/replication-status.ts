/**
 * `erne replication status`: asks each region's gateway for its replication status
 * (replication/status-client.ts) and prints one row per source→destination pair, or with
 * --json the combined document. A region that cannot be reached is one line on stderr (and
 * exit code 1); the others are still shown.
 */
import type { DestinationStatus } from '../replication/monitor.js';
import { readStatuses, type StatusReading, type StatusSource } from '../replication/status-client.js';
import { loadRegions, TopologyError } from '../replication/topology.js';
import { UsageError, type FlagValues } from './args.js';
import { CommandError } from './errors.js';

export const DEFAULT_STATUS_ENDPOINT = 'http://127.0.0.1:9000';

/** --endpoint (each its own source) and --cluster (one source per region, its internal URLs) */
export function statusSources(flags: FlagValues): StatusSource[] {
  const endpoints = typeof flags['endpoint'] === 'string' ? flags['endpoint'].split(',').filter(Boolean) : [];
  for (const e of endpoints) {
    let url: URL | undefined;
    try {
      url = new URL(e);
    } catch {
      // said below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`--endpoint: expected an http(s) URL, got ${JSON.stringify(e)}`);
  }
  const sources: StatusSource[] = endpoints.map((e) => ({ urls: [e] }));
  const file = flags['cluster'];
  if (typeof file === 'string') {
    try {
      sources.push(...loadRegions(file).map((r) => ({ region: r.name, urls: r.internal })));
    } catch (err) {
      if (err instanceof TopologyError) throw new CommandError(err.message);
      throw err;
    }
  }
  return sources.length > 0 ? sources : [{ urls: [DEFAULT_STATUS_ENDPOINT] }];
}

/** 0.8 ms, 12 ms, 3.4 s, 5 min */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function depth(d: DestinationStatus): string {
  return d.outboxDepthCapped ? `≥${d.outboxDepth}` : String(d.outboxDepth);
}

export function statusTable(readings: StatusReading[]): string {
  const head = ['from', 'to', 'outbox', 'queue', 'oldest unapplied', 'lag p50', 'lag p99', 'delivered', 'failed'];
  const rows: string[][] = [];
  for (const r of readings) {
    if (!('status' in r)) continue;
    for (const d of r.status.destinations) {
      const oldest = d.oldestUnappliedSeconds === null ? null : d.oldestUnappliedSeconds * 1000;
      rows.push([r.status.region, d.dest, depth(d), d.queueDepth === null ? '-' : String(d.queueDepth), duration(oldest), duration(d.lag?.p50Ms), duration(d.lag?.p99Ms), String(d.delivered), String(d.failed)]);
    }
  }
  if (rows.length === 0) return '';
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const lines = all.map((row) => row.map((v, i) => (i < 2 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ').trimEnd());
  const notes: string[] = [];
  const window = readings.find((r) => 'status' in r);
  if (window && 'status' in window) notes.push(`lag: commit to the destination's "applied", over the last ${window.status.lagWindowSeconds} s; counts since each gateway started`);
  for (const r of readings) {
    if ('status' in r && !r.status.delivering) notes.push(`${r.status.region} (${r.endpoint}): this process does not deliver (with --workers only worker 0 does): no queue depth or lag`);
    if ('status' in r) for (const d of r.status.destinations) if (d.queueError) notes.push(`${r.status.region}→${d.dest}: queue depth unknown: ${d.queueError}`);
  }
  return [...lines, ...notes].join('\n') + '\n';
}

/** the line for a region that could not be read */
export function failureLine(r: StatusReading): string | undefined {
  if (!('error' in r)) return undefined;
  return `${r.region ? `${r.region} at ` : ''}${r.endpoint} ${r.error}`;
}

export async function replicationStatus(flags: FlagValues, out: (s: string) => void, err: (s: string) => void): Promise<void> {
  const readings = await readStatuses(statusSources(flags));
  if (flags['json']) out(JSON.stringify({ regions: readings }, null, 2) + '\n');
  else out(statusTable(readings));
  const failures = readings.map(failureLine).filter((l): l is string => l !== undefined);
  for (const l of failures) err(`erne: ${l}\n`);
  if (failures.length > 0) process.exitCode = 1;
}
