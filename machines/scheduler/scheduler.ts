/**
 * The reconcile loop: for every stored machine, make what runs match what is wanted. Wanted
 * started and not running → start (after the back-off its failures earned); running an older
 * version → stop it and start the new one; exited → restart or stop by its restart policy;
 * failing its checks past the grace period → replace it with a new instance. On start it
 * adopts what the driver still runs (`driver.list()`): a scheduler restart never starts a
 * duplicate, and what no stored machine wants is stopped and removed.
 *
 * Passes run on a short tick and at once after an API change; each machine is reconciled by
 * one pass at a time.
 */
import { rmSync } from 'node:fs';
import type { MachinesControl } from '../api/control.js';
import { machineEvent, newInstanceId } from '../api/control.js';
import type { DriverStatus, MachineDriver } from '../drivers/types.js';
import type { MachineRecord } from '../store.js';
import { parseDuration } from '../duration.js';
import { HealthTracker, type Probe } from './health.js';
import { argvOf, launchSpec, machineDirs } from './launch-spec.js';
import { DEFAULT_BACKOFF, backoffMs, shouldRestart, type Backoff } from './restart-policy.js';

export interface SchedulerOptions {
  control: MachinesControl;
  driver: MachineDriver;
  /** volumes and machine work directories live under here */
  dataDir: string;
  probe: Probe;
  tickMs?: number;
  backoff?: Backoff;
  /** a machine that ran this long without failing has its failure count reset */
  healthyAfterMs?: number;
  log?: (line: string) => void;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;

export class Scheduler {
  private readonly control: MachinesControl;
  private readonly driver: MachineDriver;
  private readonly health: HealthTracker;
  private readonly backoff: Backoff;
  /** machine id → the instance the driver runs for it (from our start, or adopted) */
  private readonly running = new Map<string, string>();
  private readonly busy = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private again = false;
  private passing: Promise<void> | undefined;

  constructor(private readonly opts: SchedulerOptions) {
    this.control = opts.control;
    this.driver = opts.driver;
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.health = new HealthTracker(opts.probe, () => this.kick());
  }

  /** adopts what runs, then reconciles until stop() */
  async start(): Promise<void> {
    await this.adopt();
    this.stopped = false;
    this.control.changes.on('change', this.kick);
    this.timer = setInterval(this.kick, this.opts.tickMs ?? 250);
    this.kick();
  }

  /** stops reconciling; the machines keep running (a new scheduler adopts them) */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.control.changes.off('change', this.kick);
    await this.passing;
    await Promise.all(this.busy.values());
  }

  private readonly kick = (): void => {
    if (this.stopped) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.pass().finally(() => {
      this.passing = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  };

  private async pass(): Promise<void> {
    for (const m of this.control.store.machines()) {
      if (m.state === 'destroyed' || this.busy.has(m.id)) continue;
      const work = this.reconcile(m)
        .catch((err: unknown) => this.opts.log?.(`machine ${m.id}: ${(err as Error).message}`))
        .finally(() => {
          this.busy.delete(m.id);
          if (!this.stopped) this.again = true;
        });
      this.busy.set(m.id, work);
    }
  }

  private async adopt(): Promise<void> {
    for (const r of await this.driver.list()) {
      const m = this.control.store.machine(r.machineId);
      if (!m || m.state === 'destroyed' || m.desired === 'destroyed') {
        this.opts.log?.(`machine ${r.machineId}: running but not wanted: removing it`);
        await this.driver.destroy(r.machineId);
        continue;
      }
      if (r.status.state !== 'running') continue;
      this.running.set(m.id, r.instanceId);
      this.control.transition(m.id, m.state, machineEvent('adopt', 'running', 'flyd', { instance_id: r.instanceId }), (rec) => {
        rec.erne = { ...rec.erne!, driver: this.driver.name, pid: r.status.pid };
      });
    }
  }

  private async reconcile(m: MachineRecord): Promise<void> {
    const st = await this.driver.status(m.id);
    const isRunning = st.state === 'running';
    switch (m.desired) {
      case 'destroyed':
        return this.destroy(m);
      case 'stopped':
      case 'suspended':
        return this.bringDown(m, isRunning);
      case 'started':
        return isRunning ? this.keepUp(m, st) : this.bringUp(m, st);
    }
  }

  private async destroy(m: MachineRecord): Promise<void> {
    await this.driver.destroy(m.id);
    this.running.delete(m.id);
    this.health.forget(m.id);
    const dirs = machineDirs(this.opts.dataDir, m.id);
    rmSync(dirs.volumeDir, { recursive: true, force: true });
    rmSync(dirs.workDir, { recursive: true, force: true });
    this.control.transition(m.id, 'destroyed', machineEvent('destroy', 'destroyed', 'flyd'), (rec) => {
      delete rec.lease;
      rec.checks = [];
      delete rec.erne!.pid;
    });
  }

  private async bringDown(m: MachineRecord, isRunning: boolean): Promise<void> {
    if (isRunning) {
      if (m.desired === 'suspended' && this.driver.suspend) {
        await this.driver.suspend(m.id);
        this.running.delete(m.id);
        this.control.transition(m.id, 'suspended', machineEvent('suspend', 'suspended', 'flyd'));
        return;
      }
      await this.stopProcess(m);
      this.control.transition(m.id, 'stopped', machineEvent('exit', 'stopped', 'flyd', { signal: m.stop?.signal ?? 'SIGTERM' }), (rec) => {
        delete rec.erne!.pid;
        rec.checks = [];
      });
      return;
    }
    if (!['stopped', 'created', 'failed', 'suspended'].includes(m.state)) {
      this.control.transition(m.id, 'stopped', machineEvent('exit', 'stopped', 'flyd'), (rec) => void delete rec.erne!.pid);
    }
  }

  private async stopProcess(m: MachineRecord): Promise<void> {
    // the stop request's own signal and timeout, else the config's stop_config, else Fly's defaults
    const sc = m.config.stop_config;
    const signal = m.stop?.signal ?? (typeof sc?.signal === 'string' ? (sc.signal as NodeJS.Signals) : 'SIGTERM');
    let timeoutMs = m.stop?.timeout_ms ?? DEFAULT_STOP_TIMEOUT_MS;
    if (m.stop?.timeout_ms === undefined && sc?.timeout !== undefined) timeoutMs = parseDuration(sc.timeout, DEFAULT_STOP_TIMEOUT_MS);
    await this.driver.stop(m.id, { signal, timeoutMs });
    this.running.delete(m.id);
    this.health.forget(m.id);
  }

  /** running and wanted: the right version? healthy? */
  private async keepUp(m: MachineRecord, st: DriverStatus): Promise<void> {
    if (m.restart_requested) {
      await this.stopProcess(m);
      this.control.transition(m.id, 'starting', machineEvent('restart', 'starting', 'flyd'), (rec) => void (rec.restart_requested = false));
      return;
    }
    const instance = this.running.get(m.id) ?? m.instance_id;
    if (instance !== m.instance_id) {
      // an update (or a replacement) made a new version: the old one goes first
      await this.stopProcess(m);
      return;
    }
    if (m.state !== 'started') {
      this.control.transition(m.id, 'started', undefined, (rec) => void (rec.started_at ??= Date.now()));
    }
    const verdict = this.health.tick(m, st.detail?.['address'] ?? '127.0.0.1');
    if (verdict.statuses) this.control.transition(m.id, m.state, undefined, (rec) => void (rec.checks = verdict.statuses!));
    if (verdict.replace) return this.replace(m, verdict.replace);
    const healthyFor = Date.now() - (m.started_at ?? Date.now());
    if (m.failures > 0 && healthyFor > (this.opts.healthyAfterMs ?? 30_000)) this.control.transition(m.id, m.state, undefined, (rec) => void (rec.failures = 0));
  }

  private async replace(m: MachineRecord, check: string): Promise<void> {
    const failures = m.failures + 1;
    this.control.transition(m.id, 'replacing', machineEvent('replace', 'replacing', 'flyd', { reason: `health check ${check} failing` }), (rec) => {
      const instance = newInstanceId();
      rec.instance_id = instance;
      rec.version = instance;
      rec.failures = failures;
      rec.next_start_at = Date.now() + backoffMs(failures, this.backoff);
      rec.erne = { ...rec.erne!, restarts: rec.erne!.restarts + 1 };
    });
    await this.stopProcess(m);
  }

  /** wanted started, not running: it exited, or it has not been started yet */
  private async bringUp(m: MachineRecord, st: DriverStatus): Promise<void> {
    const now = Date.now();
    if (m.state === 'started' || (this.running.has(m.id) && st.state !== 'running')) {
      // it was running and is not any more: the program exited or was killed
      this.running.delete(m.id);
      this.health.forget(m.id);
      const failures = m.failures + 1;
      const again = shouldRestart(m.config, st.exitCode, failures);
      const exit = machineEvent('exit', again ? 'starting' : 'stopped', 'flyd', { exit_code: st.exitCode ?? null, signal: st.signal ?? null });
      this.control.transition(m.id, again ? 'starting' : 'stopped', exit, (rec) => {
        rec.failures = failures;
        rec.next_start_at = now + backoffMs(failures, this.backoff);
        rec.checks = [];
        rec.erne = { ...rec.erne!, exit_code: st.exitCode ?? null, restarts: rec.erne!.restarts + (again ? 1 : 0) };
        delete rec.erne.pid;
        if (!again) rec.desired = 'stopped';
      });
      return;
    }
    if (m.next_start_at !== undefined && now < m.next_start_at) return;
    const spec = launchSpec(m, this.opts.dataDir);
    try {
      if (argvOf(m).length === 0) throw new Error('nothing to run: the config has no init.exec, init.cmd or image');
      if (m.state !== 'starting') this.control.transition(m.id, 'starting');
      await this.driver.start(spec);
    } catch (err) {
      const failures = m.failures + 1;
      const again = shouldRestart(m.config, 1, failures);
      this.control.transition(m.id, 'failed', machineEvent('start', 'failed', 'flyd', { error: (err as Error).message }), (rec) => {
        rec.failures = failures;
        rec.next_start_at = Date.now() + backoffMs(failures, this.backoff);
        if (!again) rec.desired = 'stopped';
      });
      return;
    }
    this.running.set(m.id, spec.instanceId);
    const after = await this.driver.status(m.id);
    this.control.transition(m.id, m.desired === 'started' && m.instance_id === spec.instanceId ? 'started' : m.state, machineEvent('start', 'started', 'flyd'), (rec) => {
      rec.started_at = Date.now();
      delete rec.next_start_at;
      if (after.detail?.['address']) rec.private_ip = after.detail['address'];
      rec.erne = { ...rec.erne!, driver: this.driver.name, pid: after.pid, ...(after.detail ? { detail: after.detail } : {}) };
    });
  }
}
