/**
 * `erne dev --driver NAME`: the regions' gateways as machines of a driver that runs them on
 * this host (the registry in machines/drivers/index.ts), kept by an in-process scheduler whose
 * store lives under DATA_DIR/machines, with the Machines API on loopback (so `erne machines
 * list --endpoint …` shows them). Each gateway is the Erne app's machine of its region with
 * restart policy `always`: a gateway that dies is started again by the scheduler, and this
 * module says so. Stopping destroys every machine it made; machines left by an earlier run
 * that was killed outright (they outlive their scheduler by design) are removed first.
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineEvent } from '../../machines/api/types.js';
import type { MachineRecord } from '../../machines/store.js';
import { driverEntry, type DriverEntry, type OpenedDriver } from '../../machines/drivers/index.js';
import { parseLogLine } from '../../machines/drivers/process/log-file.js';
import { ProcessDriver } from '../../machines/drivers/process/index.js';
import type { NetworkChoice } from '../../machines/drivers/process/network.js';
import { runProbe } from '../../machines/scheduler/probe.js';
import { startMachinesService, type MachinesService } from '../../machines/service.js';
import { CommandError } from '../errors.js';
import type { ClusterFileDoc } from './cluster-file.js';
import { httpAnswers, SERVE_BANNER, type GatewayPlan } from './gateway.js';
import { devGatewayConfig } from './gateway-machine.js';

export const DEV_APP = 'erne';
/** the Machines API's token, beside its store */
export const TOKEN_FILE = 'token';
const READY_TIMEOUT_MS = 60_000;
const DESTROY_TIMEOUT = '60s';

export interface DevMachinesOptions {
  driver: string;
  /** erne dev's data directory: the store, the driver's files and the volumes go under DIR/machines */
  dataDir: string;
  /** the Machines API's port on 127.0.0.1 (0: a free one) */
  apiPort: number;
  /** its bearer token */
  token: string;
  /** process driver: the regions' network (default loopback) */
  network?: NetworkChoice;
  notice: (line: string) => void;
  log: (line: string) => void;
}

/** the API token of a dev cluster: made from its cluster secret, so it is the same on every run */
export function devMachinesToken(clusterSecret: string): string {
  return createHmac('sha256', clusterSecret).update('erne dev machines api').digest('base64url').slice(0, 32);
}

interface Watched {
  region: string;
  port: number;
  /** the gateway program's pid while it runs (kept after its exit, for the notice) */
  pid?: number;
  /** the newest exit or replace event already told */
  told?: string;
  /** it went down and has not answered since */
  down: boolean;
  /** a wait for its port after a restart */
  waiting?: boolean;
}

export class DevGatewayMachines {
  private readonly watched = new Map<string, Watched>();
  private readonly logs = new AbortController();
  private stopping = false;

  private constructor(
    readonly entry: DriverEntry,
    private readonly driver: OpenedDriver,
    readonly service: MachinesService,
    private readonly opts: DevMachinesOptions,
  ) {
    service.control.changes.on('change', this.onChange);
  }

  static async open(opts: DevMachinesOptions): Promise<DevGatewayMachines> {
    const entry = driverEntry(opts.driver);
    if (!entry.local) throw new CommandError(`--driver ${opts.driver}: erne dev runs its gateways on this machine, and the ${opts.driver} driver runs machines elsewhere`);
    const dir = join(opts.dataDir, 'machines');
    let driver: OpenedDriver;
    try {
      driver = entry.open({ dataDir: dir, network: opts.network, log: (l) => opts.notice(l.startsWith(`${opts.driver}: `) ? l : `${opts.driver}: ${l}`) });
    } catch (err) {
      // --network netns where namespaces cannot be made: the network's one line
      if (err instanceof Error && err.message.startsWith('cannot use network namespaces')) throw new CommandError(err.message);
      throw err;
    }
    if (driver instanceof ProcessDriver && opts.network === 'auto' && driver.network.mode === 'loopback') opts.notice(`--network auto: the gateways share the host's loopback network (${driver.network.reason})`);
    // an earlier erne dev killed outright left its machines running: they go, and so does its store
    for (const left of await driver.list()) {
      if (left.status.state === 'running') opts.notice(`stopping machine ${left.machineId} (pid ${left.status.pid}), left running by an earlier erne dev`);
      await driver.destroy(left.machineId);
    }
    for (const part of ['machines.json', 'volumes', 'machines']) rmSync(join(dir, part), { recursive: true, force: true });
    // for `ERNE_MACHINES_TOKEN=$(cat DATA_DIR/machines/token) erne machines …`
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, TOKEN_FILE), opts.token + '\n', { mode: 0o600 });
    const service = await startMachinesService({ dataDir: dir, host: '127.0.0.1', port: opts.apiPort, token: opts.token, driver, probe: runProbe, log: (l) => opts.notice(`scheduler: ${l}`) });
    service.control.createApp({ app_name: DEV_APP });
    return new DevGatewayMachines(entry, driver, service, opts);
  }

  get url(): string {
    return this.service.url;
  }

  /** creates the region's gateway machine and resolves once it answers HTTP: its id and pid */
  async start(g: GatewayPlan): Promise<{ machineId: string; pid: number | undefined }> {
    const local = this.entry.local!;
    const config = devGatewayConfig(g, local, JSON.parse(readFileSync(g.clusterFile, 'utf8')) as ClusterFileDoc);
    const m = this.service.control.create(DEV_APP, { region: g.region, name: `${g.region}-gateway`, config });
    this.watched.set(m.id, { region: g.region, port: g.port, down: false });
    let following = false;
    const readyMs = local.readyTimeoutMs ?? READY_TIMEOUT_MS;
    const deadline = Date.now() + readyMs;
    for (;;) {
      const rec = this.record(m.id);
      if (this.stopping) throw new CommandError(`${g.region} gateway was not started: stopping`);
      const ended = rec.events.find((e) => e.type === 'exit' || (e.type === 'start' && e.status === 'failed'));
      if (ended) throw new CommandError(`${g.region} gateway (machine ${m.id}) ${startEnd(ended)} before it was ready${await this.lastWord(m.id)}`);
      // the driver knows the machine (and its log) once it has started it
      if (rec.state === 'started' && !following) following = (void this.follow(m.id, g.region), true);
      if (rec.state === 'started' && rec.erne?.pid !== undefined && (await httpAnswers(g.port))) {
        this.watched.get(m.id)!.pid = rec.erne.pid;
        return { machineId: m.id, pid: rec.erne.pid };
      }
      if (Date.now() > deadline) throw new CommandError(`${g.region} gateway (machine ${m.id}) was not ready within ${readyMs / 1000} s${await this.lastWord(m.id)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** the gateway programs' pids now (for a last-resort kill) */
  pids(): number[] {
    return this.service.control.store.machines(DEV_APP).flatMap((m) => (m.state !== 'destroyed' && m.erne?.pid !== undefined ? [m.erne.pid] : []));
  }

  /** destroys every machine (each program stopped, SIGKILL after its timeout), then stops the scheduler and the API */
  async stop(): Promise<void> {
    this.stopping = true;
    const { control } = this.service;
    const live = control.store.machines(DEV_APP).filter((m) => m.state !== 'destroyed');
    for (const m of live) if (m.state !== 'destroying') control.destroy(DEV_APP, m.id, true, undefined);
    const gone = await Promise.all(live.map((m) => control.wait(DEV_APP, m.id, { state: 'destroyed', timeout: DESTROY_TIMEOUT })));
    this.logs.abort();
    control.changes.off('change', this.onChange);
    await this.service.close();
    await this.driver.close?.();
    const left = live.filter((_, i) => !gone[i]);
    if (left.length) throw new Error(`machines ${left.map((m) => m.id).join(', ')} were not destroyed within ${DESTROY_TIMEOUT}`);
  }

  /** a second Ctrl-C, or this process ending: each gateway's process group is killed at once */
  killAll(): void {
    this.stopping = true;
    for (const pid of this.pids()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  private record(id: string): MachineRecord {
    return this.service.control.store.machine(id)!;
  }

  /** says when a gateway died (and that the scheduler restarts it), and when it is back */
  private readonly onChange = (id?: string): void => {
    if (this.stopping || id === undefined) return;
    const w = this.watched.get(id);
    const m = this.service.control.store.machine(id);
    if (!w || !m || m.desired === 'destroyed') return;
    // before it first answered, start() speaks for it
    if (w.pid === undefined) return;
    const newest = m.events.find((e) => e.type === 'exit' || e.type === 'replace' || (e.type === 'start' && e.status === 'failed'));
    if (newest && newest.id !== w.told) {
      w.told = newest.id;
      w.down = true;
      const wait = m.next_start_at !== undefined ? ` in ${Number((Math.max(0, m.next_start_at - Date.now()) / 1000).toFixed(2))} s` : '';
      const who = `${w.region} gateway (machine ${id}, pid ${w.pid})`;
      if (newest.type === 'replace') this.opts.notice(`${who} failed its health check; the scheduler replaces it${wait}`);
      else if (newest.type === 'start') this.opts.notice(`${w.region} gateway (machine ${id}) could not be started again (${String(newest.request?.['error'] ?? 'unknown')}); ${m.desired === 'started' ? `the scheduler tries again${wait}` : 'its restart policy gives up'}`);
      else if (newest.status === 'starting') this.opts.notice(`${who} died (${exitCause(newest.request)}); the scheduler restarts it${wait} (restart policy ${m.config.restart?.policy ?? 'on-failure'})`);
      else this.opts.notice(`${who} ended (${exitCause(newest.request)}); its restart policy does not start it again`);
    }
    if (w.down && !w.waiting && m.state === 'started' && m.erne?.pid !== undefined && m.erne.pid !== w.pid) void this.waitBack(id, w, m.erne.pid);
  };

  /** once the new instance answers on its port: "is back" */
  private async waitBack(id: string, w: Watched, pid: number): Promise<void> {
    w.waiting = true;
    try {
      while (!this.stopping && this.record(id).erne?.pid === pid) {
        if (await httpAnswers(w.port)) {
          w.pid = pid;
          w.down = false;
          this.opts.notice(`${w.region} gateway (machine ${id}) is back (pid ${pid})`);
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      w.waiting = false;
    }
    // another instance came meanwhile: look again
    this.onChange(id);
  }

  /** the gateway's own output, as erne dev shows its children's: `[iad gateway] …` */
  private async follow(id: string, region: string): Promise<void> {
    try {
      for await (const raw of this.driver.logs(id, { follow: true, signal: this.logs.signal })) {
        const line = parseLogLine(raw);
        // the driver's own stamped notes are not the gateway's; a line in no stamp (a VM's console)
        // is, unless the driver says it is its own or the guest kernel's
        if ((line.source === 'erne' && line.time !== '') || line.text.trim() === '' || SERVE_BANNER.test(line.text) || this.entry.local?.ownLines?.test(line.text)) continue;
        this.opts.log(`[${region} gateway] ${line.text}`);
      }
    } catch {
      // the machine is gone (destroyed): nothing more to show
    }
  }

  /** ": <the last line the program wrote>", or '' */
  private async lastWord(id: string): Promise<string> {
    const lines: string[] = [];
    try {
      for await (const raw of this.driver.logs(id)) {
        const l = parseLogLine(raw);
        if (l.source !== 'erne' || / ended | exited |cannot /.test(l.text)) lines.push(l.text);
      }
    } catch {
      return '';
    }
    const last = [...lines].reverse().find((l) => l.startsWith('erne: ')) ?? lines.at(-1);
    return last ? `: ${last.replace(/^erne: /, '')}` : '';
  }
}

/** "SIGKILL", "exit code 1" */
function exitCause(request: Record<string, unknown> | undefined): string {
  if (typeof request?.['signal'] === 'string') return request['signal'];
  return `exit code ${String(request?.['exit_code'] ?? 'unknown')}`;
}

/** why a gateway that never got ready ended */
function startEnd(e: MachineEvent): string {
  if (e.type === 'start') return `could not be started (${String(e.request?.['error'] ?? 'unknown')})`;
  return `ended (${exitCause(e.request)})`;
}
