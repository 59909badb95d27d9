/**
 * A LaunchSpec made concrete for one run on this host: the argv wrapped for the region, the
 * environment (a small base, Fly's variables about the machine, then the machine's own), the
 * host ports forwarded to the machine, and the facts its status shows.
 */
import type { LaunchSpec } from '../types.js';
import type { Forward, LaunchRecord } from './machine-files.js';
import type { Placement } from './network.js';

export interface RunSettings {
  /** where published ports listen on the host */
  publishHost: string;
  baseEnv: Record<string, string>;
  logMaxBytes?: number;
}

export function launchRecord(spec: LaunchSpec, runId: string, place: Placement, run: RunSettings): LaunchRecord {
  const forwards: Forward[] = [];
  const detail: Record<string, string> = { ...place.detail };
  for (const p of spec.ports) {
    if (p.protocol !== 'tcp') {
      detail[`port_${p.internal}_${p.protocol}`] = 'not published (the process driver forwards tcp only)';
      continue;
    }
    // on loopback a port published as itself is the program's own listening socket
    if (place.machineHost === '127.0.0.1' && p.host === p.internal && run.publishHost === '127.0.0.1') continue;
    forwards.push({ listenHost: run.publishHost, listenPort: p.host, targetHost: place.machineHost, targetPort: p.internal });
  }
  if (forwards.length) detail.published = forwards.map((f) => `${f.listenHost}:${f.listenPort}->${f.targetPort}`).join(',');
  // no cgroup of our own to put a child in on every host: the size is noted, not enforced
  detail.guest = `cpus=${spec.guest.cpus} memory_mb=${spec.guest.memoryMb} (not enforced)`;
  const env = {
    ...run.baseEnv,
    // what Fly tells a machine about itself, so programs written for Fly find it here too
    FLY_MACHINE_ID: spec.machineId,
    FLY_ALLOC_ID: spec.machineId,
    FLY_APP_NAME: spec.app,
    FLY_REGION: spec.region,
    FLY_MACHINE_VERSION: spec.instanceId,
    FLY_PRIVATE_IP: place.machineHost,
    FLY_VM_MEMORY_MB: String(spec.guest.memoryMb),
    ...spec.env,
  };
  return {
    spec,
    runId,
    argv: place.wrap(spec.argv),
    env,
    cwd: spec.volumeDir,
    forwards,
    detail,
    ...(run.logMaxBytes ? { logMaxBytes: run.logMaxBytes } : {}),
  };
}
