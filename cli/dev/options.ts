/**
 * `erne dev`'s flags (parsed by cli/args.ts) as checked options: each mistake is a UsageError,
 * one line naming the flag.
 */
import { DRIVERS, driverChoices, localDrivers } from '../../machines/drivers/index.js';
import type { NetworkChoice } from '../../machines/drivers/process/network.js';
import { UsageError, type FlagValues } from '../args.js';

export interface DevOptions {
  regions: string[];
  /** one-way delay between regions; undefined: no latency proxies */
  latencyMs?: number;
  dataDir: string;
  /** S3 port of the first region, the others follow; 0: any free ports */
  port: number;
  /** gateways log every request (info) instead of warnings only */
  verbose: boolean;
  json: boolean;
  /** undefined: the gateways are children of erne dev's own supervisor; else machines of this driver */
  driver?: string;
  /** the Machines API's port when there is a driver (0: a free one) */
  machinesPort: number;
  /** with --driver process: the regions' network (default loopback) */
  network?: NetworkChoice;
}

/** the topology's region names (replication/topology.ts) */
const REGION_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
const MAX_LATENCY_MS = 10_000;

export function devOptions(flags: FlagValues): DevOptions {
  const port = Number(flags['port'] ?? 0);
  const regions = parseRegions(String(flags['regions'] ?? ''));
  if (port !== 0 && port + regions.length - 1 > 65535) throw new UsageError(`--port: ${regions.length} regions need ports ${port}..${port + regions.length - 1}, past 65535`);
  const driver = flags['driver'] === undefined ? undefined : parseDriver(String(flags['driver']));
  const machinesPort = Number(flags['machines-port'] ?? 0);
  if (machinesPort !== 0 && driver === undefined) throw new UsageError('--machines-port: only with --driver (the Machines API serves the gateways when they are machines)');
  const network = flags['network'] === undefined ? undefined : String(flags['network']);
  if (network !== undefined && network !== 'loopback' && network !== 'netns' && network !== 'auto') throw new UsageError(`--network: loopback, netns or auto, not ${JSON.stringify(network)}`);
  if (network !== undefined && driver !== 'process') throw new UsageError('--network: only with --driver process (it places the process driver’s regions)');
  return {
    regions,
    latencyMs: flags['latency'] === undefined ? undefined : parseLatency(String(flags['latency'])),
    dataDir: String(flags['data-dir']),
    port,
    verbose: flags['verbose'] === true,
    json: flags['json'] === true,
    driver,
    machinesPort,
    ...(network !== undefined ? { network: network as NetworkChoice } : {}),
  };
}

/** a driver whose machines run on this host (erne dev's regions are all here) */
export function parseDriver(name: string): string {
  const local = localDrivers();
  if (local.some((e) => e.name === name)) return name;
  const why = DRIVERS.has(name) ? `the ${name} driver runs its machines elsewhere, erne dev runs them on this machine` : `no driver ${JSON.stringify(name)}`;
  throw new UsageError(`--driver: ${why}; choose ${driverChoices(local)}`);
}

export function parseRegions(text: string): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`--regions: name at least one region, e.g. --regions iad,fra,sin`);
  const seen = new Set<string>();
  for (const n of names) {
    if (!REGION_NAME.test(n)) throw new UsageError(`--regions: ${JSON.stringify(n)} is not a region name (1-32 of a-z, 0-9 and '-', starting with a letter or digit)`);
    if (seen.has(n)) throw new UsageError(`--regions: ${n} is named twice`);
    seen.add(n);
  }
  return names;
}

/** "50ms", "0.2s", "0": milliseconds */
export function parseLatency(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  const unitless = m !== null && m[2] === undefined && Number(m[1]) !== 0;
  if (!m || unitless) throw new UsageError(`--latency: expected a one-way delay like 50ms or 0.2s, got ${JSON.stringify(text)}`);
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  if (ms > MAX_LATENCY_MS) throw new UsageError(`--latency: at most ${MAX_LATENCY_MS / 1000}s, got ${text}`);
  return ms;
}
