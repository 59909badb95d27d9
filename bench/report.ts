/**
 * Results for people and machines: a fixed-width table, JSON, and a self-contained HTML
 * page with SVG charts, written under bench/results/ (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from './runner.js';
import { formatSize } from './size.js';
import { barChart, escapeXml, lineChart } from './svg.js';

const MiB = 1024 * 1024;

function pad(cells: string[][]): string {
  const widths = cells[0]!.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  return cells.map((r) => r.map((v, c) => (c < 2 ? v.padEnd(widths[c]!) : v.padStart(widths[c]!))).join('  ')).join('\n');
}

function num(v: number): string {
  return v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function label(r: BenchResult): string {
  const what = r.workload === 'list' ? `${r.keys} keys` : formatSize(r.config.size);
  return `${r.workload} ${what} c${r.config.concurrency}${r.config.procs > 1 ? `×${r.config.procs}` : ''}`;
}

function errorsCell(r: BenchResult): string {
  if (r.errorCount === 0) return '0';
  return Object.entries(r.errors)
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
}

/** one row per result (and per operation kind when a workload mixes several) */
export function formatTable(results: BenchResult[]): string {
  const head = ['target', 'workload', 'ops/s', 'MiB/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'srv RSS MiB', 'srv anon MiB', 'srv CPU%', 'cli CPU%'];
  const rows = [head];
  for (const r of results) {
    const srv = r.server;
    const row = (name: string, s: BenchResult['total'], first: boolean) => [
      first ? (r.target ?? '') : '',
      name,
      num(s.opsPerSec),
      num(s.mibPerSec),
      s.p50Ms.toFixed(2),
      s.p90Ms.toFixed(2),
      s.p99Ms.toFixed(2),
      s.maxMs.toFixed(1),
      first ? errorsCell(r) : '',
      first && srv ? (srv.peakRssBytes / MiB).toFixed(0) : '',
      first && srv?.peakAnonRssBytes !== undefined ? (srv.peakAnonRssBytes / MiB).toFixed(0) : '',
      first && srv ? srv.cpuPercent.toFixed(0) : '',
      first ? r.client.cpuPercent.toFixed(0) : '',
    ];
    rows.push(row(label(r), r.total, true));
    const kinds = Object.keys(r.byOp);
    if (kinds.length > 1) for (const k of kinds) rows.push(row(`  ${k}`, r.byOp[k]!, false));
  }
  return pad(rows);
}

/** error codes with a sample message, for the text output */
export function formatErrors(results: BenchResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    for (const [code, n] of Object.entries(r.errors)) {
      const hint = code === 'NotImplemented' ? ' (the target does not implement this operation yet)' : '';
      lines.push(`${r.target ? r.target + ' ' : ''}${label(r)}: ${n}× ${code}${hint}: ${r.errorSamples[code]?.replace(/\s+/g, ' ').slice(0, 160) ?? ''}`);
    }
  }
  return lines.join('\n');
}

export interface HtmlExtra {
  /** sections of preformatted text shown above the charts (machine facts, ratios) */
  notes?: { title: string; text: string }[];
  /** extra SVG charts (compare bar charts) */
  charts?: string[];
}

export function renderHtml(title: string, results: BenchResult[], extra: HtmlExtra = {}): string {
  const perRun = results.map((r) => {
    const name = `${r.target ? r.target + ': ' : ''}${label(r)}`;
    const tput = lineChart(`${name}: throughput`, 'ops/s', [{ name: 'ops/s', values: r.series.map((s) => s.opsPerSec) }]);
    const lat = barChart(`${name}: latency`, 'ms', ['p50Ms', 'p90Ms', 'p99Ms', 'maxMs'].map((k, i) => ({ label: k.replace('Ms', ''), value: r.total[k as 'p50Ms'], color: i })));
    return `<div class="run">${tput}${lat}</div>`;
  });
  const notes = (extra.notes ?? []).map((n) => `<h2>${escapeXml(n.title)}</h2><pre>${escapeXml(n.text)}</pre>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>body{font-family:sans-serif;margin:24px}pre{background:#f6f6f6;padding:8px;overflow:auto}.run{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}</style>
</head><body><h1>${escapeXml(title)}</h1>${notes}<h2>Results</h2><pre>${escapeXml(formatTable(results))}</pre>
${(extra.charts ?? []).join('\n')}<h2>Per run</h2>${perRun.join('\n')}</body></html>`;
}

/** writes <name>.json and <name>.html into dir; returns their paths */
export function writeReport(dir: string, name: string, json: unknown, html: string): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const paths = { json: join(dir, `${name}.json`), html: join(dir, `${name}.html`) };
  writeFileSync(paths.json, JSON.stringify(json, null, 2) + '\n');
  writeFileSync(paths.html, html);
  return paths;
}

/** a file-name-safe timestamp */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[:.]/g, '-').slice(0, 19);
}
