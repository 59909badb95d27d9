import type { GatewayOptions } from '../gateway/server.js';
import { UsageError, type FlagValues } from './args.js';
import { CommandError } from './errors.js';
import { metadataOption } from './metadata-flags.js';
import { clusterOption } from './cluster-flags.js';
import { existsSync } from 'node:fs';
import cluster from 'node:cluster';
import { listenProblem, prepareStart, rootFromEnv } from './start-checks.js';
import { isLogLevel, LOG_LEVELS } from '../gateway/observe/levels.js';
import { regionsToSignFor } from '../gateway/auth/regions.js';

/** single-quotes a value for a POSIX shell when it needs it, so printed commands paste as-is */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:+=@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface ServeDeps {
  out: (s: string) => void;
  env: Record<string, string | undefined>;
  /** called once the gateway is closed after a signal; the real CLI exits here */
  exit: (code: number) => void;
}

export async function serve(flags: FlagValues, deps: ServeDeps): Promise<void> {
  const metadata = metadataOption(flags);
  const operator = operatorOptions(flags);
  const workers = Number(flags['workers'] ?? 1);
  const root = rootFromEnv(deps.env);
  // a wrong cluster file stops the start before anything is touched
  const clusterOpt = clusterOption(flags, deps.env);
  // the only process, or the primary of --workers, checks and locks; workers run under its lock
  // (cluster is consulted only where `serve --workers` set the worker's index: loading it is a
  // noticeable part of a microVM's cold start)
  const start = deps.env['ERNE_WORKER_INDEX'] !== undefined && cluster.isWorker ? undefined : await prepareStart(flags);
  if (workers > 1) {
    const { serveWorkers } = await import('./workers.js');
    const role = await serveWorkers(workers, flags, deps);
    if (role === 'primary') return;
  }
  // loaded lazily: `erne keys …` and --help should not pay for the HTTP stack
  const { startGateway } = await import('../gateway/server.js');
  const { FdbUnavailableError } = await import('../metadata/fdb.js');
  const region = String(flags['region']);
  const worker = workerSettings(deps.env);
  const gw = await startGateway({
    host: String(flags['host']),
    port: Number(flags['port']),
    dataDir: String(flags['data-dir']),
    region,
    domain: flags['domain'] as string | undefined,
    nodeId: flags['node-id'] as string | undefined,
    inlineThreshold: flags['inline-threshold'] as number | undefined,
    regionCacheBytes: regionCacheBudget(flags, deps.env),
    ...root,
    ...operator,
    metadata,
    internalUrl: flags['internal-url'] as string | undefined,
    sigv2: flags['no-sigv2'] !== true,
    cluster: clusterOpt,
    servedByHeader: deps.env['ERNE_SERVED_BY_HEADER'] === '1',
    // how long SIGTERM lets in-flight requests finish (default 10 s)
    shutdownGraceMs: deps.env['ERNE_SHUTDOWN_GRACE_MS'] ? Number(deps.env['ERNE_SHUTDOWN_GRACE_MS']) : undefined,
    limits: { maxConnectionsPerClient: flags['max-connections-per-client'] as number },
    ...worker,
  }).catch(async (err: unknown) => {
    await start?.undo();
    // FDB chosen but its client library missing: the one line that says what to install
    if (err instanceof FdbUnavailableError) throw new CommandError(err.message);
    const problem = listenProblem(err, String(flags['host']), Number(flags['port']));
    throw problem ? new CommandError(problem) : err;
  });
  if (worker.writerId !== undefined && deps.env['ERNE_WORKER_INDEX'] !== '0') {
    deps.out(`worker ${deps.env['ERNE_WORKER_INDEX']} (pid ${process.pid}) is serving S3 at ${gw.url}\n`);
    process.send?.({ erne: 'ready', nodeId: gw.nodeId, root: gw.root });
    return onSignals(gw, deps);
  }
  process.send?.({ erne: 'ready', nodeId: gw.nodeId, root: gw.root });
  const { accessKeyId, secretAccessKey } = gw.root;
  deps.out(
    [
      `Erne is serving S3 at ${gw.url}`,
      `  region:            ${region} (sign requests for ${regionsToSignFor(region)})`,
      ...(clusterOpt ? [`  cluster:           ${clusterOpt.topology.regions.map((r) => r.name).join(', ')} (changes queue in ${clusterOpt.redisUrl})`] : []),
      `  access key id:     ${accessKeyId}`,
      `  secret access key: ${secretAccessKey}`,
      `Try: AWS_ACCESS_KEY_ID=${shellQuote(accessKeyId)} AWS_SECRET_ACCESS_KEY=${shellQuote(secretAccessKey)} ` +
        `aws --endpoint-url ${gw.url} --region ${shellQuote(region)} s3 ls`,
      '',
    ].join('\n'),
  );

  onSignals(gw, deps);
}

/** --log-level, --tls-cert/--tls-key, --metrics-port as gateway options (gateway/observe) */
export function operatorOptions(flags: FlagValues): Partial<GatewayOptions> {
  const level = String(flags['log-level'] ?? 'info');
  if (!isLogLevel(level)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join('|')}, got ${JSON.stringify(level)}`);
  const cert = flags['tls-cert'] as string | undefined;
  const key = flags['tls-key'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  for (const f of [cert, key]) if (f !== undefined && !existsSync(f)) throw new CommandError(`no such file: ${f}`);
  return {
    logLevel: level,
    ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
    ...(flags['metrics-port'] !== undefined ? { opsPort: Number(flags['metrics-port']) } : {}),
  };
}

/** what a worker of `erne serve --workers N` is told by its primary (cli/workers.ts) */
function workerSettings(env: Record<string, string | undefined>): Partial<GatewayOptions> {
  const index = env['ERNE_WORKER_INDEX'];
  if (index === undefined) return {};
  const count = Number(env['ERNE_WORKER_COUNT'] ?? 1);
  const nodeId = env['ERNE_NODE_ID'];
  return {
    // one janitor per volume: the first worker's
    janitor: index === '0',
    // one relay and one set of delivery workers per host: more would only add the same jobs again
    replicationWorker: index === '0',
    writerId: nodeId ? `${nodeId}.${index}` : undefined,
    remoteCacheDir: env['ERNE_REMOTE_CACHE_DIR'],
    remoteCacheBytes: Math.floor((4 * 1024 ** 3) / count),
    regionCacheDir: env['ERNE_REGION_CACHE_DIR'],
  };
}

/** --region-cache-bytes (default 4 GiB), shared out among the workers of --workers N: each keeps its own cache */
function regionCacheBudget(flags: FlagValues, env: Record<string, string | undefined>): number | undefined {
  const total = flags['region-cache-bytes'] as number | undefined;
  const count = Number(env['ERNE_WORKER_COUNT'] ?? 1);
  if (count <= 1) return total;
  return Math.floor((total ?? 4 * 1024 ** 3) / count);
}

function onSignals(gw: { close(): Promise<void> }, deps: ServeDeps): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // a second signal means "now": do not wait for connections to drain
      deps.exit(signal === 'SIGINT' ? 130 : 143);
      return;
    }
    closing = true;
    deps.out(`${signal}: closing\n`);
    gw.close().then(
      () => deps.exit(0),
      (err: unknown) => {
        process.stderr.write(`erne: error while closing: ${(err as Error).message}\n`);
        deps.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
