/**
 * The QueuePort on BullMQ in the region's own Redis: one queue per destination region,
 * `erne-repl-<dest>`. A job is only `{ id }` of an outbox entry (the worker reads the change
 * from the outbox, so Redis holds no object data) under the job id `jobId(dest, id)`, so the
 * relay adding an entry again while its job waits is not a second job. Finished and failed
 * jobs are removed: what stays unapplied is still in the outbox, and the relay adds it again.
 */
import { Queue } from 'bullmq';
import type { OutboxEntry } from '../metadata/changes.js';
import { jobId, type QueuePort } from './ports.js';

export const queueName = (dest: string): string => `erne-repl-${dest}`;

/** what a job carries */
export interface DeliveryJob {
  id: string;
}

/**
 * How long a Redis client waits before reconnecting, attempt after attempt: doubling from
 * 100 ms to at most 500 ms. (BullMQ's own default grows to 20 s, so after an outage of a dozen
 * seconds a region went on replicating nothing for seconds more once Redis was back.)
 */
export function reconnectDelay(attempt: number): number {
  return Math.min(500, 100 * 2 ** Math.min(10, Math.max(0, attempt - 1)));
}

/** the connection options of every queue and worker of a region's Redis */
export function redisConnection(url: string, extra: { enableOfflineQueue?: boolean } = {}) {
  return { url, retryStrategy: reconnectDelay, ...extra };
}

/** tries per job before BullMQ drops it (the relay re-adds it after resendAfterMs) */
export const JOB_ATTEMPTS = 12;

export interface BullQueuesOptions {
  redisUrl: string;
  dests: readonly string[];
  /** an add that has not finished by then fails (Redis unreachable); default 2 s */
  addTimeoutMs?: number;
  /** Redis connection errors (the caller reports them once per outage) */
  onError?: (err: Error) => void;
}

export class BullQueues implements QueuePort {
  private readonly queues = new Map<string, Queue<DeliveryJob>>();

  constructor(private readonly opts: BullQueuesOptions) {
    for (const dest of opts.dests) {
      // fail fast while Redis is away instead of queueing commands in memory
      const q = new Queue<DeliveryJob>(queueName(dest), {
        connection: redisConnection(opts.redisUrl, { enableOfflineQueue: false }),
        defaultJobOptions: { attempts: JOB_ATTEMPTS, backoff: { type: 'custom' }, removeOnComplete: true, removeOnFail: true },
      });
      q.on('error', (err) => opts.onError?.(err));
      this.queues.set(dest, q);
    }
  }

  async add(dest: string, entries: OutboxEntry[]): Promise<void> {
    const q = this.queues.get(dest);
    if (!q) throw new Error(`no queue for region ${dest}`);
    const jobs = entries.map((e) => ({ name: 'deliver', data: { id: e.id }, opts: { jobId: jobId(dest, e.id) } }));
    await withTimeout(q.addBulk(jobs), this.opts.addTimeoutMs ?? 2000, `Redis at ${this.opts.redisUrl} did not take the jobs`);
  }

  /** jobs waiting, delayed or running per destination (for status and metrics) */
  async depth(dest: string): Promise<number> {
    const q = this.queues.get(dest);
    if (!q) return 0;
    const c = await withTimeout(q.getJobCounts('waiting', 'delayed', 'active', 'prioritized'), this.opts.addTimeoutMs ?? 2000, `Redis at ${this.opts.redisUrl} did not answer`);
    return Object.values(c).reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    // closing says QUIT to Redis, which fails, or waits for a reconnection forever, while Redis
    // is away: after a moment the connection is just cut (which also settles the QUIT)
    await Promise.all(
      [...this.queues.values()].map(async (q) => {
        const closed = q.close().catch(() => undefined);
        if (!(await settlesWithin(closed, 1000))) await q.disconnect().catch(() => undefined);
        await closed;
      }),
    );
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  // a late failure of the abandoned add must not become an unhandled rejection
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** true when `p` settled within `ms` */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = await Promise.race([p.then(() => true as const), late]);
  clearTimeout(timer);
  return done;
}
