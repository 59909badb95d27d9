/**
 * The replication case: three regions on loopback (./cluster.ts), 1 KiB PUTs spread over
 * them, first at a steady rate (open loop, ./pacing.ts), then at full speed (N concurrent).
 * Per phase it reports:
 * - lag, as a client sees it: for every k-th PUT, from its answer to the object answering HEAD
 *   in each other region, polled by a separate client every `pollMs`, then every quarter of the
 *   time waited (so a figure includes up to one poll interval and one HEAD);
 * - the gateways' own lag histogram over the phase (./gateway-metrics.ts), as a cross-check,
 *   and the CPU time they spent per PUT (the PUT and its replication to the other regions);
 * - the backlog (outbox entries waiting, over every pair) sampled during the load, whether it
 *   stayed bounded (./backlog.ts), and how long it took to drain once the load stopped.
 */
import type { DevSummary } from '../../cli/dev/summary.js';
import type { ReplicationStatus } from '../../replication/monitor.js';
import { BenchClient, BenchError } from '../client.js';
import { Histogram } from '../histogram.js';
import type { Check } from '../verdict.js';
import { judgeBacklog, type BacklogSample, type BacklogVerdict } from './backlog.js';
import { pace } from './pacing.js';
import { bucketDelta, bucketQuantile, scrapeGateways } from './gateway-metrics.js';

export interface ReplicationBenchOptions {
  ratePerSec: number;
  steadyMs: number;
  fullMs: number;
  /** concurrent PUTs at full speed */
  concurrency: number;
  size: number;
  /** every k-th PUT is watched in the other regions */
  sampleEvery: number;
  pollMs: number;
  say: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<ReplicationBenchOptions, 'say'> = { ratePerSec: 200, steadyMs: 10_000, fullMs: 10_000, concurrency: 32, size: 1024, sampleEvery: 20, pollMs: 2 };

export interface LagFigures {
  /** (PUT, other region) pairs watched */
  probes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** watched objects not seen within the deadline */
  unseen: number;
}

export interface PhaseResult {
  name: string;
  puts: number;
  errors: number;
  errorSample?: string;
  putsPerSec: number;
  lag: LagFigures;
  /** the gateways' histogram over the phase: upper bounds of the buckets holding p50/p99, ms */
  serverLag: { samples: number; p50LeMs?: number; p99LeMs?: number };
  /** gateway CPU time over the phase ÷ PUTs: one PUT and its delivery to and apply in the other regions */
  cpuMsPerPut: number;
  backlog: BacklogVerdict;
  backlogSamples: BacklogSample[];
  /** from the last PUT's answer to every outbox and queue empty; null: not within the deadline */
  drainMs: number | null;
  /** steady phase: the latest a PUT started after its due time */
  maxLateMs?: number;
}

export interface ReplicationBenchResult {
  regions: string[];
  options: Omit<ReplicationBenchOptions, 'say'>;
  steady: PhaseResult;
  full: PhaseResult;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DRAIN_DEADLINE_MS = 120_000;
const SEEN_DEADLINE_MS = 60_000;

interface Region {
  name: string;
  endpoint: string;
  put: BenchClient;
  probe: BenchClient;
}

async function statuses(regions: Region[]): Promise<ReplicationStatus[]> {
  return Promise.all(regions.map(async (r) => (await (await fetch(`${r.endpoint}/.erne/replication`)).json()) as ReplicationStatus));
}

/** outbox entries and queue jobs waiting, over every pair */
async function backlog(regions: Region[]): Promise<{ outbox: number; queue: number }> {
  const all = (await statuses(regions)).flatMap((s) => s.destinations);
  return { outbox: all.reduce((a, d) => a + d.outboxDepth, 0), queue: all.reduce((a, d) => a + (d.queueDepth ?? 0), 0) };
}

/**
 * The wait before the next HEAD of a watched object: `pollMs` at first, then a quarter of the
 * time waited so far, so a figure is within 25 % (or pollMs) of the truth and a lag of seconds
 * costs a few dozen HEADs, not thousands that would slow the regions they measure.
 */
export function nextPollDelay(waitedMs: number, pollMs: number): number {
  return Math.max(pollMs, waitedMs / 4);
}

/** ms from t0 until HEAD finds the object; undefined when it does not within the deadline */
async function seenAfter(c: BenchClient, bucket: string, key: string, t0: number, pollMs: number): Promise<number | undefined> {
  for (;;) {
    try {
      await c.head(bucket, key);
      return performance.now() - t0;
    } catch (err) {
      if (!(err instanceof BenchError && err.status === 404)) throw err;
    }
    const waited = performance.now() - t0;
    if (waited > SEEN_DEADLINE_MS) return undefined;
    await sleep(nextPollDelay(waited, pollMs));
  }
}

class Phase {
  readonly lag = new Histogram();
  unseen = 0;
  puts = 0;
  errors = 0;
  errorSample: string | undefined;
  lastAnswer = 0;
  private readonly probes: Promise<void>[] = [];

  constructor(
    readonly name: string,
    private readonly regions: Region[],
    private readonly bucket: string,
    private readonly o: ReplicationBenchOptions,
  ) {}

  /** PUT number i into region i mod n; every k-th is then watched in the other regions */
  async put(i: number): Promise<void> {
    const from = this.regions[i % this.regions.length]!;
    const key = `${this.name}/${i}`;
    try {
      await from.put.put(this.bucket, key, this.o.size);
    } catch (err) {
      this.errors++;
      this.errorSample ??= (err as Error).message;
      return;
    }
    const t0 = performance.now();
    this.lastAnswer = t0;
    this.puts++;
    if (i % this.o.sampleEvery !== 0) return;
    for (const other of this.regions) {
      if (other === from) continue;
      this.probes.push(
        seenAfter(other.probe, this.bucket, key, t0, this.o.pollMs).then(
          (ms) => (ms === undefined ? void this.unseen++ : this.lag.record(ms * 1000)),
          () => void this.unseen++,
        ),
      );
    }
  }

  async settled(): Promise<LagFigures> {
    await Promise.all(this.probes);
    const ms = (q: number) => this.lag.quantile(q) / 1000;
    return { probes: this.lag.count + this.unseen, p50Ms: ms(0.5), p99Ms: ms(0.99), maxMs: this.lag.maxUs / 1000, unseen: this.unseen };
  }
}

async function runPhase(name: string, regions: Region[], bucket: string, o: ReplicationBenchOptions, load: (p: Phase) => Promise<{ maxLateMs?: number }>): Promise<PhaseResult> {
  const endpoints = regions.map((r) => r.endpoint);
  const before = await scrapeGateways(endpoints);
  const p = new Phase(name, regions, bucket, o);
  const samples: BacklogSample[] = [];
  let loading = true;
  const t0 = performance.now();
  const sampler = (async () => {
    while (loading) {
      const b = await backlog(regions).catch(() => undefined);
      if (b) samples.push({ t: performance.now() - t0, depth: b.outbox });
      await sleep(100);
    }
  })();
  const { maxLateMs } = await load(p);
  const loadMs = performance.now() - t0;
  loading = false;
  await sampler;
  // the backlog drains from the last answer on
  let drainMs: number | null = null;
  for (;;) {
    const b = await backlog(regions);
    if (b.outbox === 0 && b.queue === 0) {
      drainMs = Math.max(0, performance.now() - p.lastAnswer);
      break;
    }
    if (performance.now() - p.lastAnswer > DRAIN_DEADLINE_MS) break;
    await sleep(20);
  }
  const lag = await p.settled();
  const after = await scrapeGateways(endpoints);
  const delta = bucketDelta(before.lag, after.lag);
  const le = (q: number) => {
    const v = bucketQuantile(delta, q);
    return v === undefined ? undefined : v * 1000;
  };
  return {
    name,
    puts: p.puts,
    errors: p.errors,
    ...(p.errorSample ? { errorSample: p.errorSample } : {}),
    putsPerSec: p.puts / (loadMs / 1000),
    lag,
    serverLag: { samples: delta.get(Infinity) ?? 0, p50LeMs: le(0.5), p99LeMs: le(0.99) },
    cpuMsPerPut: p.puts > 0 ? ((after.cpuSeconds - before.cpuSeconds) * 1000) / p.puts : 0,
    backlog: judgeBacklog(samples, Math.max(50, (p.puts / (loadMs / 1000)) * 0.5 * (regions.length - 1))),
    backlogSamples: samples,
    drainMs,
    ...(maxLateMs !== undefined ? { maxLateMs } : {}),
  };
}

export async function runReplicationBench(cluster: DevSummary, o: ReplicationBenchOptions): Promise<ReplicationBenchResult> {
  const regions: Region[] = cluster.regions.map((r) => {
    const keys = { endpoint: r.endpoint, accessKey: cluster.accessKeyId, secretKey: cluster.secretAccessKey, region: r.name };
    return { name: r.name, endpoint: r.endpoint, put: new BenchClient({ ...keys, connections: o.concurrency }), probe: new BenchClient({ ...keys, connections: 32 }) };
  });
  try {
    const bucket = `repl-bench-${Date.now().toString(36)}`;
    await regions[0]!.put.createBucket(bucket);
    for (const r of regions) {
      const deadline = Date.now() + 30_000;
      while (!(await r.probe.request('HEAD', bucket, undefined).then(() => true, () => false))) {
        if (Date.now() > deadline) throw new Error(`the bucket did not reach ${r.name} within 30 s`);
        await sleep(20);
      }
    }
    const n = Math.floor((o.steadyMs * o.ratePerSec) / 1000);
    o.say(`  steady: ${o.ratePerSec} PUT/s for ${o.steadyMs / 1000} s, every ${o.sampleEvery}th watched in the other regions\n`);
    const steady = await runPhase(`steady-${o.ratePerSec}`, regions, bucket, o, (p) => pace(n, o.ratePerSec, (i) => p.put(i), { maxInFlight: 4 * o.concurrency }));
    o.say(`  ${line(steady)}\n`);
    o.say(`  full speed: ${o.concurrency} concurrent PUTs for ${o.fullMs / 1000} s\n`);
    const full = await runPhase('full', regions, bucket, o, async (p) => {
      const end = performance.now() + o.fullMs;
      let next = 0;
      await Promise.all(
        Array.from({ length: o.concurrency }, async () => {
          while (performance.now() < end) await p.put(next++);
        }),
      );
      return {};
    });
    o.say(`  ${line(full)}\n`);
    const { say: _say, ...options } = o;
    return { regions: regions.map((r) => r.name), options, steady, full };
  } finally {
    await Promise.all(regions.flatMap((r) => [r.put.close(), r.probe.close()]));
  }
}

const f = (v: number | undefined, digits = 1) => (v === undefined ? '—' : v.toFixed(digits));

/** one line per phase, for the progress output */
export function line(p: PhaseResult): string {
  return (
    `${p.name}: ${p.puts} PUTs (${f(p.putsPerSec, 0)}/s, ${p.errors} errors); lag p50 ${f(p.lag.p50Ms)} ms, p99 ${f(p.lag.p99Ms)} ms over ${p.lag.probes} probes` +
    `${p.lag.unseen ? ` (${p.lag.unseen} unseen)` : ''}; ${f(p.cpuMsPerPut, 2)} ms gateway CPU per PUT; backlog max ${p.backlog.maxDepth}, ${p.backlog.bounded ? 'bounded' : 'GROWING'}; drained ${p.drainMs === null ? 'NOT within the deadline' : `${f(p.drainMs, 0)} ms`} after the load`
  );
}

/** the table of both phases */
export function formatReplication(r: ReplicationBenchResult): string {
  const head = ['phase', 'PUTs', 'PUT/s', 'lag p50', 'lag p99', 'lag max', 'probes', 'server p50', 'server p99', 'backlog max', 'at stop', 'bounded', 'drained in', 'CPU/PUT'];
  const row = (p: PhaseResult, title: string) => [
    title,
    String(p.puts),
    f(p.putsPerSec, 0),
    `${f(p.lag.p50Ms)} ms`,
    `${f(p.lag.p99Ms)} ms`,
    `${f(p.lag.maxMs)} ms`,
    `${p.lag.probes}${p.lag.unseen ? ` (${p.lag.unseen} unseen)` : ''}`,
    p.serverLag.p50LeMs === undefined ? '—' : `≤ ${p.serverLag.p50LeMs} ms`,
    p.serverLag.p99LeMs === undefined ? '—' : `≤ ${p.serverLag.p99LeMs} ms`,
    String(p.backlog.maxDepth),
    String(p.backlog.endDepth),
    p.backlog.bounded ? 'yes' : 'NO',
    p.drainMs === null ? 'not drained' : `${f(p.drainMs, 0)} ms`,
    `${f(p.cpuMsPerPut, 2)} ms`,
  ];
  const rows = [head, row(r.steady, `${r.options.ratePerSec} PUT/s, ${r.options.steadyMs / 1000} s`), row(r.full, `full speed (c${r.options.concurrency}), ${r.options.fullMs / 1000} s`)];
  const w = head.map((_, i) => Math.max(...rows.map((x) => x[i]!.length)));
  return [
    `replication: ${r.regions.length} regions on loopback (${r.regions.join(', ')}; erne dev, no injected latency), ${r.options.size} B PUTs spread over the regions`,
    ...rows.map((x) => x.map((v, i) => (i === 0 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ')),
    `lag: from a PUT's answer to HEAD finding the object in another region (every ${r.options.sampleEvery}th PUT; HEAD every ${r.options.pollMs} ms, later every quarter of the wait so far);`,
    "server: the gateways' erne_replication_lag_seconds over the phase (commit to the destination's answer), as histogram bucket bounds;",
    'backlog: outbox entries waiting over every pair, sampled every 100 ms; drained: from the last PUT answer to every outbox and queue empty;',
    "CPU/PUT: the gateways' CPU time over the phase per PUT, its replication to the other regions included (probes and status reads too).",
  ].join('\n');
}

/** the issue's targets: lag at the steady rate, a bounded backlog, and a quick drain after full speed */
export function replicationChecks(r: ReplicationBenchResult): Check[] {
  const s = r.steady;
  const rate = `${r.options.ratePerSec} PUT/s`;
  return [
    { name: `replication: lag p50 < 20 ms at ${rate}`, value: `${f(s.lag.p50Ms)} ms (server ≤ ${f(s.serverLag.p50LeMs, 0)} ms)`, met: s.lag.p50Ms < 20 && s.lag.unseen === 0 },
    { name: `replication: lag p99 < 100 ms at ${rate}`, value: `${f(s.lag.p99Ms)} ms (server ≤ ${f(s.serverLag.p99LeMs, 0)} ms)`, met: s.lag.p99Ms < 100 && s.lag.unseen === 0 },
    { name: `replication: backlog bounded at ${rate}`, value: `max ${s.backlog.maxDepth}, ${s.backlog.endDepth} when the load stopped`, met: s.backlog.bounded },
    {
      name: 'replication: backlog drained within 2 s after full speed',
      value: `${r.full.drainMs === null ? 'not drained' : `${f(r.full.drainMs, 0)} ms`} (max ${r.full.backlog.maxDepth} entries at ${f(r.full.putsPerSec, 0)} PUT/s)`,
      met: r.full.drainMs !== null && r.full.drainMs < 2000,
    },
  ];
}
