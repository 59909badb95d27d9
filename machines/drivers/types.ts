/**
 * The one interface every machine driver implements (process, microvm, fly). The scheduler
 * resolves a machine's Fly-shaped config into a LaunchSpec (what to run, where, with what);
 * a driver only runs it. Drivers keep no state the scheduler cannot rebuild: `list()` reports
 * what still runs after a scheduler restart, so the scheduler adopts it instead of starting a
 * duplicate.
 */

export interface PortMapping {
  /** the port the program listens on inside the machine */
  internal: number;
  /** the port on the host (or the region's address) that reaches it */
  host: number;
  protocol: 'tcp' | 'udp';
}

export interface LaunchSpec {
  machineId: string;
  /** the machine's instance (version) id: a new one per update */
  instanceId: string;
  app: string;
  region: string;
  /** argv[0] is the program */
  argv: string[];
  env: Record<string, string>;
  /** the machine's volume (its data directory); survives stop/start, removed by destroy */
  volumeDir: string;
  /** where the driver keeps its files for this machine (logs, images, state); removed by destroy */
  workDir: string;
  ports: PortMapping[];
  guest: { cpus: number; memoryMb: number };
  /** what the machine is to Erne (its config's metadata.erne_role, e.g. "gateway"): a driver may run such a machine its own way */
  role?: string;
}

export type DriverState = 'running' | 'exited' | 'suspended' | 'missing';

export interface DriverStatus {
  state: DriverState;
  pid?: number;
  exitCode?: number | null;
  signal?: string | null;
  /** driver-specific facts shown in the machine's status (e.g. { accel: 'tcg' }) */
  detail?: Record<string, string>;
}

export interface StopOptions {
  /** sent first (default SIGTERM) */
  signal?: NodeJS.Signals;
  /** then SIGKILL after this long (ms) */
  timeoutMs?: number;
}

export interface MachineDriver {
  readonly name: string;
  start(spec: LaunchSpec): Promise<void>;
  stop(machineId: string, opts?: StopOptions): Promise<void>;
  signal(machineId: string, signal: NodeJS.Signals): Promise<void>;
  status(machineId: string): Promise<DriverStatus>;
  /** the machine's log lines so far; with follow, keeps yielding until the signal aborts */
  logs(machineId: string, opts?: { follow?: boolean; signal?: AbortSignal }): AsyncIterable<string>;
  /** stops if running and removes every file the driver made for the machine */
  destroy(machineId: string): Promise<void>;
  /** machines this driver runs now (for adoption after a scheduler restart) */
  list(): Promise<{ machineId: string; instanceId: string; status: DriverStatus }[]>;
  /** saves the running machine to disk and stops it; the next start resumes it (optional) */
  suspend?(machineId: string): Promise<void>;
}
