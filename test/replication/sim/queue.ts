/**
 * A region's Redis as the relay and the workers see it, simulated: one job list per
 * destination with BullMQ's rules as Erne uses them — adding a job id that exists is a
 * no-op, a job that fails is retried with capped exponential back-off and dropped after its
 * last attempt (removeOnFail), a completed job is removed. Workers (per destination,
 * `concurrency` of them, a few jobs per delivery) read the entries from the outbox and call
 * the real deliver(). Everything here is memory: a region crash or a Redis restarted empty
 * loses it all, and a Redis that is down refuses jobs.
 */
import type { OutboxEntry } from '../../../metadata/changes.js';
import { deliver } from '../../../replication/deliver.js';
import { jobId, type OutboxPort, type PeerPort, type QueuePort } from '../../../replication/ports.js';
import type { Scheduler } from './scheduler.js';

interface Job {
  entryId: string;
  attempts: number;
  readyAt: number;
  active: boolean;
}

export interface QueueOptions {
  concurrency: number;
  batch: number;
  attempts: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export class SimRedis implements QueuePort {
  down = false;
  private jobs = new Map<string, Map<string, Job>>();
  private busy = new Map<string, number>();

  constructor(
    private readonly sched: Scheduler,
    private readonly opts: QueueOptions,
    private readonly outbox: OutboxPort,
    private readonly peer: PeerPort,
    /** false once the region process that owns the workers has crashed */
    private readonly alive: () => boolean,
    private readonly trace: (line: string) => void,
  ) {}

  async add(dest: string, entries: OutboxEntry[]): Promise<void> {
    if (this.down) throw new Error('redis is down');
    const q = this.queueOf(dest);
    for (const e of entries) {
      const id = jobId(dest, e.id);
      if (!q.has(id)) q.set(id, { entryId: e.id, attempts: 0, readyAt: this.sched.now, active: false });
    }
    this.wake(dest);
  }

  /** Redis restarted with nothing on disk */
  flush(): void {
    this.jobs = new Map();
  }

  /** Redis answers again: the workers pick up what waits */
  up(): void {
    this.down = false;
    for (const dest of this.jobs.keys()) this.wake(dest);
  }

  depth(dest: string): number {
    return this.jobs.get(dest)?.size ?? 0;
  }

  private queueOf(dest: string): Map<string, Job> {
    let q = this.jobs.get(dest);
    if (!q) this.jobs.set(dest, (q = new Map()));
    return q;
  }

  /** idle workers of `dest` take the ready jobs, oldest first */
  private wake(dest: string): void {
    while (this.alive() && !this.down && (this.busy.get(dest) ?? 0) < this.opts.concurrency) {
      const q = this.queueOf(dest);
      const ready: [string, Job][] = [];
      for (const [id, j] of q) {
        if (!j.active && j.readyAt <= this.sched.now) ready.push([id, j]);
        if (ready.length >= this.opts.batch) break;
      }
      if (ready.length === 0) return;
      for (const [, j] of ready) j.active = true;
      this.busy.set(dest, (this.busy.get(dest) ?? 0) + 1);
      void this.work(dest, q, ready);
    }
  }

  private async work(dest: string, q: Map<string, Job>, jobs: [string, Job][]): Promise<void> {
    let failed: unknown;
    try {
      const entries = await this.outbox.get(dest, jobs.map(([, j]) => j.entryId));
      await deliver(dest, entries, this.peer, this.outbox);
    } catch (err) {
      failed = err;
    }
    if (!this.alive()) return; // the process is gone: nothing of it runs on
    this.busy.set(dest, this.busy.get(dest)! - 1);
    for (const [id, j] of jobs) {
      if (q.get(id) !== j) continue; // Redis lost it meanwhile
      j.active = false;
      if (failed === undefined || ++j.attempts >= this.opts.attempts) {
        q.delete(id);
        continue;
      }
      const wait = Math.min(this.opts.maxBackoffMs, this.opts.backoffMs * 2 ** (j.attempts - 1));
      j.readyAt = this.sched.now + wait;
      this.sched.after(wait, () => this.wake(dest));
    }
    if (failed !== undefined) this.trace(`worker →${dest}: ${jobs.length} job(s) failed: ${(failed as Error).message}`);
    this.wake(dest);
  }
}
