/**
 * The delivery workers: one BullMQ Worker per destination region, each taking `{ id }` jobs
 * from `erne-repl-<dest>`, reading the entry from the outbox (an entry acknowledged since is a
 * job with nothing left to do) and delivering it with other pending entries in one request
 * (batcher.ts; deliver.ts: send, then acknowledge). A failed send throws, and BullMQ tries the
 * job again after a capped exponential back-off.
 */
import { Worker, type Job } from 'bullmq';
import type { OutboxEntry } from '../metadata/changes.js';
import { DeliveryBatcher } from './batcher.js';
import type { OutboxPort, PeerPort } from './ports.js';
import { queueName, redisConnection, type DeliveryJob } from './bull-queue.js';

export interface BackoffOptions {
  /** the first retry waits about this long; default 50 ms */
  baseMs: number;
  /** no retry waits longer; default 5 s */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 50, capMs: 5_000 };

/**
 * A job's lock lasts this long unless its worker renews it (every half of it, while the
 * delivery runs), and every this often a worker looks for jobs whose lock has lapsed: a job a
 * dead gateway was delivering goes back to the queue within about three times this. (BullMQ's
 * 30 s defaults left such an entry stuck for a minute or more after its gateway restarted:
 * the relay cannot re-add a job that still exists.)
 */
export const JOB_LOCK_MS = 5_000;

/** the wait before retry number `attempt` (1-based): doubling from baseMs up to capMs, ±20 % jitter */
export function backoffDelay(attempt: number, o: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const plain = Math.min(o.capMs, o.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(plain * (0.8 + 0.4 * random()));
}

export interface DeliveryWorkersOptions {
  redisUrl: string;
  dests: readonly string[];
  outbox: OutboxPort;
  peer: PeerPort;
  /** jobs delivered at once per destination; default 16 */
  concurrency?: number;
  backoff?: BackoffOptions;
  /** a job for `dest` was delivered (err undefined) or failed this try */
  onResult?: (dest: string, err: Error | undefined) => void;
  /** Redis connection errors (the caller reports them once per outage) */
  onError?: (err: Error) => void;
  /** `dest` answered at `appliedAt` (ms since epoch) that it applied `entries` (for the lag metrics) */
  onDelivered?: (dest: string, entries: OutboxEntry[], appliedAt: number) => void;
  /** the batcher to deliver through, when the relay delivers directly through it too (they must share what is carried) */
  batcher?: DeliveryBatcher;
}

export class DeliveryWorkers {
  private readonly workers: Worker<DeliveryJob>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private closing = false;
  private readonly batcher: DeliveryBatcher;

  constructor(private readonly o: DeliveryWorkersOptions) {
    this.batcher = o.batcher ?? new DeliveryBatcher({ outbox: o.outbox, peer: o.peer, onDelivered: o.onDelivered });
    const backoff = o.backoff ?? DEFAULT_BACKOFF;
    for (const dest of o.dests) {
      const w = new Worker<DeliveryJob>(queueName(dest), (job) => this.process(dest, job), {
        connection: redisConnection(o.redisUrl),
        concurrency: o.concurrency ?? 16,
        lockDuration: JOB_LOCK_MS,
        stalledInterval: JOB_LOCK_MS,
        // a worker whose fetch failed (Redis away) tries again this soon, not after BullMQ's 15 s
        runRetryDelay: 500,
        settings: { backoffStrategy: (attemptsMade: number) => backoffDelay(attemptsMade, backoff) },
      });
      w.on('error', (err) => o.onError?.(err));
      w.on('failed', (_job, err) => o.onResult?.(dest, err));
      w.on('completed', () => o.onResult?.(dest, undefined));
      this.workers.push(w);
    }
  }

  private process(dest: string, job: Job<DeliveryJob>): Promise<void> {
    if (this.closing) return Promise.reject(new Error('the gateway is closing'));
    const p = (async () => {
      await this.batcher.deliverJob(dest, job.data.id);
    })();
    const tracked = p.catch(() => undefined);
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return p;
  }

  /** lets deliveries in progress finish (each is bounded by the peer's timeout), then disconnects */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([...this.inFlight]);
    // forced: a graceful close would wait on Redis, which may be the thing that is down
    await Promise.all(this.workers.map((w) => w.close(true)));
  }
}
