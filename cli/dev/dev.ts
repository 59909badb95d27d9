/**
 * `erne dev`: a whole cluster on one machine. Per region a redis-server and one gateway
 * (`erne serve` as a child process, through the command line only), with a latency proxy in
 * front of each region's internal endpoint when --latency is given; all supervised (a process
 * that dies is restarted) and all stopped on SIGINT/SIGTERM. With --driver, the gateways are
 * machines of that driver kept by an in-process scheduler (machines.ts) instead of children
 * of erne dev's own supervisor; the redis-servers and proxies stay as they are.
 */
import { resolve, join } from 'node:path';
import net from 'node:net';
import type { FlagValues } from '../args.js';
import { lockDataDir } from '../data-lock.js';
import { CommandError } from '../errors.js';
import { prepareDataDir, probeListen, rootFromEnv } from '../start-checks.js';
import { CLUSTER_FILE, clusterDoc, writeClusterFile } from './cluster-file.js';
import { devCredentials, type DevCredentials } from './credentials.js';
import { gatewaySpec, regionDataDir, type GatewayPlan } from './gateway.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';
import { DEV_APP, DevGatewayMachines, devMachinesToken } from './machines.js';
import { devOptions, type DevOptions } from './options.js';
import { redisMissing, redisSpec } from './redis.js';
import { summaryJson, summaryText, type DevSummary } from './summary.js';
import { StartError, Supervisor, type Supervised } from './supervisor.js';

export interface DevDeps {
  out: (s: string) => void;
  /** notices and the children's log lines */
  err: (s: string) => void;
  env: Record<string, string | undefined>;
  exit: (code: number) => void;
}

interface Region {
  name: string;
  s3Port: number;
  redisPort: number;
  proxy?: LatencyProxy;
  /** the gateway's pid once started (its machine's program with --driver) */
  gatewayPid?: number;
  machineId?: string;
  redis?: Supervised;
}

export async function dev(flags: FlagValues, deps: DevDeps): Promise<void> {
  const opts = devOptions(flags);
  const missing = await redisMissing('redis-server', deps.env);
  if (missing) throw new CommandError(missing);
  const dataDir = resolve(opts.dataDir);
  // with --driver the ports are probed once an earlier run's machines (which may hold them) are gone
  if (opts.port !== 0 && !opts.driver) await probePorts(opts);
  if (opts.driver && opts.machinesPort !== 0) await probeListen('127.0.0.1', opts.machinesPort, '--machines-port');
  await prepareDataDir(dataDir);
  const lock = lockDataDir(dataDir);
  const creds = devCredentials(dataDir, rootFromEnv(deps.env));

  const fixed = opts.port !== 0 ? opts.regions.map((_, i) => opts.port + i) : [];
  const free = await freePorts(opts.regions.length * (fixed.length ? 1 : 2), fixed);
  const regions: Region[] = opts.regions.map((name, i) => ({ name, s3Port: fixed[i] ?? free.pop()!, redisPort: free.pop()! }));
  const notice = (l: string) => deps.err(`erne dev: ${l}\n`);
  const log = (l: string) => deps.err(`${l}\n`);
  const sup = new Supervisor({ notice, log });
  const ctx: StartContext = { opts, dataDir, creds, env: deps.env, sup };
  const killAll = () => {
    ctx.machines?.killAll();
    sup.killAll();
  };
  // whatever ends this process, no child outlives it
  process.once('exit', killAll);
  const teardown = async () => {
    // the gateways first (as the supervisor stops the last started first), then Redis
    let failed: unknown;
    await ctx.machines?.stop().catch((e: unknown) => (failed = e));
    await sup.stopAll();
    await Promise.all(regions.map((r) => r.proxy?.close()));
    lock.release();
    if (failed) throw failed;
  };

  // from the first child on: a Ctrl-C while starting stops what has started so far
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // a second Ctrl-C: no more waiting for gateways to drain
      killAll();
      return deps.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    deps.err(`erne dev: ${signal}: stopping every process it started\n`);
    teardown().then(
      () => deps.exit(0),
      (e: unknown) => {
        deps.err(`erne: error while stopping: ${(e as Error).message}\n`);
        killAll();
        deps.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let clusterFile: string;
  try {
    if (opts.driver) {
      ctx.machines = await DevGatewayMachines.open({ driver: opts.driver, dataDir, apiPort: opts.machinesPort, token: devMachinesToken(creds.clusterSecret), network: opts.network, notice, log });
      if (opts.port !== 0) await probePorts(opts);
    }
    clusterFile = await startRegions(regions, ctx);
  } catch (err) {
    // stopped by a signal: its handler finishes and exits
    if (stopping) return;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
    if (err instanceof StartError) throw new CommandError(err.oneLine());
    throw err;
  }
  const summary: DevSummary = {
    regions: regions.map((r) => ({
      name: r.name,
      endpoint: `http://127.0.0.1:${r.s3Port}`,
      internal: internalUrl(r),
      redisUrl: `redis://127.0.0.1:${r.redisPort}`,
      gatewayPid: r.gatewayPid,
      redisPid: r.redis?.pid,
      ...(r.machineId ? { machineId: r.machineId } : {}),
    })),
    control: regions[0]!.name,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    latencyMs: opts.latencyMs ?? 0,
    dataDir: opts.dataDir,
    clusterFile,
    replication: true,
    ...(ctx.machines ? { machines: { driver: opts.driver!, endpoint: ctx.machines.url, token: devMachinesToken(creds.clusterSecret), app: DEV_APP } } : {}),
  };
  deps.out(opts.json ? summaryJson(summary) : summaryText(summary));
}

interface StartContext {
  opts: DevOptions;
  dataDir: string;
  creds: DevCredentials;
  env: Record<string, string | undefined>;
  sup: Supervisor;
  /** with --driver: who runs the gateways */
  machines?: DevGatewayMachines;
}

/** the Redis servers, then the proxies and the cluster file naming them, then the gateways; returns the file */
async function startRegions(regions: Region[], ctx: StartContext): Promise<string> {
  const { sup } = ctx;
  await Promise.all(regions.map(async (r) => (r.redis = await sup.start(redisSpec({ name: `${r.name} redis-server`, port: r.redisPort, cwd: ctx.dataDir, env: ctx.env })))));
  if (ctx.opts.latencyMs !== undefined) {
    for (const r of regions) r.proxy = await startLatencyProxy({ target: { host: '127.0.0.1', port: r.s3Port }, delayMs: ctx.opts.latencyMs });
  }
  const clusterFile = join(ctx.dataDir, CLUSTER_FILE);
  writeClusterFile(clusterFile, clusterDoc(regions.map((r) => ({ name: r.name, internalUrl: internalUrl(r) }))));
  await Promise.all(
    regions.map(async (r) => {
      const plan: GatewayPlan = {
        region: r.name,
        port: r.s3Port,
        dataDir: regionDataDir(ctx.dataDir, r.name),
        clusterFile,
        redisUrl: `redis://127.0.0.1:${r.redisPort}`,
        creds: ctx.creds,
        verbose: ctx.opts.verbose,
        env: ctx.env,
      };
      if (ctx.machines) {
        const m = await ctx.machines.start(plan);
        r.machineId = m.machineId;
        r.gatewayPid = m.pid;
      } else {
        r.gatewayPid = (await sup.start(gatewaySpec(plan))).pid;
      }
    }),
  );
  return clusterFile;
}

function internalUrl(r: Region): string {
  return r.proxy?.url ?? `http://127.0.0.1:${r.s3Port}`;
}

async function probePorts(opts: DevOptions): Promise<void> {
  for (let i = 0; i < opts.regions.length; i++) await probeListen('127.0.0.1', opts.port + i);
}

/** n distinct free ports, none of `taken` (all held open together, so none is handed out twice) */
async function freePorts(n: number, taken: number[]): Promise<number[]> {
  const held: net.Server[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < n) {
      const s = net.createServer();
      held.push(s);
      await new Promise<void>((ok, fail) => s.once('error', fail).listen(0, '127.0.0.1', () => ok()));
      const { port } = s.address() as net.AddressInfo;
      if (!taken.includes(port)) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((done) => s.close(done))));
  }
  return ports;
}
