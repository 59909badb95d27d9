/**
 * A LaunchSpec as a Fly machine config. The machine's own ids go into `metadata`, which is how
 * the driver finds its machines again (after a restart of the scheduler) among the app's.
 * Restarts are left to Erne's scheduler (`restart.policy: no`), so an exit is seen here.
 */
import type { MachineConfig } from '../../api/types.js';
import type { LaunchSpec } from '../types.js';

export const META_MACHINE = 'erne_machine_id';
export const META_INSTANCE = 'erne_instance_id';

export function flyConfig(spec: LaunchSpec, image?: string): MachineConfig {
  // Fly sets its own FLY_* variables on the remote machine
  const env = Object.fromEntries(Object.entries(spec.env).filter(([k]) => !k.startsWith('FLY_')));
  return {
    ...(image ? { image } : {}),
    init: { exec: spec.argv },
    env,
    guest: { cpus: spec.guest.cpus, memory_mb: spec.guest.memoryMb, cpu_kind: 'shared' },
    services: spec.ports.map((p) => ({ internal_port: p.internal, protocol: p.protocol, ports: [{ port: p.host }] })),
    restart: { policy: 'no' },
    metadata: { [META_MACHINE]: spec.machineId, [META_INSTANCE]: spec.instanceId, erne_app: spec.app },
  };
}
