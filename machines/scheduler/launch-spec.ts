/**
 * A stored machine turned into what a driver runs: its argv (init.exec, else entrypoint + cmd,
 * else the image name as a program), its env with Fly's runtime variables added, its volume
 * and work directories under the scheduler's data directory, its ports and size.
 */
import { join } from 'node:path';
import type { LaunchSpec } from '../drivers/types.js';
import type { MachineRecord } from '../store.js';

export function machineDirs(dataDir: string, id: string): { volumeDir: string; workDir: string } {
  return { volumeDir: join(dataDir, 'volumes', id), workDir: join(dataDir, 'machines', id) };
}

export function argvOf(m: MachineRecord): string[] {
  const init = m.config.init ?? {};
  if (init.exec?.length) return init.exec;
  const argv = [...(init.entrypoint ?? []), ...(init.cmd ?? [])];
  if (argv.length) return argv;
  return m.config.image ? [m.config.image] : [];
}

export function launchSpec(m: MachineRecord, dataDir: string): LaunchSpec {
  const { volumeDir, workDir } = machineDirs(dataDir, m.id);
  const env: Record<string, string> = {
    FLY_APP_NAME: m.app,
    FLY_MACHINE_ID: m.id,
    FLY_ALLOC_ID: m.id,
    FLY_REGION: m.region,
    FLY_MACHINE_VERSION: m.instance_id,
    ...(m.config.mounts?.length ? { MACHINE_VOLUME: volumeDir, ERNE_DATA_DIR: volumeDir } : {}),
    ...(m.config.env ?? {}),
  };
  return {
    machineId: m.id,
    instanceId: m.instance_id,
    app: m.app,
    region: m.region,
    argv: argvOf(m),
    env,
    volumeDir,
    workDir,
    ports: (m.config.services ?? []).map((s) => ({ internal: s.internal_port, host: s.internal_port, protocol: s.protocol ?? 'tcp' })),
    guest: { cpus: m.config.guest?.cpus ?? 1, memoryMb: m.config.guest?.memory_mb ?? 256 },
    ...(typeof m.config.metadata?.['erne_role'] === 'string' ? { role: m.config.metadata['erne_role'] } : {}),
  };
}
