/**
 * The machine drivers by name: what `erne machines serve --driver NAME` and
 * `erne dev --driver NAME` choose from. A driver joins by one entry here (a name, a line of
 * help, a factory from the common settings, and whether its machines run on this host), so
 * the commands that take `--driver` need no change of their own.
 */
import { join } from 'node:path';
import { FlyDriver } from './fly/driver.js';
import { MicroVmDriver } from './microvm/driver.js';
import { ProcessDriver } from './process/index.js';
import type { NetworkChoice } from './process/network.js';
import type { MachineDriver } from './types.js';

/** the settings every driver is made from; each reads the part it needs */
export interface DriverSettings {
  /** the scheduler's data directory: a driver keeps its own files below it */
  dataDir: string;
  /** process driver: loopback, or a network namespace per region */
  network?: NetworkChoice;
  /** process driver in namespaces: one-way delay (ms) between regions' gateways */
  latencyMs?: number;
  fly?: { endpoint?: string; token?: string; app?: string; image?: string };
  /** the driver's own notes (image builds, accelerator chosen …) */
  log?: (line: string) => void;
}

export type OpenedDriver = MachineDriver & { close?(): Promise<void> };

/** how a machine of a driver that runs on this host reaches the host, and where it must listen */
export interface LocalMachines {
  /** the address at which a machine reaches a service of the host (Redis, the other regions' links) */
  hostAddress: string;
  /** the address a machine's program listens on so that its published ports reach it */
  listenHost: string;
  /** the machine sees this host's files at their paths (a process does; a VM sees its image and its volume only) */
  hostFiles: boolean;
  /** how long a new machine may take to answer on its port (default 60 s; a VM boots first) */
  readyTimeoutMs?: number;
  /** lines of a machine's log that are the driver's or the guest's own, not the program's (erne dev shows the program's) */
  ownLines?: RegExp;
  /** the grace period of a gateway's health check (Fly's duration; default the gateway config's): a VM's boot must fit in it */
  checkGracePeriod?: string;
}

export interface DriverEntry {
  name: string;
  /** one line for --help and for a refused name */
  summary: string;
  open(s: DriverSettings): OpenedDriver;
  /** set when the machines run on this host with their ports published on 127.0.0.1 (what erne dev needs) */
  local?: LocalMachines;
}

/** a setting the chosen driver needs is missing or wrong: one line for the operator */
export class DriverSettingsError extends Error {
  override readonly name = 'DriverSettingsError';
}

/** in the order they are offered */
const ENTRIES: DriverEntry[] = [
  {
    name: 'process',
    summary: 'each machine a supervised child process on this host',
    open: (s) => new ProcessDriver({ root: join(s.dataDir, 'driver'), network: s.network ?? 'loopback', latencyMs: s.latencyMs }),
    local: { hostAddress: '127.0.0.1', listenHost: '127.0.0.1', hostFiles: true },
  },
  {
    name: 'microvm',
    summary: 'each machine a QEMU microvm on this host, booting the host’s kernel (images cached in ~/.cache/erne/microvm)',
    open: (s) => new MicroVmDriver({ stateDir: join(s.dataDir, 'driver-microvm'), log: s.log }),
    // user-mode networking: the host is 10.0.2.2 to the guest, and hostfwd reaches 0.0.0.0 in it;
    // a cold boot under TCG on a busy host took 30-70 s here, and minutes at worst
    local: { hostAddress: '10.0.2.2', listenHost: '0.0.0.0', hostFiles: false, readyTimeoutMs: 600_000, checkGracePeriod: '600s', ownLines: /^(\[\s*\d+\.\d+\] |erne-microvm: )/ },
  },
  {
    name: 'fly',
    summary: 'each machine a machine of another Machines API (Fly’s, or another erne machines serve)',
    open: (s) => {
      const f = s.fly ?? {};
      if (!f.endpoint) throw new DriverSettingsError('the fly driver needs --fly-endpoint (or FLY_API_HOSTNAME)');
      if (!f.token) throw new DriverSettingsError('the fly driver needs --fly-token (or FLY_API_TOKEN)');
      if (!f.app) throw new DriverSettingsError('the fly driver needs --fly-app (the app its machines are made in)');
      return new FlyDriver({ endpoint: f.endpoint, token: f.token, app: f.app, image: f.image });
    },
  },
];

export const DRIVERS: ReadonlyMap<string, DriverEntry> = new Map(ENTRIES.map((e) => [e.name, e]));

/** "process, microvm or fly" */
export function driverChoices(entries: DriverEntry[] = ENTRIES): string {
  const names = entries.map((e) => e.name);
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** the entry of `name`, or one line naming the choices */
export function driverEntry(name: string, flag = '--driver'): DriverEntry {
  const entry = DRIVERS.get(name);
  if (!entry) throw new DriverSettingsError(`${flag}: ${driverChoices()}, not ${JSON.stringify(name)}`);
  return entry;
}

/** the driver `name` made from the settings */
export function openDriver(name: string, s: DriverSettings): OpenedDriver {
  return driverEntry(name).open(s);
}

/** the drivers whose machines run on this host (erne dev's choices) */
export function localDrivers(): DriverEntry[] {
  return ENTRIES.filter((e) => e.local !== undefined);
}
