/**
 * What the Machines API's routes ask for, decided against the store: apps and machines are
 * created and changed here, each change recorded as the machine's wanted state (`desired`)
 * and a Fly state that says what is under way (starting, stopping, replacing, destroying).
 * The scheduler does the work and reports back through `transition`. Leases are checked here
 * for every mutating call; `wait` resolves on the store's changes, not by polling.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MachineRecord, MachineStore, Desired } from '../store.js';
import { parseDuration } from '../duration.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { checkLease } from './leases.js';
import { validateConfig } from './config.js';
import type { App, CreateMachineRequest, Machine, MachineEvent, MachineState } from './types.js';

const APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DEFAULT_SIGNAL: NodeJS.Signals = 'SIGTERM';

export interface ControlOptions {
  /** the region a machine gets when its request names none */
  defaultRegion: string;
  driver: string;
}

export function newMachineId(): string {
  return randomBytes(7).toString('hex');
}

/** sortable like Fly's ULID instance ids: time first, then randomness */
export function newInstanceId(): string {
  return Date.now().toString(36).toUpperCase().padStart(10, '0') + randomBytes(8).toString('hex').toUpperCase();
}

export function machineEvent(type: string, status: string, source: 'user' | 'flyd', request?: Record<string, unknown>): MachineEvent {
  return { id: newInstanceId(), type, status, source, timestamp: Date.now(), ...(request ? { request } : {}) };
}

/** the public document: internals of the scheduler stay out */
export function publicMachine(m: MachineRecord): Machine {
  const { app: _a, desired: _d, lease: _l, stop: _s, restart_requested: _r, failures: _f, next_start_at: _n, started_at: _t, ...pub } = m;
  return pub;
}

export class MachinesControl {
  /** emits 'change' with the machine id after every change a waiter could care about */
  readonly changes = new EventEmitter();

  constructor(
    readonly store: MachineStore,
    private readonly opts: ControlOptions,
  ) {
    this.changes.setMaxListeners(0);
  }

  // ---- apps

  createApp(body: { app_name?: unknown; org_slug?: unknown }): App {
    const name = body.app_name;
    if (typeof name !== 'string' || !APP_NAME.test(name)) throw badRequest('app_name: 1 to 63 characters from a-z 0-9 -, starting with a letter or digit');
    if (this.store.app(name)) throw new ApiError(409, `app ${name} already exists`);
    const slug = typeof body.org_slug === 'string' && body.org_slug ? body.org_slug : 'personal';
    const app: App = { id: name, name, status: 'deployed', organization: { name: slug, slug } };
    this.store.update((d) => void (d.apps[name] = app));
    return app;
  }

  getApp(name: string): App {
    const app = this.store.app(name);
    if (!app) throw notFound(`app ${name}`);
    return { ...app, machine_count: this.live(name).length };
  }

  listApps(): { total_apps: number; apps: App[] } {
    const apps = this.store.apps().map((a) => ({ ...a, machine_count: this.live(a.name).length }));
    return { total_apps: apps.length, apps };
  }

  /** its machines are destroyed (by the scheduler) and the app is gone at once */
  deleteApp(name: string): void {
    this.getApp(name);
    this.store.update((d) => {
      delete d.apps[name];
      for (const m of Object.values(d.machines)) if (m.app === name && m.state !== 'destroyed') this.want(m, 'destroyed', 'destroying', 'destroy', { force: true });
    });
    this.changed();
  }

  // ---- machines

  private live(app: string): MachineRecord[] {
    return this.store.machines(app).filter((m) => m.state !== 'destroyed');
  }

  list(app: string, opts: { region?: string; includeDeleted?: boolean } = {}): Machine[] {
    this.getApp(app);
    return this.store
      .machines(app)
      .filter((m) => (opts.includeDeleted || m.state !== 'destroyed') && (!opts.region || m.region === opts.region))
      .sort((a, b) => a.created_at.localeCompare(b.created_at))
      .map(publicMachine);
  }

  record(app: string, id: string): MachineRecord {
    this.getApp(app);
    const m = this.store.machine(id);
    if (!m || m.app !== app) throw notFound(`machine ${id}`);
    return m;
  }

  get(app: string, id: string): Machine {
    return publicMachine(this.record(app, id));
  }

  create(app: string, body: Partial<CreateMachineRequest>): Machine {
    this.getApp(app);
    const config = validateConfig(body.config);
    const region = typeof body.region === 'string' && body.region ? body.region : typeof config['region'] === 'string' ? config['region'] : this.opts.defaultRegion;
    const id = newMachineId();
    const instance = newInstanceId();
    const now = new Date().toISOString();
    const launch = body.skip_launch !== true;
    const m: MachineRecord = {
      id,
      name: typeof body.name === 'string' && body.name ? body.name : `${app}-${id.slice(0, 6)}`,
      state: 'created',
      region,
      instance_id: instance,
      version: instance,
      private_ip: '127.0.0.1',
      config,
      image_ref: { registry: '', repository: config.image ?? '', tag: '', digest: '' },
      created_at: now,
      updated_at: now,
      events: [machineEvent('launch', 'created', 'user')],
      checks: [],
      erne: { driver: this.opts.driver, restarts: 0 },
      app,
      desired: launch ? 'started' : 'stopped',
      failures: 0,
    };
    this.store.update((d) => void (d.machines[id] = m));
    this.changed(id);
    return publicMachine(m);
  }

  /** a new version: new instance id, the config replaced, the old instance stopped for it */
  update(app: string, id: string, body: Partial<CreateMachineRequest>, nonce: string | undefined): Machine {
    const m = this.mutable(app, id, nonce);
    const config = validateConfig(body.config);
    if (typeof body.region === 'string' && body.region && body.region !== m.region) throw badRequest('region: a machine cannot move to another region; create a new one');
    const instance = newInstanceId();
    this.store.update(() => {
      m.config = config;
      m.instance_id = instance;
      m.version = instance;
      m.image_ref = { ...m.image_ref, repository: config.image ?? '' };
      m.failures = 0;
      delete m.next_start_at;
      m.events.unshift(machineEvent('update', 'replacing', 'user'));
      m.state = 'replacing';
      m.desired = body.skip_launch === true ? (m.desired === 'started' ? 'stopped' : m.desired) : 'started';
      m.updated_at = new Date().toISOString();
    });
    this.changed(id);
    return publicMachine(m);
  }

  start(app: string, id: string, nonce: string | undefined): { previous_state: MachineState; migrated: boolean; new_host: string } {
    const m = this.mutable(app, id, nonce);
    const previous = m.state;
    if (previous !== 'started' && previous !== 'starting') {
      this.store.update(() => {
        m.failures = 0;
        delete m.next_start_at;
        this.want(m, 'started', 'starting', 'start');
      });
      this.changed(id);
    }
    return { previous_state: previous, migrated: false, new_host: '' };
  }

  stop(app: string, id: string, body: { signal?: unknown; timeout?: unknown }, nonce: string | undefined): void {
    const m = this.mutable(app, id, nonce);
    const stop = stopOptions(body.signal, body.timeout);
    this.store.update(() => {
      m.stop = stop;
      if (m.state === 'stopped' || m.state === 'created' || m.state === 'failed') m.desired = 'stopped';
      else this.want(m, 'stopped', 'stopping', 'stop');
    });
    this.changed(id);
  }

  restart(app: string, id: string, q: { signal?: string; timeout?: string }, nonce: string | undefined): void {
    const m = this.mutable(app, id, nonce);
    const stop = stopOptions(q.signal, q.timeout);
    this.store.update(() => {
      m.stop = stop;
      m.failures = 0;
      delete m.next_start_at;
      m.restart_requested = m.state === 'started';
      this.want(m, 'started', m.state === 'started' ? 'stopping' : 'starting', 'restart');
    });
    this.changed(id);
  }

  destroy(app: string, id: string, force: boolean, nonce: string | undefined): void {
    const m = this.mutable(app, id, nonce);
    if (!force && ['started', 'starting', 'replacing', 'stopping'].includes(m.state)) {
      throw new ApiError(412, `unable to destroy machine ${id}: it is ${m.state}, not stopped, suspended or failed (stop it first, or ?force=true)`);
    }
    this.store.update(() => this.want(m, 'destroyed', 'destroying', 'destroy', { force }));
    this.changed(id);
  }

  suspend(app: string, id: string, nonce: string | undefined): void {
    const m = this.mutable(app, id, nonce);
    if (m.state !== 'started') throw new ApiError(412, `machine ${id} is ${m.state}: only a started machine can be suspended`);
    this.store.update(() => this.want(m, 'suspended', 'stopping', 'suspend'));
    this.changed(id);
  }

  events(app: string, id: string): MachineEvent[] {
    return this.record(app, id).events;
  }

  /**
   * resolves true once the machine is in `state` (for `instanceId`: that version; a replaced
   * version counts as stopped), false when the timeout passes first
   */
  async wait(app: string, id: string, q: { state?: string; timeout?: string; instance_id?: string }): Promise<boolean> {
    const state = (q.state ?? 'started') as MachineState;
    if (!['started', 'stopped', 'suspended', 'destroyed'].includes(state)) throw badRequest(`state: expected started, stopped, suspended or destroyed, got ${q.state}`);
    let timeoutMs: number;
    try {
      timeoutMs = parseDuration(seconds(q.timeout), 60_000);
    } catch (err) {
      throw badRequest(`timeout: ${(err as Error).message}`);
    }
    if (timeoutMs > 300_000) throw badRequest('timeout: at most 300 seconds');
    this.record(app, id);
    const reached = () => {
      const m = this.store.machine(id)!;
      if (q.instance_id && m.instance_id !== q.instance_id) return state === 'stopped' || (state === 'destroyed' && m.state === 'destroyed');
      return m.state === state;
    };
    if (reached()) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.changes.off('change', onChange);
        resolve(ok);
      };
      const onChange = (changed?: string) => {
        if ((changed === undefined || changed === id) && reached()) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.changes.on('change', onChange);
    });
  }

  // ---- for the scheduler

  /** records a state the scheduler reached (with its event), and wakes waiters */
  transition(id: string, state: MachineState, event?: MachineEvent, patch: (m: MachineRecord) => void = () => undefined): void {
    const m = this.store.machine(id);
    if (!m) return;
    this.store.update(() => {
      m.state = state;
      if (event) m.events.unshift(event);
      patch(m);
      m.updated_at = new Date().toISOString();
    });
    this.changed(id);
  }

  /** a change the API made: the scheduler listens to act on it without waiting for its tick */
  private changed(id?: string): void {
    this.changes.emit('change', id);
  }

  private want(m: MachineRecord, desired: Desired, state: MachineState, type: string, request?: Record<string, unknown>): void {
    m.desired = desired;
    m.state = state;
    m.events.unshift(machineEvent(type, state, 'user', request));
    m.updated_at = new Date().toISOString();
  }

  /** the machine, if it may be changed by this caller: not destroyed, and the lease's nonce shown when leased */
  private mutable(app: string, id: string, nonce: string | undefined): MachineRecord {
    const m = this.record(app, id);
    if (m.state === 'destroyed' || m.state === 'destroying') throw new ApiError(412, `machine ${id} is ${m.state}`);
    checkLease(m, nonce);
    return m;
  }
}

function stopOptions(signal: unknown, timeout: unknown): { signal: NodeJS.Signals; timeout_ms?: number } {
  let sig: NodeJS.Signals = DEFAULT_SIGNAL;
  if (signal !== undefined && signal !== '') {
    const s = typeof signal === 'number' ? signal : String(signal).toUpperCase();
    const named = typeof s === 'number' ? numberedSignal(s) : ((s.startsWith('SIG') ? s : `SIG${s}`) as NodeJS.Signals);
    if (!named || !SIGNALS.has(named)) throw badRequest(`signal: not a signal: ${String(signal)}`);
    sig = named;
  }
  let timeoutMs: number | undefined;
  try {
    timeoutMs = timeout === undefined || timeout === '' ? undefined : parseDuration(seconds(timeout as string | number), 0);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  return { signal: sig, ...(timeoutMs !== undefined ? { timeout_ms: timeoutMs } : {}) };
}

const SIGNALS = new Set<string>(['SIGABRT', 'SIGALRM', 'SIGFPE', 'SIGHUP', 'SIGILL', 'SIGINT', 'SIGKILL', 'SIGPIPE', 'SIGQUIT', 'SIGSEGV', 'SIGTERM', 'SIGTRAP', 'SIGUSR1', 'SIGUSR2']);

function numberedSignal(n: number): NodeJS.Signals | undefined {
  const byNumber: Record<number, NodeJS.Signals> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 10: 'SIGUSR1', 12: 'SIGUSR2', 15: 'SIGTERM' };
  return byNumber[n];
}

/** a bare number in a query string is seconds, as Fly's `timeout=60` */
function seconds(v: string | number | undefined): string | number | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
}
