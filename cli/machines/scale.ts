/**
 * `erne machines scale --count N --region iad,fra`: the app's machines per region brought to
 * N. A new machine of a gateway app (the Erne app, or any app whose machines are gateways) is a
 * gateway of its region: it joins the cluster file, its region's Redis and its region's shared
 * metadata directory, and listens on a port its region lists in the cluster file (so the other
 * regions reach it), else on a free one. A new machine of any other app copies the config of
 * the app's newest machine.
 */
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Machine, MachineConfig } from '../../machines/api/types.js';
import { GATEWAY_ROLE, gatewayConfig } from '../../machines/gateway-config.js';
import { scale } from '../../machines/scale.js';
import { loadRegions } from '../../replication/topology.js';
import type { FlagValues } from '../args.js';
import { UsageError } from '../args.js';
import { CommandError } from '../keys.js';
import { clientOf, machineTable, oneLine, type Out } from './client-commands.js';

const GATEWAY_ENV = ['ERNE_CLUSTER_SECRET', 'ERNE_ROOT_ACCESS_KEY', 'ERNE_ROOT_SECRET_KEY'];

function parseRegionMap(text: string | undefined, flag: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of (text ?? '').split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 1) throw new UsageError(`${flag}: expected REGION=VALUE[,REGION=VALUE…], got ${JSON.stringify(part)}`);
    map.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return map;
}

const isGateway = (m: Machine) => m.config.metadata?.['erne_role'] === GATEWAY_ROLE;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

const portOf = (m: Machine) => m.config.services?.[0]?.internal_port;

export async function machinesScale(flags: FlagValues, { out }: Out, env: Record<string, string | undefined>): Promise<void> {
  if (flags['count'] === undefined) throw new UsageError('machines scale: --count N is needed');
  if (flags['region'] === undefined) throw new UsageError('machines scale: --region R[,R…] is needed');
  const regions = String(flags['region']).split(',').filter(Boolean);
  const app = String(flags['app']);
  const c = clientOf(flags);
  const redis = parseRegionMap(flags['redis-url'] as string | undefined, '--redis-url');
  await oneLine(flags, () => c.ensureApp(app));
  const all = (await oneLine(flags, () => c.list(app))).filter((m) => m.state !== 'destroyed' && m.state !== 'destroying');
  const gatewayApp = all.length === 0 ? app === 'erne' : all.some(isGateway);
  const taken = new Set(all.map(portOf).filter((p): p is number => p !== undefined));

  const gatewayFor = async (region: string, live: Machine[]): Promise<MachineConfig> => {
    const twin = live.find(isGateway) ?? all.find(isGateway);
    const sameRegion = live.find(isGateway);
    const clusterFile = (flags['cluster'] as string | undefined) ?? argAfter(twin, '--cluster');
    if (!clusterFile) throw new CommandError('machines scale: new gateways need --cluster FILE (the cluster they join)');
    const listed = loadRegionsOrFail(clusterFile).find((r) => r.name === region);
    if (!listed) throw new CommandError(`machines scale: region ${region} is not in the cluster file ${clusterFile}`);
    const redisUrl = redis.get(region) ?? sameRegion?.config.env?.['ERNE_REDIS_URL'];
    if (!redisUrl) throw new CommandError(`machines scale: no Redis for region ${region}: give --redis-url ${region}=redis://HOST:PORT`);
    const root = flags['metadata-root'] as string | undefined;
    const metadataDir = sameRegion?.config.env?.['ERNE_METADATA_DIR'] ?? join(resolve(root ?? join(dirname(resolve(clusterFile)), 'regions')), region, 'meta');
    const secrets: Record<string, string> = {};
    for (const k of GATEWAY_ENV) {
      const v = env[k] ?? twin?.config.env?.[k];
      if (v) secrets[k] = v;
    }
    if (!secrets['ERNE_ROOT_ACCESS_KEY'] || !secrets['ERNE_ROOT_SECRET_KEY']) {
      throw new CommandError('machines scale: new gateways need the cluster’s root key: set ERNE_ROOT_ACCESS_KEY and ERNE_ROOT_SECRET_KEY');
    }
    const listedPorts = listed.internal.map((u) => Number(new URL(u).port)).filter((p) => p > 0);
    let port = listedPorts.find((p) => !taken.has(p));
    port ??= await freePort();
    taken.add(port);
    return gatewayConfig({ region, port, clusterFile: resolve(clusterFile), redisUrl, metadataDir, env: secrets });
  };

  const copyFor = (_region: string, live: Machine[]): MachineConfig => {
    const newest = [...live, ...all].sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
    if (!newest) throw new CommandError(`machines scale: app ${app} has no machine to copy; create one first (POST /v1/apps/${app}/machines)`);
    return newest.config;
  };

  const result = await oneLine(flags, () => scale(c, { app, count: Number(flags['count']), regions, configFor: gatewayApp ? gatewayFor : copyFor }));
  if (flags['json']) return out(JSON.stringify({ created: result.created.map((m) => m.id), destroyed: result.destroyed.map((m) => m.id) }) + '\n');
  for (const m of result.created) out(`created machine ${m.id} in ${m.region}\n`);
  for (const m of result.destroyed) out(`destroyed machine ${m.id} in ${m.region}\n`);
  if (!result.created.length && !result.destroyed.length) out(`app ${app} already has ${String(flags['count'])} machines in ${regions.join(', ')}\n`);
  const now = (await oneLine(flags, () => c.list(app))).filter((m) => regions.includes(m.region));
  out(machineTable(now));
}

function argAfter(m: Machine | undefined, flag: string): string | undefined {
  const argv = m?.config.init?.exec ?? [];
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

function loadRegionsOrFail(file: string) {
  try {
    return loadRegions(file);
  } catch (err) {
    throw new CommandError((err as Error).message);
  }
}
