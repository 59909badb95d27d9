/**
 * npm run bench:compare — one run, one machine, the same workloads against Erne, s3rver (the
 * peer) and a bare Node.js file server (the ceiling); prints every result, Erne's ratio to
 * each, Erne's performance targets met or missed, and the machine's physical limits beside them.
 *
 *   node dist/bench/compare.js [--list-keys 10000] [--big-list-keys 1000000] [--scale 1] [--procs 1] [--out bench/results]
 *
 * --big-list-keys N adds a LIST case on Erne alone over N keys that are written into its data
 * directory before it starts (./preload.ts), not PUT over HTTP; the report says so.
 * ERNE_BENCH_CPU_PROF=<dir> makes every Erne process write a CPU profile there.
 * The `replication` case starts three regions with `erne dev` instead (./replication/).
 */
import { tmpdir } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatMachine, machineFacts } from './machine.js';
import { formatErrors, formatTable, renderHtml, stamp, writeReport } from './report.js';
import { PRELOADED, preloadListKeys } from './preload.js';
import { runBench, type BenchResult } from './runner.js';
import { ceilingTarget, erneHasWorkers, erneTarget, REGION, s3rverTarget, startTarget, type RunningTarget, type TargetSpec } from './targets.js';
import { compareRows, compareCharts, formatCompare, targetChecks, type Case } from './verdict.js';
import { startCluster } from './replication/cluster.js';
import { DEFAULT_OPTIONS, formatReplication, replicationChecks, runReplicationBench, type ReplicationBenchResult } from './replication/run.js';

/** the replication case's id in --only */
const REPLICATION = 'replication';

const MiB = 1024 * 1024;

function cases(listKeys: number, scale: number): Case[] {
  const s = (ms: number) => Math.round(ms * scale);
  return [
    { id: 'put-1k', title: 'PUT 1 KiB, 32 concurrent', workload: 'put', size: 1024, concurrency: 32, durationMs: s(5000), metric: 'ops' },
    { id: 'get-1k', title: 'GET 1 KiB, 32 concurrent', workload: 'get', size: 1024, concurrency: 32, durationMs: s(5000), metric: 'ops' },
    { id: 'get-1k-c1', title: 'GET 1 KiB, 1 at a time', workload: 'get', size: 1024, concurrency: 1, durationMs: s(3000), metric: 'p50' },
    // warp's mixed: 45% GET, 15% PUT, 30% HEAD, 10% DELETE — reads and writes sharing the server
    { id: 'mixed-1k', title: 'mixed 1 KiB (warp: 45% GET, 15% PUT, 30% HEAD, 10% DELETE), 32 concurrent', workload: 'mixed', size: 1024, concurrency: 32, durationMs: s(5000), metric: 'ops' },
    { id: 'put-64m', title: 'PUT 64 MiB, 2 concurrent', workload: 'put', size: 64 * MiB, concurrency: 2, durationMs: s(8000), metric: 'mib' },
    { id: 'get-64m', title: 'GET 64 MiB, 2 concurrent', workload: 'get', size: 64 * MiB, concurrency: 2, durationMs: s(8000), metric: 'mib' },
    { id: 'list', title: `LIST 1000-key pages of ${listKeys} keys, 1 at a time`, workload: 'list', size: 0, concurrency: 1, durationMs: s(4000), metric: 'p50', keys: listKeys },
  ];
}

/**
 * Runs every case on every target, the targets interleaved case by case (all servers up
 * at once, only one loaded at a time), so a disturbance on a shared machine falls on all
 * of them alike instead of on whichever target happened to be measured then.
 */
async function measureAll(
  specs: TargetSpec[],
  list: Case[],
  procs: number,
  say: (s: string) => void,
  /** the big LIST: objects put in the data directory before the server starts (./preload.ts) */
  preload?: { prepare(dataDir: string, spec: TargetSpec): Promise<void>; how: string },
): Promise<Map<string, Map<string, BenchResult>>> {
  const results = new Map<string, Map<string, BenchResult>>(specs.map((s) => [s.name, new Map()]));
  const running: RunningTarget[] = [];
  try {
    for (const spec of specs) {
      const t = await startTarget(spec, preload && ((dir) => preload.prepare(dir, spec)));
      running.push(t);
      say(`${spec.name} at ${t.endpoint} (pid ${t.pid})\n`);
    }
    for (const c of list) {
      say(`\n== ${c.title}\n`);
      for (const target of running) {
        const spec = target.spec;
        if (c.workload === 'list' && !spec.lists) continue;
        const result = await runBench(
          {
            endpoint: target.endpoint,
            accessKey: spec.accessKey,
            secretKey: spec.secretKey,
            region: REGION,
            bucket: 'bench',
            workload: c.workload,
            size: c.size,
            partSize: 8 * MiB,
            concurrency: c.concurrency,
            durationMs: c.durationMs,
            warmupMs: 1000,
            keys: c.keys ?? 0,
            procs,
            ...(preload ? { preloaded: preload.how } : {}),
          },
          { serverPid: target.pid, target: spec.name, log: (l) => say(`  ${spec.name}: ${l}\n`), progress: (l) => say(process.stderr.isTTY ? `\r\x1b[K  ${l}` : '') },
        );
        if (process.stderr.isTTY) say('\r\x1b[K');
        const t = result.total;
        say(`  ${spec.name}: ${t.opsPerSec.toFixed(0)} ops/s, ${t.mibPerSec.toFixed(1)} MiB/s, p50 ${t.p50Ms.toFixed(2)} ms, p99 ${t.p99Ms.toFixed(2)} ms, ${result.errorCount} errors\n`);
        results.get(spec.name)!.set(c.id, result);
      }
    }
  } finally {
    for (const t of running) await t.stop();
  }
  return results;
}

/** the flags of `npm run bench:compare`, with their defaults and what they do (for --help) */
const FLAGS = {
  only: { type: 'string', value: 'IDS', help: `cases to run, comma-separated: ${[...cases(0, 1).map((c) => c.id), REPLICATION].join(',')} (default: all)` },
  targets: { type: 'string', value: 'NAMES', help: "servers to measure, comma-separated: 'Erne,Erne (2 workers),s3rver,bare Node (ceiling)' (default: all)" },
  'list-keys': { type: 'string', default: '10000', value: 'N', help: 'keys in the bucket the LIST case pages through' },
  'big-list-keys': { type: 'string', default: '0', value: 'N', help: 'also LIST N keys preloaded into Erne alone (e.g. 1000000)' },
  scale: { type: 'string', default: '1', value: 'X', help: 'multiplies every case\'s duration' },
  procs: { type: 'string', default: '1', value: 'N', help: 'load-generating processes per case' },
  'repl-rate': { type: 'string', default: String(DEFAULT_OPTIONS.ratePerSec), value: 'N', help: 'replication case: PUT/s of its steady phase' },
  'repl-seconds': { type: 'string', default: String(DEFAULT_OPTIONS.steadyMs / 1000), value: 'S', help: 'replication case: length of its steady and its full-speed phase' },
  out: { type: 'string', default: 'bench/results', value: 'DIR', help: 'where the JSON and HTML reports go' },
  help: { type: 'boolean', value: '', help: 'show this help' },
} as const;

function usage(): string {
  const lines = Object.entries(FLAGS).map(([name, f]) => {
    const left = `  --${name}${f.value ? ` ${f.value}` : ''}`;
    return `${left.padEnd(22)} ${f.help}${'default' in f ? ` (default ${f.default})` : ''}`;
  });
  return [
    'usage: npm run bench:compare -- [flags]',
    '',
    'Measures Erne, s3rver and a bare Node.js file server on this machine with the same workloads,',
    'and prints each result, Erne beside the others, and its targets met or missed.',
    'ERNE_BENCH_CPU_PROF=DIR makes every Erne process write a V8 CPU profile there.',
    '',
    'flags:',
    ...lines,
    '',
  ].join('\n');
}

/** a mistake on the command line: one line on stderr, exit code 2 */
class FlagError extends Error {}

interface CompareFlags {
  only?: string;
  targets?: string;
  'list-keys': string;
  'big-list-keys': string;
  scale: string;
  procs: string;
  'repl-rate': string;
  'repl-seconds': string;
  out: string;
  help?: boolean;
}

function parseFlags(argv: string[]): CompareFlags {
  const options: ParseArgsConfig['options'] = Object.fromEntries(Object.entries(FLAGS).map(([k, f]) => [k, { type: f.type, ...('default' in f ? { default: f.default } : {}) }]));
  try {
    return parseArgs({ args: argv, options, strict: true }).values as unknown as CompareFlags;
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new FlagError(`unknown flag '${/'([^']+)'/.exec(e.message)?.[1] ?? '?'}'; try 'npm run bench:compare -- --help'`);
    if (e.code?.startsWith('ERR_PARSE_ARGS')) throw new FlagError(`${e.message.split('\n')[0]}; try 'npm run bench:compare -- --help'`);
    throw err;
  }
}

async function main(): Promise<void> {
  const values = parseFlags(process.argv.slice(2));
  if (values.help) {
    process.stdout.write(usage());
    return;
  }
  const say = (s: string) => void process.stderr.write(s);
  const started = Date.now();
  // --only put-1k,get-64m and --targets Erne,ceiling narrow a run (while profiling one case)
  const only = values.only?.split(',');
  const list = cases(Number(values['list-keys']), Number(values.scale)).filter((c) => !only || only.includes(c.id));
  const procs = Number(values.procs);

  say('measuring the machine (fsync, hashing)…\n');
  const machine = machineFacts(tmpdir());
  say(formatMachine(machine) + '\n');

  const wanted = values.targets?.split(',');
  const specs = [erneTarget(), ...(erneHasWorkers() ? [erneTarget(2)] : []), s3rverTarget(), ceilingTarget()].filter((s) => !wanted || wanted.includes(s.name));
  const results = list.length > 0 ? await measureAll(specs, list, procs, say) : new Map<string, Map<string, BenchResult>>();

  const bigKeys = Number(values['big-list-keys']);
  // how the big LIST's keys got there, said in the report beside the figures
  const fillNotes: string[] = [];
  if (bigKeys > 0) {
    const big: Case = { id: 'list-big', title: `LIST 1000-key pages of ${bigKeys} keys (preloaded), 1 at a time`, workload: 'list', size: 0, concurrency: 1, durationMs: 5000, metric: 'p50', keys: bigKeys };
    list.push(big);
    // HTTP PUTs of a million keys take many minutes here: the keys are written straight into
    // Erne's metadata through its object layer before it starts; the listing is measured over HTTP
    const prepare = async (dataDir: string, spec: TargetSpec) => {
      say(`\nloading ${bigKeys} keys for the big LIST into Erne's data directory (Erne only)…\n`);
      const ms = await preloadListKeys(dataDir, { bucket: 'bench', owner: spec.accessKey, region: REGION, keys: bigKeys, log: (l) => say(`  ${l}\n`) });
      fillNotes.push(`big LIST: its ${bigKeys} keys were ${PRELOADED}, in ${(ms / 1000).toFixed(0)} s; the LIST pages are measured over HTTP as in every other case.`);
      say(`  ${fillNotes[fillNotes.length - 1]}\n`);
    };
    const r = await measureAll([erneTarget()], [big], procs, say, { prepare, how: PRELOADED });
    if (!results.has('Erne')) results.set('Erne', new Map());
    results.get('Erne')!.set(big.id, r.get('Erne')!.get(big.id)!);
  }

  // three regions of Erne alone, after the others (their servers are stopped by then)
  let repl: ReplicationBenchResult | undefined;
  if (!only || only.includes(REPLICATION)) {
    say('\n== replication: three regions (erne dev), 1 KiB PUTs\n');
    const cluster = await startCluster(['iad', 'fra', 'sin']);
    try {
      const seconds = Number(values['repl-seconds']) * Number(values.scale);
      repl = await runReplicationBench(cluster.summary, { ...DEFAULT_OPTIONS, ratePerSec: Number(values['repl-rate']), steadyMs: seconds * 1000, fullMs: seconds * 1000, say });
    } finally {
      await cluster.stop();
    }
  }

  const all = [...results.values()].flatMap((m) => [...m.values()]);
  const rows = compareRows(list, results);
  const checks = [...targetChecks(results), ...(repl ? replicationChecks(repl) : [])];
  const command = `npm run bench:compare${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  const text = [
    formatMachine(machine),
    '',
    ...(all.length ? [formatTable(all), '', formatCompare(rows), ''] : []),
    ...(repl ? [formatReplication(repl), ''] : []),
    'targets:',
    ...checks.map((c) => `  ${c.met ? 'met   ' : 'MISSED'}  ${c.name}: ${c.value}`),
    ...(fillNotes.length ? ['', ...fillNotes] : []),
    '',
    `command: ${command}  (${((Date.now() - started) / 1000).toFixed(0)} s)`,
  ].join('\n');
  process.stdout.write('\n' + text + '\n');
  const errors = formatErrors(all);
  if (errors) process.stdout.write('\nerrors:\n' + errors + '\n');

  const html = renderHtml('Erne vs s3rver vs bare Node.js', all, {
    notes: [
      { title: 'Machine', text: formatMachine(machine) },
      { title: 'Erne compared', text: formatCompare(rows) },
      ...(repl ? [{ title: 'Replication', text: formatReplication(repl) }] : []),
      { title: 'Targets', text: checks.map((c) => `${c.met ? 'met   ' : 'MISSED'}  ${c.name}: ${c.value}`).join('\n') },
      ...(fillNotes.length ? [{ title: 'Big LIST fill', text: fillNotes.join('\n') }] : []),
      { title: 'Command', text: command },
    ],
    charts: compareCharts(list, results, specs.map((s) => s.name)),
  });
  const json = { machine, command, cases: list, ...(fillNotes.length ? { notes: fillNotes } : {}), ...(repl ? { replication: repl } : {}), results: Object.fromEntries([...results].map(([k, m]) => [k, Object.fromEntries(m)])), compare: rows, targets: checks };
  const paths = writeReport(values.out!, `compare-${stamp()}`, json, html);
  say(`\nreport: ${paths.html} (JSON: ${paths.json})\n`);
}

main().catch((err: unknown) => {
  if (err instanceof FlagError) {
    process.stderr.write(`bench:compare: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench:compare: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
