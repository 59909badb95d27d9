/**
 * The fly driver: each Erne machine is a machine of one app behind a Fly Machines API (Fly's
 * own, or another Erne's), found again by the ids in its metadata. Every mutating call is
 * made under a lease of the driver's own (acquired, its nonce presented, released), so two
 * clients never change one machine at once; a lease someone else holds is waited out for a
 * while, then reported. Each step waits for the state it asked for.
 */
import type { Machine, MachineState } from '../../api/types.js';
import { MachinesApiError, MachinesClient } from '../../client.js';
import type { DriverStatus, LaunchSpec, MachineDriver, StopOptions } from '../types.js';
import { META_INSTANCE, META_MACHINE, flyConfig } from './config.js';

export interface FlyDriverOptions {
  /** the Machines API base URL (https://api.machines.dev for Fly) */
  endpoint: string;
  token: string;
  /** the app on that API whose machines this driver makes */
  app: string;
  /** the image Fly runs (Fly needs one; Erne's API runs init.exec without) */
  image?: string;
  leaseTtlS?: number;
  /** how long to wait for a lease someone else holds before giving up */
  leaseWaitMs?: number;
  waitTimeoutS?: number;
  /** told each time a change waits for a lease someone else holds (its 409 text) */
  onLeaseBusy?: (machineId: string, message: string) => void;
}

export class FlyDriver implements MachineDriver {
  readonly name = 'fly';
  readonly client: MachinesClient;

  constructor(private readonly o: FlyDriverOptions) {
    this.client = new MachinesClient({ endpoint: o.endpoint, token: o.token });
  }

  private async remote(machineId: string): Promise<Machine | undefined> {
    const all = await this.client.list(this.o.app).catch((err: unknown) => {
      if (err instanceof MachinesApiError && err.status === 404) return [] as Machine[];
      throw err;
    });
    return all.find((m) => m.config.metadata?.[META_MACHINE] === machineId && m.state !== 'destroyed');
  }

  private async withLease<T>(id: string, fn: (nonce: string) => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.o.leaseWaitMs ?? 10_000);
    let nonce: string;
    for (let pause = 100; ; pause = Math.min(pause * 2, 1000)) {
      try {
        nonce = (await this.client.acquireLease(this.o.app, id, { ttl: this.o.leaseTtlS ?? 30, description: 'erne fly driver' })).data.nonce;
        break;
      } catch (err) {
        if (!(err instanceof MachinesApiError) || err.status !== 409 || Date.now() > deadline) throw err;
        this.o.onLeaseBusy?.(id, err.message);
        await new Promise((r) => setTimeout(r, pause));
      }
    }
    try {
      return await fn(nonce);
    } finally {
      await this.client.releaseLease(this.o.app, id, nonce).catch(() => undefined);
    }
  }

  private async waitFor(id: string, state: MachineState, instanceId?: string): Promise<void> {
    const ok = await this.client.wait(this.o.app, id, state, { timeoutS: this.o.waitTimeoutS ?? 60, instanceId });
    if (!ok) throw new Error(`fly machine ${id} did not reach ${state} within ${this.o.waitTimeoutS ?? 60} s`);
  }

  async start(spec: LaunchSpec): Promise<void> {
    await this.client.ensureApp(this.o.app);
    const config = flyConfig(spec, this.o.image);
    const r = await this.remote(spec.machineId);
    if (!r) {
      const made = await this.client.create(this.o.app, { name: `erne-${spec.machineId}`, region: spec.region, config });
      return this.waitFor(made.id, 'started', made.instance_id);
    }
    if (r.config.metadata?.[META_INSTANCE] !== spec.instanceId) {
      const updated = await this.withLease(r.id, (nonce) => this.client.update(this.o.app, r.id, { region: spec.region, config }, nonce));
      return this.waitFor(r.id, 'started', updated.instance_id);
    }
    if (r.state === 'started') return;
    await this.withLease(r.id, (nonce) => this.client.start(this.o.app, r.id, nonce));
    await this.waitFor(r.id, 'started', r.instance_id);
  }

  async stop(machineId: string, opts: StopOptions = {}): Promise<void> {
    const r = await this.remote(machineId);
    if (!r || r.state === 'stopped') return;
    const timeout = opts.timeoutMs !== undefined ? `${Math.ceil(opts.timeoutMs / 1000)}s` : undefined;
    await this.withLease(r.id, (nonce) => this.client.stop(this.o.app, r.id, { signal: opts.signal ?? 'SIGTERM', timeout }, nonce));
    await this.waitFor(r.id, 'stopped', r.instance_id);
  }

  async signal(machineId: string, signal: NodeJS.Signals): Promise<void> {
    const r = await this.remote(machineId);
    if (!r) throw new Error(`no fly machine for ${machineId}`);
    await this.withLease(r.id, (nonce) => this.client.signal(this.o.app, r.id, signal, nonce));
  }

  async status(machineId: string): Promise<DriverStatus> {
    const r = await this.remote(machineId);
    return r ? statusOf(r) : { state: 'missing' };
  }

  async *logs(machineId: string, opts: { follow?: boolean; signal?: AbortSignal } = {}): AsyncIterable<string> {
    const r = await this.remote(machineId);
    if (!r) return;
    yield* this.client.logs(this.o.app, r.id, opts);
  }

  async destroy(machineId: string): Promise<void> {
    const r = await this.remote(machineId);
    if (!r) return;
    await this.withLease(r.id, (nonce) => this.client.destroy(this.o.app, r.id, true, nonce));
    await this.waitFor(r.id, 'destroyed');
  }

  async list(): Promise<{ machineId: string; instanceId: string; status: DriverStatus }[]> {
    const all = await this.client.list(this.o.app).catch((err: unknown) => {
      if (err instanceof MachinesApiError && err.status === 404) return [] as Machine[];
      throw err;
    });
    return all.flatMap((m) => {
      const machineId = m.config.metadata?.[META_MACHINE];
      const instanceId = m.config.metadata?.[META_INSTANCE];
      return machineId && instanceId && m.state !== 'destroyed' ? [{ machineId, instanceId, status: statusOf(m) }] : [];
    });
  }
}

function statusOf(m: Machine): DriverStatus {
  const detail = { fly_machine_id: m.id, fly_state: m.state, fly_instance_id: m.instance_id };
  switch (m.state) {
    case 'started':
    case 'starting':
    case 'replacing':
    case 'stopping':
      return { state: 'running', detail };
    case 'suspended':
      return { state: 'suspended', detail };
    case 'destroyed':
    case 'destroying':
      return { state: 'missing', detail };
    default:
      return { state: 'exited', exitCode: m.erne?.exit_code ?? null, detail };
  }
}
