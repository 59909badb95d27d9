/**
 * One simulated region: a durable metadata store (it survives a crash), and a process —
 * the object layer with its clock, the outbox, the real Relay, a simulated Redis with its
 * workers calling the real deliver() — that a crash throws away whole. Its peers reach it
 * through the simulated network, which calls the real applyChanges() on arrival.
 */
import type { Change } from '../../../metadata/changes.js';
import { HybridClock } from '../../../metadata/hlc.js';
import type { ObjectLayer } from '../../../metadata/object-layer.js';
import { createObjectLayer } from '../../../metadata/objects.js';
import { Outbox, outboxSink } from '../../../metadata/outbox.js';
import { applyChanges } from '../../../replication/apply.js';
import { deliver } from '../../../replication/deliver.js';
import type { PeerPort } from '../../../replication/ports.js';
import { Relay } from '../../../replication/relay.js';
import { MemoryKv } from '../../helpers/memory-kv.js';
import { ChangeCapture } from './capture.js';
import type { Network } from './network.js';
import { SimRedis, type QueueOptions } from './queue.js';
import type { Scheduler } from './scheduler.js';

/** ms since epoch at simulated time 0 */
export const EPOCH_MS = 1_700_000_000_000;

export interface RegionOptions {
  relayEveryMs: number;
  resendAfterMs: number;
  pageSize: number;
  sendTimeoutMs: number;
  queue: QueueOptions;
  /** called when the region's process starts (the run adds its collection loop) */
  onStart?: (region: Region, proc: Process) => void;
  /** the relay hands new entries straight to deliver() (relay.ts, direct delivery); undefined: all go through the queue */
  direct?: { maxInFlight: number; holdMs: number; coolMs: number };
}

/** what one run of the region's process holds; all lost in a crash */
export interface Process {
  alive: boolean;
  clock: HybridClock;
  layer: ObjectLayer;
  relay: Relay;
  redis: SimRedis;
  /** a relay pass is due soon (kick) */
  kicked: boolean;
}

export interface Cluster {
  sched: Scheduler;
  net: Network;
  region(name: string): Region;
  trace(line: string): void;
}

export class Region {
  readonly kv = new MemoryKv();
  readonly outbox = new Outbox(this.kv);
  readonly capture = new ChangeCapture();
  proc: Process | undefined;

  constructor(
    readonly name: string,
    readonly peers: string[],
    /** this region's wall clock runs this many ms off the simulation's */
    private readonly skewMs: number,
    private readonly cluster: Cluster,
    private readonly opts: RegionOptions,
  ) {}

  get up(): boolean {
    return this.proc !== undefined;
  }

  wall(): number {
    return EPOCH_MS + this.cluster.sched.now + this.skewMs;
  }

  start(): void {
    const proc = { alive: true, kicked: false } as Process;
    proc.clock = new HybridClock(() => this.wall());
    // the layer records its own changes through the real outbox sink, as in a gateway
    const sink = this.capture.sink(outboxSink(this.peers, () => this.wall()));
    proc.layer = createObjectLayer(this.capture.wrap(this.kv), { region: this.name, clock: proc.clock, changes: sink });
    proc.redis = new SimRedis(this.cluster.sched, this.opts.queue, this.outbox, this.peerPort(proc), () => proc.alive, (l) => this.trace(l));
    const d = this.opts.direct;
    const peer = this.peerPort(proc);
    proc.relay = new Relay({
      dests: this.peers,
      outbox: this.outbox,
      queue: proc.redis,
      now: () => this.wall(),
      resendAfterMs: this.opts.resendAfterMs,
      pageSize: this.opts.pageSize,
      direct: d && {
        ...d,
        coolCapMs: 8 * d.coolMs,
        port: { deliver: (dest, entries) => deliver(dest, entries, peer, this.outbox) },
        onSettled: (dest, err, again) => {
          if (err) this.trace(`direct delivery to ${dest} failed: ${err.message}`);
          if (again) this.kick();
        },
      },
    });
    this.proc = proc;
    void this.relayLoop(proc);
    this.opts.onStart?.(this, proc);
  }

  /** the process dies: its memory (clock, relay, queue, messages it awaits) is gone */
  crash(): void {
    if (!this.proc) return;
    this.proc.alive = false;
    this.proc = undefined;
  }

  /** the changes a peer sent arrive here; throws what the endpoint would answer with */
  async receive(changes: Change[]): Promise<void> {
    const proc = this.proc;
    if (!proc) throw new Error('region is down');
    await applyChanges(this.kv, changes, { observe: (h) => proc.clock.update(h) });
  }

  private trace(line: string): void {
    this.cluster.trace(`${this.name} ${line}`);
  }

  /** a write was committed here: the relay runs at once rather than at its next tick */
  kick(): void {
    const proc = this.proc;
    if (!proc || proc.kicked) return;
    proc.kicked = true;
    this.cluster.sched.after(1, () => {
      proc.kicked = false;
      if (proc.alive) void this.relayPass(proc);
    });
  }

  private async relayLoop(proc: Process): Promise<void> {
    for (;;) {
      await this.cluster.sched.sleep(this.opts.relayEveryMs);
      if (!proc.alive) return;
      await this.relayPass(proc);
    }
  }

  private async relayPass(proc: Process): Promise<void> {
    try {
      const n = await proc.relay.pass();
      if (n > 0) this.trace(`relay enqueued ${n}`);
    } catch (err) {
      this.trace(`relay pass failed: ${(err as Error).message}`);
    }
  }

  /** the worker's view of the other regions: a request over the simulated network */
  private peerPort(proc: Process): PeerPort {
    const { net, sched } = this.cluster;
    return {
      send: (dest, changes) =>
        new Promise<void>((resolve, reject) => {
          let settled = false;
          const settle = (err?: string) => {
            // the process that asked may be gone: nothing of it resumes
            if (settled || !proc.alive) return;
            settled = true;
            if (err === undefined) resolve();
            else reject(new Error(err));
          };
          const what = `apply ×${changes.length}`;
          net.transmit(this.name, dest, what, changes, (copy) => {
            const to = this.cluster.region(dest);
            if (!to.up) return this.cluster.trace(`${dest} down: ${what} from ${this.name} lost`);
            to.receive(copy).then(
              () => net.transmit(dest, this.name, '204', null, () => settle()),
              (err: Error) => net.transmit(dest, this.name, `error ${err.name}`, err.message, (m) => settle(m)),
            );
          });
          sched.after(this.opts.sendTimeoutMs, () => settle('timeout'));
        }),
    };
  }
}
