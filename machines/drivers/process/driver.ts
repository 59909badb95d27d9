/**
 * The process driver: each machine is a supervised child process on this host (supervisor.ts
 * does the supervising), each region a network namespace where root and iproute2 allow it
 * (network.ts). Everything the driver knows is on disk under its root, so a driver made after
 * a scheduler restart finds the machines still running, checks each pid is still the process
 * that was started (pid + start time), and reports them for adoption.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriverStatus, LaunchSpec, MachineDriver, StopOptions } from '../types.js';
import { readLog } from './log-file.js';
import { launchRecord } from './launch-record.js';
import { files, MachineIndex, readJson, writeJson, type ExitRecord, type LaunchRecord, type StateRecord } from './machine-files.js';
import { RegionNetwork, type NetworkChoice, type Placement } from './network.js';
import { isAlive } from './proc-identity.js';
import { RegionLinks, type LinkInfo } from './links.js';
import { gatewayView } from './gateway-view.js';
import { GATEWAY_ROLE } from '../../gateway-config.js';

export interface ProcessDriverOptions {
  /** holds the index of machines and the network record; a new driver on the same root finds them */
  root: string;
  /** 'auto': namespaces when root with iproute2, loopback otherwise (default 'loopback') */
  network?: NetworkChoice;
  /** namespace name prefix (default "erne-") */
  netnsPrefix?: string;
  /** first two octets of the region subnets (default "10.77") */
  subnet?: string;
  /** netns: one-way delay (ms) of the links a gateway machine's region opens to the other regions (default 0) */
  latencyMs?: number;
  /** where published ports (PortMapping.host) listen on the host (default 127.0.0.1) */
  publishHost?: string;
  /**
   * the environment every machine starts from, before its own env (default: PATH, HOME, LANG
   * and TZ of this process). Not the whole environment: the scheduler's ERNE_* settings would
   * otherwise leak into every gateway as flags.
   */
  baseEnv?: Record<string, string>;
  /** default stop timeout before SIGKILL (default 5 s, Fly's kill_timeout) */
  stopTimeoutMs?: number;
  /** a machine's log moves to machine.log.1 past this size (default 32 MiB): two files at most */
  logMaxBytes?: number;
}

export class MachineNotFoundError extends Error {
  override readonly name = 'MachineNotFoundError';
  constructor(readonly machineId: string) {
    super(`no machine ${machineId} in this driver`);
  }
}

const START_TIMEOUT_MS = 15_000;
const POLL_MS = 20;

/** a compiled entry point of this folder: beside this file in dist/, or in dist/ when this runs from source (tests) */
function builtEntry(file: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, file);
  if (existsSync(beside)) return beside;
  const built = join(here, '..', '..', '..', 'dist', 'machines', 'drivers', 'process', file);
  if (existsSync(built)) return built;
  throw new Error(`${built} is not built: run npm run build`);
}

function defaultEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return env;
}

export class ProcessDriver implements MachineDriver {
  readonly name = 'process';
  readonly network: RegionNetwork;
  private readonly index: MachineIndex;
  readonly links: RegionLinks;
  /** start, stop and destroy of one machine run one at a time (two starts must not make two runs) */
  private readonly busy = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: ProcessDriverOptions) {
    mkdirSync(opts.root, { recursive: true });
    this.index = new MachineIndex(opts.root);
    this.links = new RegionLinks(opts.root, () => builtEntry('link-process.js'));
    this.network = new RegionNetwork({ root: opts.root, choice: opts.network ?? 'loopback', prefix: opts.netnsPrefix, subnet: opts.subnet });
  }

  /** a workDir under the root, for a scheduler that has no better place */
  workDirFor(machineId: string): string {
    return join(this.opts.root, 'machines', encodeURIComponent(machineId));
  }

  /**
   * The address at which the host reaches a machine's ports (its internal ports, as Fly's
   * checks use them): 127.0.0.1, or its region's address. Undefined for an unknown machine.
   */
  async address(machineId: string): Promise<string | undefined> {
    const workDir = this.index.workDir(machineId);
    const launch = workDir ? readJson<LaunchRecord>(files(workDir).launch) : undefined;
    return launch ? (await this.network.place(launch.spec.region)).machineHost : undefined;
  }

  /** where the host reaches a machine of `region`, and where such a machine reaches the host */
  async placement(region: string): Promise<Placement> {
    return this.network.place(region);
  }

  start(spec: LaunchSpec): Promise<void> {
    return this.serial(spec.machineId, () => this.startNow(spec));
  }

  private async startNow(spec: LaunchSpec): Promise<void> {
    if (!spec.argv.length) throw new Error(`machine ${spec.machineId}: no command to run`);
    const before = existsSync(spec.workDir) ? await this.status(spec.machineId).catch(() => undefined) : undefined;
    if (before?.state === 'running') {
      const launch = readJson<LaunchRecord>(files(spec.workDir).launch);
      if (launch?.spec.instanceId === spec.instanceId) return;
      throw new Error(`machine ${spec.machineId} runs instance ${launch?.spec.instanceId}: stop it before starting ${spec.instanceId}`);
    }
    mkdirSync(spec.workDir, { recursive: true });
    mkdirSync(spec.volumeDir, { recursive: true });
    this.index.add(spec.machineId, spec.workDir);

    let place = await this.network.place(spec.region);
    if (this.network.mode === 'netns' && spec.role === GATEWAY_ROLE) {
      // a gateway's config speaks of the host's addresses: inside the region it needs its own view
      const view = await gatewayView(spec, {
        dir: join(this.opts.root, 'regions'),
        latencyMs: this.opts.latencyMs ?? 0,
        link: (name, target, delayMs) => this.viewLink(name, spec.region, target, delayMs),
      });
      spec = view.spec;
      place = { ...place, detail: { ...place.detail, ...view.detail } };
    }
    const runId = randomUUID();
    const paths = files(spec.workDir);
    rmSync(paths.state, { force: true });
    rmSync(paths.exit, { force: true });
    writeJson(paths.launch, launchRecord(spec, runId, place, { publishHost: this.opts.publishHost ?? '127.0.0.1', baseEnv: this.opts.baseEnv ?? defaultEnv(), logMaxBytes: this.opts.logMaxBytes }));

    // the supervisor's own stderr goes to a file, never a pipe to this process: once this
    // process is gone, a warning written to a broken pipe would end the supervisor
    const errFd = openSync(paths.supervisorErr, 'a');
    const sup = spawn(process.execPath, [builtEntry('supervisor.js'), spec.workDir], { detached: true, stdio: ['ignore', 'ignore', errFd] });
    closeSync(errFd);
    let supEnded = false;
    let spawnErr = '';
    sup.once('exit', () => (supEnded = true));
    sup.once('error', (err) => ((supEnded = true), (spawnErr = err.message)));
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        if (readJson<StateRecord>(paths.state)?.runId === runId) return;
        const exit = readJson<ExitRecord>(paths.exit);
        if (exit?.runId === runId) {
          if (exit.error) throw new Error(`machine ${spec.machineId}: ${exit.error}`);
          return; // ran and ended already: status() tells how
        }
        if (supEnded) {
          const why = spawnErr || tail(paths.supervisorErr);
          throw new Error(`machine ${spec.machineId}: its supervisor ended before the program started${why ? `: ${why}` : ''}`);
        }
        if (Date.now() > deadline) {
          // a run that comes later would be one nobody waits for
          sup.kill('SIGKILL');
          throw new Error(`machine ${spec.machineId}: not started within ${START_TIMEOUT_MS} ms`);
        }
        await sleep(POLL_MS);
      }
    } finally {
      // from here on the supervisor lives on its own: it must not hold this process open
      sup.unref();
    }
  }

  async status(machineId: string): Promise<DriverStatus> {
    const workDir = this.index.workDir(machineId);
    if (!workDir) return { state: 'missing' };
    const paths = files(workDir);
    const launch = readJson<LaunchRecord>(paths.launch);
    if (!launch) return { state: 'missing' };
    const detail = { ...launch.detail, instance: launch.spec.instanceId };
    const exit = readJson<ExitRecord>(paths.exit);
    if (exit?.runId === launch.runId) return { state: 'exited', exitCode: exit.exitCode, signal: exit.signal, detail: exit.error ? { ...detail, error: exit.error } : detail };
    const state = readJson<StateRecord>(paths.state);
    if (state?.runId !== launch.runId) {
      // stopped before any run, or the supervisor is still starting the program
      return { state: 'exited', exitCode: null, signal: null, detail };
    }
    // the supervisor alive means the program's end is not written yet: it is running, or just ended
    if (isAlive(state.supervisor) || isAlive(state.program)) return { state: 'running', pid: state.program.pid, detail };
    return { state: 'exited', exitCode: null, signal: null, detail: { ...detail, exit: 'unknown: the supervisor was killed' } };
  }

  async signal(machineId: string, signal: NodeJS.Signals): Promise<void> {
    const state = await this.running(machineId);
    if (!state) throw new Error(`machine ${machineId} is not running`);
    process.kill(state.program.pid, signal);
  }

  stop(machineId: string, opts: StopOptions = {}): Promise<void> {
    return this.serial(machineId, () => this.stopNow(machineId, opts));
  }

  private async stopNow(machineId: string, opts: StopOptions): Promise<void> {
    const state = await this.running(machineId);
    if (!state) return;
    const timeoutMs = opts.timeoutMs ?? this.opts.stopTimeoutMs ?? 5000;
    const pid = state.program.pid;
    kill(pid, opts.signal ?? 'SIGTERM');
    if (!(await this.exited(machineId, timeoutMs))) {
      // its whole process group: what it started goes with it
      if (isAlive(state.program)) kill(-pid, 'SIGKILL');
      if (!(await this.exited(machineId, 10_000))) throw new Error(`machine ${machineId} did not end after SIGKILL`);
    }
  }

  async *logs(machineId: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<string> {
    const workDir = this.index.workDir(machineId);
    if (!workDir) throw new MachineNotFoundError(machineId);
    yield* readLog(files(workDir).log, opts);
  }

  destroy(machineId: string): Promise<void> {
    return this.serial(machineId, () => this.destroyNow(machineId));
  }

  private async destroyNow(machineId: string): Promise<void> {
    const workDir = this.index.workDir(machineId);
    if (!workDir) return;
    await this.stopNow(machineId, {});
    const launch = readJson<LaunchRecord>(files(workDir).launch);
    if (launch) rmSync(launch.spec.volumeDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
    this.index.remove(machineId);
    // the last machine of a region takes the region with it: its links, its namespace and veth
    if (launch) await this.network.release(launch.spec.region, () => this.regionInUse(launch.spec.region), () => this.closeLinksFrom(launch.spec.region));
  }

  /** a machine of the region is known, or one is known whose region is not written yet (it may be starting there) */
  private regionInUse(region: string): boolean {
    return this.index.ids().some((id) => {
      const workDir = this.index.workDir(id);
      const launch = workDir ? readJson<LaunchRecord>(files(workDir).launch) : undefined;
      return !launch || launch.spec.region === region;
    });
  }

  private async closeLinksFrom(region: string): Promise<void> {
    for (const l of this.links.list()) if (l.from === region) await this.links.close(l.name);
  }

  /**
   * Every machine this driver knows (running or not), with its status: the scheduler adopts
   * the running ones. A pid whose process is not the one started (its start time differs)
   * counts as exited, never as running.
   */
  async list(): Promise<{ machineId: string; instanceId: string; status: DriverStatus }[]> {
    const out: { machineId: string; instanceId: string; status: DriverStatus }[] = [];
    for (const machineId of this.index.ids()) {
      const workDir = this.index.workDir(machineId);
      const launch = workDir ? readJson<LaunchRecord>(files(workDir).launch) : undefined;
      if (!launch) continue;
      out.push({ machineId, instanceId: launch.spec.instanceId, status: await this.status(machineId) });
    }
    return out;
  }

  /**
   * A link named `name` from the machines of region `from` to `target` with a one-way delay
   * each way (the latency between regions; 0 for none), listening where those machines reach
   * the host. It runs as a process of its own (links.ts) and outlives this driver, as machines
   * do; opening it again while it runs returns it, and a dead one comes back on its old port.
   */
  async link(name: string, from: string, target: { host: string; port: number }, delayMs: number, opts: { port?: number } = {}): Promise<LinkInfo> {
    const place = await this.network.place(from);
    return this.links.open(name, { from, target, delayMs }, place.hostAddress, opts.port);
  }

  /** a link of a gateway's region view: opened as asked, or moved to a new delay on its old port (the region's machines look for it there) */
  private async viewLink(name: string, from: string, target: { host: string; port: number }, delayMs: number): Promise<LinkInfo> {
    const known = this.links.list().find((l) => l.name === name);
    if (known?.running && (known.delayMs !== delayMs || known.target.host !== target.host || known.target.port !== target.port)) await this.links.close(name);
    return this.link(name, from, target, delayMs, { port: known?.port });
  }

  /** nothing to end: machines and links run on their own (a new driver finds them) */
  async close(): Promise<void> {}

  /** destroys every machine, then the regions' namespaces: nothing of this driver is left */
  async destroyAll(): Promise<void> {
    await this.links.closeAll();
    for (const id of this.index.ids()) await this.destroy(id);
    await this.network.teardown();
  }

  private serial<T>(machineId: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.busy.get(machineId) ?? Promise.resolve()).then(fn, fn);
    const settled = next.catch(() => undefined);
    this.busy.set(machineId, settled);
    void settled.then(() => this.busy.get(machineId) === settled && this.busy.delete(machineId));
    return next;
  }

  private async running(machineId: string): Promise<StateRecord | undefined> {
    const s = await this.status(machineId);
    if (s.state !== 'running') return undefined;
    return readJson<StateRecord>(files(this.index.workDir(machineId)!).state);
  }

  private async exited(machineId: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.status(machineId)).state === 'running') {
      if (Date.now() > deadline) return false;
      await sleep(POLL_MS);
    }
    return true;
  }
}

/** the last line of a file (the supervisor's last word), or '' */
function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').at(-1) ?? '';
  } catch {
    return '';
  }
}

/** a signal to a process that may have just ended is not an error */
function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
