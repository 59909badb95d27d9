/**
 * The process driver: each machine is a supervised child process on this host (supervisor.ts
 * does the supervising), each region a network namespace where root and iproute2 allow it
 * (network.ts). Everything the driver knows is on disk under its root, so a driver made after
 * a scheduler restart finds the machines still running, checks each pid is still the process
 * that was started (pid + start time), and reports them for adoption.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DriverStatus, LaunchSpec, MachineDriver, StopOptions } from '../types.js';
import { readLog } from './log-file.js';
import { files, MachineIndex, readJson, writeJson, type ExitRecord, type Forward, type LaunchRecord, type StateRecord } from './machine-files.js';
import { RegionNetwork, type NetworkChoice, type Placement } from './network.js';
import { isAlive } from './proc-identity.js';
import { startLatencyProxy, type LatencyProxy } from '../../net/latency-proxy.js';

export interface ProcessDriverOptions {
  /** holds the index of machines and the network record; a new driver on the same root finds them */
  root: string;
  /** 'auto': namespaces when root with iproute2, loopback otherwise (default 'loopback') */
  network?: NetworkChoice;
  /** namespace name prefix (default "erne-") */
  netnsPrefix?: string;
  /** first two octets of the region subnets (default "10.77") */
  subnet?: string;
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
}

export class MachineNotFoundError extends Error {
  override readonly name = 'MachineNotFoundError';
  constructor(readonly machineId: string) {
    super(`no machine ${machineId} in this driver`);
  }
}

const START_TIMEOUT_MS = 15_000;
const POLL_MS = 20;

/** the compiled supervisor: beside this file in dist/, or dist/ itself when this runs from source (tests) */
function supervisorPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'supervisor.js');
  if (existsSync(beside)) return beside;
  const built = join(here, '..', '..', '..', 'dist', 'machines', 'drivers', 'process', 'supervisor.js');
  if (existsSync(built)) return built;
  throw new Error(`the machine supervisor is not built (${built}): run npm run build`);
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
  private readonly links = new Set<LatencyProxy>();

  constructor(private readonly opts: ProcessDriverOptions) {
    mkdirSync(opts.root, { recursive: true });
    this.index = new MachineIndex(opts.root);
    this.network = new RegionNetwork({ root: opts.root, choice: opts.network ?? 'loopback', prefix: opts.netnsPrefix, subnet: opts.subnet });
  }

  /** a workDir under the root, for a scheduler that has no better place */
  workDirFor(machineId: string): string {
    return join(this.opts.root, 'machines', encodeURIComponent(machineId));
  }

  /** where the host reaches a machine of `region`, and where such a machine reaches the host */
  async placement(region: string): Promise<Placement> {
    return this.network.place(region);
  }

  async start(spec: LaunchSpec): Promise<void> {
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

    const place = await this.network.place(spec.region);
    const publishHost = this.opts.publishHost ?? '127.0.0.1';
    const forwards: Forward[] = [];
    const detail: Record<string, string> = { ...place.detail };
    for (const p of spec.ports) {
      if (p.protocol !== 'tcp') {
        detail[`port_${p.internal}_${p.protocol}`] = 'not published (the process driver forwards tcp only)';
        continue;
      }
      // on loopback a port published as itself is the program's own listening socket
      if (place.machineHost === '127.0.0.1' && p.host === p.internal && publishHost === '127.0.0.1') continue;
      forwards.push({ listenHost: publishHost, listenPort: p.host, targetHost: place.machineHost, targetPort: p.internal });
    }
    const env = {
      ...(this.opts.baseEnv ?? defaultEnv()),
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
    const runId = randomUUID();
    const paths = files(spec.workDir);
    rmSync(paths.state, { force: true });
    rmSync(paths.exit, { force: true });
    writeJson(paths.launch, { spec, runId, argv: place.wrap(spec.argv), env, cwd: spec.volumeDir, forwards, detail } satisfies LaunchRecord);

    const sup = spawn(process.execPath, [supervisorPath(), spec.workDir], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let supErr = '';
    sup.stderr!.setEncoding('utf8').on('data', (d: string) => (supErr += d));
    let supEnded = false;
    sup.once('exit', () => (supEnded = true));
    sup.once('error', (err) => ((supEnded = true), (supErr += err.message)));
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      for (;;) {
        if (readJson<StateRecord>(paths.state)?.runId === runId) return;
        const exit = readJson<ExitRecord>(paths.exit);
        if (exit?.runId === runId) {
          if (exit.error) throw new Error(`machine ${spec.machineId}: ${exit.error}`);
          return; // ran and ended already: status() tells how
        }
        if (supEnded) throw new Error(`machine ${spec.machineId}: its supervisor ended before the program started${supErr ? `: ${supErr.trim()}` : ''}`);
        if (Date.now() > deadline) throw new Error(`machine ${spec.machineId}: not started within ${START_TIMEOUT_MS} ms`);
        await sleep(POLL_MS);
      }
    } finally {
      // from here on the supervisor lives on its own: it must not hold this process open, nor die with it
      sup.stderr!.destroy();
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

  async stop(machineId: string, opts: StopOptions = {}): Promise<void> {
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

  async destroy(machineId: string): Promise<void> {
    const workDir = this.index.workDir(machineId);
    if (!workDir) return;
    await this.stop(machineId);
    const launch = readJson<LaunchRecord>(files(workDir).launch);
    if (launch) rmSync(launch.spec.volumeDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
    this.index.remove(machineId);
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
   * A link from the machines of region `from` to `target` with a one-way delay each way (the
   * latency between regions; 0 for none), listening where those machines reach the host. It
   * runs in this process: the caller keeps it, and close() ends it.
   */
  async link(from: string, target: { host: string; port: number }, delayMs: number): Promise<LatencyProxy> {
    const place = await this.network.place(from);
    const proxy = await startLatencyProxy({ target, delayMs, host: place.hostAddress });
    this.links.add(proxy);
    const close = proxy.close.bind(proxy);
    proxy.close = () => (this.links.delete(proxy), close());
    return proxy;
  }

  /** ends this driver's links; machines keep running (a new driver adopts them) */
  async close(): Promise<void> {
    await Promise.all([...this.links].map((l) => l.close()));
  }

  /** destroys every machine, then the regions' namespaces: nothing of this driver is left */
  async destroyAll(): Promise<void> {
    await this.close();
    for (const id of this.index.ids()) await this.destroy(id);
    await this.network.teardown();
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

/** a signal to a process that may have just ended is not an error */
function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
