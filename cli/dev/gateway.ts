/**
 * One region's gateway as `erne dev` runs it by default: `erne serve` as a child of dev's own
 * supervisor, configured by its command line alone, ready once its port answers HTTP.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { COMMANDS } from '../args.js';
import type { DevCredentials } from './credentials.js';
import type { ChildSpec } from './supervisor.js';

const ERNE_JS = fileURLToPath(new URL('../erne.js', import.meta.url));

/** what a region's gateway is given, whoever runs it */
export interface GatewayPlan {
  region: string;
  /** S3 (and internal) port on 127.0.0.1 */
  port: number;
  /** the region's data directory (its metadata in DIR/meta) */
  dataDir: string;
  clusterFile: string;
  redisUrl: string;
  creds: DevCredentials;
  verbose: boolean;
  env: Record<string, string | undefined>;
}

/** serve's own start-up lines repeat what erne dev prints once for all regions */
export const SERVE_BANNER = /^(Erne is serving S3 at |  region: |  cluster: |  access key id: |  secret access key: |Try: AWS_ACCESS_KEY_ID=)/;

export function gatewaySpec(g: GatewayPlan): ChildSpec {
  const args = [ERNE_JS, 'serve', '--region', g.region, '--host', '127.0.0.1', '--port', String(g.port), '--data-dir', g.dataDir];
  args.push('--log-level', g.verbose ? 'info' : 'warn');
  args.push('--cluster', g.clusterFile, '--redis-url', g.redisUrl);
  return {
    name: `${g.region} gateway`,
    command: process.execPath,
    args,
    env: {
      ...withoutServeSettings(g.env),
      ...gatewaySecrets(g.creds),
    },
    ready: () => httpAnswers(g.port),
    show: (line) => !SERVE_BANNER.test(line),
  };
}

/** the root key (one key for every region) and the secret the regions trust each other by */
export function gatewaySecrets(creds: DevCredentials): Record<string, string> {
  return { ERNE_ROOT_ACCESS_KEY: creds.accessKeyId, ERNE_ROOT_SECRET_KEY: creds.secretAccessKey, ERNE_CLUSTER_SECRET: creds.clusterSecret };
}

/**
 * The environment without serve's flag twins (ERNE_PORT, ERNE_METADATA, ERNE_METRICS_PORT …):
 * each gateway of erne dev is configured by its command line alone, not by settings meant for
 * a single `erne serve`.
 */
export function withoutServeSettings(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const twins = new Set(COMMANDS.find((c) => c.path.join(' ') === 'serve')?.flags.flatMap((f) => (f.env ? [f.env] : [])));
  for (const name of ['ERNE_CLUSTER', 'ERNE_CLUSTER_SECRET', 'ERNE_REDIS_URL']) twins.add(name);
  return Object.fromEntries(Object.entries(env).filter(([k]) => !twins.has(k)));
}

/** the gateway is up once its port answers HTTP (any status) */
export function httpAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 1000 }, (res) => {
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

export function regionDataDir(devDataDir: string, region: string): string {
  return join(devDataDir, region);
}
