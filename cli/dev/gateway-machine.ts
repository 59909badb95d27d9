/**
 * The machine config of one `erne dev` region's gateway, for a driver that runs machines on
 * this host (machines/drivers/index.ts, `local`). A machine that sees the host's files (a
 * process) keeps its data where erne dev without --driver does and reads the cluster file
 * itself. One that does not (a VM sees its image and its volume only) keeps its data on its
 * volume, reaches Redis and the other regions at the host's address as it sees it, and gets
 * the cluster document in its environment, written to a file by a small shell step before
 * the gateway starts.
 */
import { join } from 'node:path';
import type { MachineConfig } from '../../machines/api/types.js';
import type { LocalMachines } from '../../machines/drivers/index.js';
import { gatewayConfig } from '../../machines/gateway-config.js';
import type { ClusterFileDoc } from './cluster-file.js';
import { gatewaySecrets, type GatewayPlan } from './gateway.js';

/** the variable that carries the cluster document into a machine that cannot read the host's file */
export const CLUSTER_DOC_ENV = 'ERNE_DEV_CLUSTER_DOC';

/** writes the document to a file of its own machine (FLY_MACHINE_ID: two machines on one /tmp never share it), then runs the gateway with it */
const WRITE_CLUSTER_FILE = `f=/tmp/erne-cluster-$FLY_MACHINE_ID.json; printf '%s\\n' "$${CLUSTER_DOC_ENV}" > "$f" && exec "$@" --cluster "$f"`;

export function devGatewayConfig(g: GatewayPlan, local: LocalMachines, cluster: ClusterFileDoc): MachineConfig {
  const onHost = (url: string) => url.replace(/^(redis|https?):\/\/127\.0\.0\.1(?=[:/]|$)/, `$1://${local.hostAddress}`);
  const config = gatewayConfig({
    region: g.region,
    port: g.port,
    host: local.listenHost,
    clusterFile: g.clusterFile,
    redisUrl: onHost(g.redisUrl),
    metadataDir: local.hostFiles ? join(g.dataDir, 'meta') : undefined,
    logLevel: g.verbose ? 'info' : 'warn',
    // with the host's files: the region's data where erne dev without --driver keeps it, so switching keeps it
    env: { ...gatewaySecrets(g.creds), ...(local.hostFiles ? { ERNE_DATA_DIR: g.dataDir } : {}) },
  });
  // where the region's other gateways would reach this one: the host's address as the machines see it
  config.env!['ERNE_INTERNAL_URL'] = `http://${local.hostAddress}:${g.port}`;
  if (local.checkGracePeriod !== undefined) for (const check of Object.values(config.checks ?? {})) check.grace_period = local.checkGracePeriod;
  if (local.hostFiles) return config;
  const argv = [...config.init!.exec!];
  const at = argv.indexOf('--cluster');
  argv.splice(at, 2);
  const doc: ClusterFileDoc = { ...cluster, regions: cluster.regions.map((r) => ({ ...r, internal: r.internal.map(onHost) })) };
  config.init!.exec = ['/bin/sh', '-c', WRITE_CLUSTER_FILE, 'sh', ...argv];
  config.env![CLUSTER_DOC_ENV] = JSON.stringify(doc);
  return config;
}
