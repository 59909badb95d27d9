/**
 * The machine config of one Erne gateway: `node dist/cli/erne.js serve` in its region, joined
 * to the cluster (the cluster file, the region's Redis and the region's shared metadata
 * directory through env), its data directory on the machine's volume, an HTTP check on
 * /.erne/health and restart policy `always`. Nothing of the gateway is imported: it is only a
 * command line and its environment.
 */
import { fileURLToPath } from 'node:url';
import type { MachineConfig } from './api/types.js';

/** dist/cli/erne.js, from dist/machines/gateway-config.js */
export const ERNE_JS = fileURLToPath(new URL('../cli/erne.js', import.meta.url));

export interface GatewayMachine {
  region: string;
  /** the port the gateway listens on (S3 and the internal endpoint) */
  port: number;
  clusterFile: string;
  /** the region's Redis (ERNE_REDIS_URL) */
  redisUrl: string;
  /** the region's LMDB directory, shared by its gateways on this host (ERNE_METADATA_DIR); none: serve's default, DATA_DIR/meta */
  metadataDir?: string;
  /** the address it listens on (0.0.0.0 in a network namespace, 127.0.0.1 on the host's own network) */
  host?: string;
  /** ERNE_CLUSTER_SECRET, ERNE_ROOT_ACCESS_KEY, ERNE_ROOT_SECRET_KEY … */
  env?: Record<string, string>;
  erneJs?: string;
  node?: string;
  /** serve's --log-level (default warn) */
  logLevel?: 'info' | 'warn';
}

export const GATEWAY_ROLE = 'gateway';

export function gatewayConfig(g: GatewayMachine): MachineConfig {
  return {
    init: {
      exec: [g.node ?? process.execPath, g.erneJs ?? ERNE_JS, 'serve', '--host', g.host ?? '127.0.0.1', '--port', String(g.port), '--region', g.region, '--cluster', g.clusterFile, '--log-level', g.logLevel ?? 'warn'],
    },
    env: {
      ...g.env,
      ERNE_REDIS_URL: g.redisUrl,
      ...(g.metadataDir !== undefined ? { ERNE_METADATA_DIR: g.metadataDir } : {}),
      ERNE_INTERNAL_URL: `http://${g.host && g.host !== '0.0.0.0' ? g.host : '127.0.0.1'}:${g.port}`,
    },
    guest: { cpus: 1, memory_mb: 512 },
    services: [{ internal_port: g.port, protocol: 'tcp', ports: [{ port: g.port, handlers: ['http'] }] }],
    checks: { health: { type: 'http', port: g.port, path: '/.erne/health', interval: '2s', timeout: '3s', grace_period: '10s' } },
    restart: { policy: 'always' },
    stop_config: { signal: 'SIGTERM', timeout: '5s' },
    mounts: [{ path: '/data', name: 'data' }],
    metadata: { erne_role: GATEWAY_ROLE },
  };
}
