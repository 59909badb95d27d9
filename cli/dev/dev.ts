/**
 * `erne dev`: a whole cluster on one machine. Per region a redis-server and one gateway
 * (`erne serve` as a child process, through the command line only), with a latency proxy in
 * front of each region's internal endpoint when --latency is given; all supervised (a process
 * that dies is restarted) and all stopped on SIGINT/SIGTERM.
 */
import { resolve, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import net from 'node:net';
import { COMMANDS, type FlagValues } from '../args.js';
import { lockDataDir } from '../data-lock.js';
import { CommandError } from '../errors.js';
import { prepareDataDir, probeListen, rootFromEnv } from '../start-checks.js';
import { CLUSTER_FILE, clusterDoc, writeClusterFile } from './cluster-file.js';
import { devCredentials, type DevCredentials } from './credentials.js';
import { startLatencyProxy, type LatencyProxy } from './latency-proxy.js';
import { devOptions, type DevOptions } from './options.js';
import { redisMissing, redisSpec } from './redis.js';
import { summaryJson, summaryText, type DevSummary } from './summary.js';
import { StartError, Supervisor, type ChildSpec, type Supervised } from './supervisor.js';

export interface DevDeps {
  out: (s: string) => void;
  /** notices and the children's log lines */
  err: (s: string) => void;
  env: Record<string, string | undefined>;
  exit: (code: number) => void;
}

const ERNE_JS = fileURLToPath(new URL('../erne.js', import.meta.url));

interface Region {
  name: string;
  s3Port: number;
  redisPort: number;
  proxy?: LatencyProxy;
  gateway?: Supervised;
  redis?: Supervised;
}

export async function dev(flags: FlagValues, deps: DevDeps): Promise<void> {
  const opts = devOptions(flags);
  const missing = await redisMissing('redis-server', deps.env);
  if (missing) throw new CommandError(missing);
  const dataDir = resolve(opts.dataDir);
  if (opts.port !== 0) for (let i = 0; i < opts.regions.length; i++) await probeListen('127.0.0.1', opts.port + i);
  await prepareDataDir(dataDir);
  const lock = lockDataDir(dataDir);
  const creds = devCredentials(dataDir, rootFromEnv(deps.env));

  const fixed = opts.port !== 0 ? opts.regions.map((_, i) => opts.port + i) : [];
  const free = await freePorts(opts.regions.length * (fixed.length ? 1 : 2), fixed);
  const regions: Region[] = opts.regions.map((name, i) => ({ name, s3Port: fixed[i] ?? free.pop()!, redisPort: free.pop()! }));
  const sup = new Supervisor({ notice: (l) => deps.err(`erne dev: ${l}\n`), log: (l) => deps.err(`${l}\n`) });
  // whatever ends this process, no child outlives it
  process.once('exit', () => sup.killAll());
  const teardown = async () => {
    await sup.stopAll();
    await Promise.all(regions.map((r) => r.proxy?.close()));
    lock.release();
  };

  // from the first child on: a Ctrl-C while starting stops what has started so far
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // a second Ctrl-C: no more waiting for gateways to drain
      sup.killAll();
      return deps.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    deps.err(`erne dev: ${signal}: stopping every process it started\n`);
    teardown().then(
      () => deps.exit(0),
      (e: unknown) => {
        deps.err(`erne: error while stopping: ${(e as Error).message}\n`);
        sup.killAll();
        deps.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let clusterFile: string;
  try {
    clusterFile = await startRegions(regions, sup, { opts, dataDir, creds, env: deps.env });
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
      gatewayPid: r.gateway?.pid,
      redisPid: r.redis?.pid,
    })),
    control: regions[0]!.name,
    accessKeyId: creds.accessKeyId,
    secretAccessKey: creds.secretAccessKey,
    latencyMs: opts.latencyMs ?? 0,
    dataDir: opts.dataDir,
    clusterFile,
    replication: true,
  };
  deps.out(opts.json ? summaryJson(summary) : summaryText(summary));
}

interface StartContext {
  opts: DevOptions;
  dataDir: string;
  creds: DevCredentials;
  env: Record<string, string | undefined>;
}

/** the Redis servers, then the proxies and the cluster file naming them, then the gateways; returns the file */
async function startRegions(regions: Region[], sup: Supervisor, ctx: StartContext): Promise<string> {
  await Promise.all(regions.map(async (r) => (r.redis = await sup.start(redisSpec({ name: `${r.name} redis-server`, port: r.redisPort, cwd: ctx.dataDir, env: ctx.env })))));
  if (ctx.opts.latencyMs !== undefined) {
    for (const r of regions) r.proxy = await startLatencyProxy({ target: { host: '127.0.0.1', port: r.s3Port }, delayMs: ctx.opts.latencyMs });
  }
  const clusterFile = join(ctx.dataDir, CLUSTER_FILE);
  writeClusterFile(clusterFile, clusterDoc(regions.map((r) => ({ name: r.name, internalUrl: internalUrl(r) }))));
  await Promise.all(regions.map(async (r) => (r.gateway = await sup.start(gatewaySpec(r, { ...ctx, clusterFile })))));
  return clusterFile;
}

function internalUrl(r: Region): string {
  return r.proxy?.url ?? `http://127.0.0.1:${r.s3Port}`;
}

/** serve's own start-up lines repeat what erne dev prints once for all regions */
const SERVE_BANNER = /^(Erne is serving S3 at |  region: |  cluster: |  access key id: |  secret access key: |Try: AWS_ACCESS_KEY_ID=)/;

interface GatewayContext extends StartContext {
  clusterFile: string;
}

function gatewaySpec(r: Region, ctx: GatewayContext): ChildSpec {
  const args = [ERNE_JS, 'serve', '--region', r.name, '--host', '127.0.0.1', '--port', String(r.s3Port), '--data-dir', join(ctx.dataDir, r.name)];
  args.push('--log-level', ctx.opts.verbose ? 'info' : 'warn');
  args.push('--cluster', ctx.clusterFile, '--redis-url', `redis://127.0.0.1:${r.redisPort}`);
  return {
    name: `${r.name} gateway`,
    command: process.execPath,
    args,
    env: {
      ...withoutServeSettings(ctx.env),
      ERNE_ROOT_ACCESS_KEY: ctx.creds.accessKeyId,
      ERNE_ROOT_SECRET_KEY: ctx.creds.secretAccessKey,
      ERNE_CLUSTER_SECRET: ctx.creds.clusterSecret,
    },
    ready: () => httpAnswers(r.s3Port),
    show: (line) => !SERVE_BANNER.test(line),
  };
}

/**
 * The environment without serve's flag twins (ERNE_PORT, ERNE_METADATA, ERNE_METRICS_PORT …):
 * each gateway of erne dev is configured by its command line alone, not by settings meant for
 * a single `erne serve`.
 */
function withoutServeSettings(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const twins = new Set(COMMANDS.find((c) => c.path.join(' ') === 'serve')?.flags.flatMap((f) => (f.env ? [f.env] : [])));
  for (const name of ['ERNE_CLUSTER', 'ERNE_CLUSTER_SECRET', 'ERNE_REDIS_URL']) twins.add(name);
  return Object.fromEntries(Object.entries(env).filter(([k]) => !twins.has(k)));
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

/** the gateway is up once its port answers HTTP (any status) */
function httpAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      done(true);
    });
    req.once('error', () => done(false));
    req.once('timeout', () => {
      req.destroy();
      done(false);
    });
  });
}
