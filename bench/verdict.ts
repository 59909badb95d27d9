/**
 * What bench:compare concludes: per case, Erne's number beside the peer's and the
 * ceiling's with the ratios, and Erne's performance targets, each met or missed. Pure functions of
 * the results, so the report and the JSON say the same thing.
 */
import type { BenchResult } from './runner.js';
import { barChart } from './svg.js';

export interface Case {
  id: string;
  title: string;
  workload: string;
  size: number;
  concurrency: number;
  durationMs: number;
  /** which number the case is judged by: ops/s, MiB/s, or p50 latency (lower is better) */
  metric: 'ops' | 'mib' | 'p50';
  keys?: number;
}

export type Results = Map<string, Map<string, BenchResult>>;

export const UNIT = { ops: 'ops/s', mib: 'MiB/s', p50: 'p50 ms' } as const;

export function metricOf(c: Case, r: BenchResult | undefined): number | undefined {
  if (!r || r.total.ops === 0) return undefined;
  return c.metric === 'ops' ? r.total.opsPerSec : c.metric === 'mib' ? r.total.mibPerSec : r.total.p50Ms;
}

export interface CompareRow {
  case: string;
  unit: string;
  metric: Case['metric'];
  values: Record<string, number | undefined>;
  /** Erne's value ÷ each other system's (for p50: ÷ of latencies, so < 1 is Erne faster; ratioWords says it in words) */
  ratios: Record<string, number | undefined>;
}

const ERNE = 'Erne';

export function compareRows(cases: Case[], results: Results): CompareRow[] {
  return cases.map((c) => {
    const values: Record<string, number | undefined> = {};
    for (const [name, m] of results) values[name] = metricOf(c, m.get(c.id));
    const erne = values[ERNE];
    const ratios: Record<string, number | undefined> = {};
    for (const name of results.keys()) {
      if (name === ERNE) continue;
      const other = values[name];
      ratios[name] = erne !== undefined && other ? erne / other : undefined;
    }
    return { case: c.title, unit: UNIT[c.metric], metric: c.metric, values, ratios };
  });
}

function n(v: number | undefined): string {
  if (v === undefined) return '—';
  return v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/**
 * Erne's ratio to another system in words that say which way it goes: a latency ratio below 1
 * is a win ("3.20× faster"), a throughput ratio above 1 is one ("1.80× more ops/s"); a
 * throughput below the other's reads as a share of it ("0.64× the MiB/s").
 */
export function ratioWords(ratio: number | undefined, metric: Case['metric']): string {
  if (ratio === undefined || !Number.isFinite(ratio) || ratio <= 0) return '—';
  if (Math.abs(ratio - 1) < 0.005) return 'the same';
  if (metric === 'p50') return ratio < 1 ? `${(1 / ratio).toFixed(2)}× faster` : `${ratio.toFixed(2)}× slower`;
  return ratio > 1 ? `${ratio.toFixed(2)}× more ${UNIT[metric]}` : `${ratio.toFixed(2)}× the ${UNIT[metric]}`;
}

export function formatCompare(rows: CompareRow[]): string {
  if (rows.length === 0) return '';
  const names = Object.keys(rows[0]!.values);
  const others = Object.keys(rows[0]!.ratios);
  const head = ['case', 'unit', ...names, ...others.map((o) => `Erne vs ${o}`)];
  const body = rows.map((r) => [r.case, r.unit, ...names.map((k) => n(r.values[k])), ...others.map((o) => ratioWords(r.ratios[o], r.metric))]);
  const all = [head, ...body];
  const w = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  return all.map((row) => row.map((v, i) => (i < 2 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join('  ')).join('\n');
}

export interface Check {
  name: string;
  value: string;
  met: boolean;
}

export function targetChecks(results: Results): Check[] {
  const checks: Check[] = [];
  const peer = results.get('s3rver');
  const ceil = results.get('bare Node (ceiling)');
  for (const [name, erne] of results) {
    if (!name.startsWith(ERNE)) continue;
    const ratio = (id: string, other: Map<string, BenchResult> | undefined, by: 'opsPerSec' | 'mibPerSec', want: number, label: string) => {
      const a = erne.get(id)?.total[by];
      const b = other?.get(id)?.total[by];
      if (a === undefined || !b) return;
      checks.push({ name: `${name}: ${label}`, value: `${(a / b).toFixed(2)}× (${n(a)} vs ${n(b)})`, met: a / b >= want });
    };
    ratio('put-1k', peer, 'opsPerSec', 2.5, 'PUT 1 KiB c32 ≥ 2.5× s3rver');
    ratio('get-1k', peer, 'opsPerSec', 2.5, 'GET 1 KiB c32 ≥ 2.5× s3rver');
    ratio('put-1k', ceil, 'opsPerSec', 0.6, 'PUT 1 KiB c32 ≥ 60% of ceiling');
    ratio('get-1k', ceil, 'opsPerSec', 0.75, 'GET 1 KiB c32 ≥ 75% of ceiling');
    ratio('get-64m', ceil, 'mibPerSec', 0.8, 'GET 64 MiB ≥ 80% of ceiling');
    ratio('put-64m', ceil, 'mibPerSec', 0.6, 'PUT 64 MiB ≥ 60% of ceiling');
    const c1 = erne.get('get-1k-c1');
    if (c1) checks.push({ name: `${name}: GET 1 KiB c1 p50 < 1 ms`, value: `${c1.total.p50Ms.toFixed(3)} ms`, met: c1.total.p50Ms < 1 });
    // the process's own memory decides; LMDB's mapped database pages (page cache) are shown beside it
    const rss = Math.max(...[...erne.values()].map((r) => r.server?.peakRssBytes ?? 0));
    const anon = Math.max(...[...erne.values()].map((r) => r.server?.peakAnonRssBytes ?? r.server?.peakRssBytes ?? 0));
    checks.push({
      name: `${name}: RSS < 300 MB in every workload`,
      value: `peak ${(anon / 1e6).toFixed(0)} MB of its own (RssAnon); ${(rss / 1e6).toFixed(0)} MB VmRSS counting mapped LMDB file pages`,
      met: anon < 300e6,
    });
    const list = erne.get('list-big') ?? erne.get('list');
    if (list) {
      const note = list.keys < 1_000_000 ? ` (over ${list.keys} keys; the target is for 1,000,000: --big-list-keys)` : '';
      checks.push({ name: `${name}: LIST 1000-key page < 20 ms`, value: `p50 ${list.total.p50Ms.toFixed(2)} ms, p99 ${list.total.p99Ms.toFixed(2)} ms${note}`, met: list.total.p50Ms < 20 });
    }
  }
  return checks;
}

/** one bar chart per case, one bar per system, a system keeping its colour */
export function compareCharts(cases: Case[], results: Results, order: string[]): string[] {
  return cases.map((c) =>
    barChart(
      c.title,
      UNIT[c.metric],
      order.flatMap((name, i) => {
        const v = metricOf(c, results.get(name)?.get(c.id));
        return v === undefined ? [] : [{ label: name, value: v, color: i }];
      }),
    ),
  );
}
