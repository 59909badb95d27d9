/**
 * What `erne dev` prints once every region answers: for people, the endpoints, the keys and an
 * aws CLI line to paste; for machines (--json), the same as one JSON line.
 */
import { shellQuote } from '../serve.js';

export interface RegionSummary {
  name: string;
  /** the S3 endpoint */
  endpoint: string;
  /** where other regions reach it (its latency proxy, when there is one) */
  internal: string;
  redisUrl: string;
  gatewayPid: number | undefined;
  redisPid: number | undefined;
  /** with --driver: the gateway's machine */
  machineId?: string;
}

/** with --driver: who keeps the gateways, and where to ask it */
export interface DevMachinesSummary {
  driver: string;
  /** the Machines API (erne machines … --endpoint) */
  endpoint: string;
  token: string;
  app: string;
}

export interface DevSummary {
  regions: RegionSummary[];
  control: string;
  accessKeyId: string;
  secretAccessKey: string;
  latencyMs: number;
  dataDir: string;
  clusterFile: string;
  /** false while `erne serve` has no --cluster: the regions run side by side, unreplicated */
  replication: boolean;
  machines?: DevMachinesSummary;
}

export function summaryJson(s: DevSummary): string {
  return JSON.stringify(s) + '\n';
}

export function summaryText(s: DevSummary): string {
  const first = s.regions[0]!;
  const width = Math.max(...s.regions.map((r) => r.name.length));
  const latency = s.latencyMs > 0 ? `; ${s.latencyMs} ms one-way between regions` : '';
  return [
    `erne dev: ${s.regions.length} region${s.regions.length === 1 ? '' : 's'} on this machine (control region ${s.control}${latency})`,
    ...s.regions.map((r) => `  ${r.name.padEnd(width)}  S3 ${r.endpoint}   (redis ${r.redisUrl}, internal ${r.internal}${r.machineId ? `, machine ${r.machineId}` : ''})`),
    `  access key id:     ${s.accessKeyId}`,
    `  secret access key: ${s.secretAccessKey}`,
    `Try: AWS_ACCESS_KEY_ID=${shellQuote(s.accessKeyId)} AWS_SECRET_ACCESS_KEY=${shellQuote(s.secretAccessKey)} ` +
      `aws --endpoint-url ${first.endpoint} --region ${shellQuote(first.name)} s3 ls`,
    ...(s.machines ? machinesLines(s.machines) : []),
    `Data in ${s.dataDir} (cluster file ${s.clusterFile}). Ctrl-C stops every process erne dev started.`,
    '',
  ].join('\n');
}

function machinesLines(m: DevMachinesSummary): string[] {
  return [
    `Gateways are machines of the ${m.driver} driver (app ${m.app}), restarted by the scheduler; the Machines API is at ${m.endpoint}:`,
    `  ERNE_MACHINES_TOKEN=${shellQuote(m.token)} erne machines list --endpoint ${m.endpoint}`,
  ];
}
