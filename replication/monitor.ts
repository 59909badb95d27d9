/**
 * What an operator sees of a region's replication: per destination the outbox backlog, the
 * queue backlog, the age of the oldest entry not yet applied there and the recent lag (an
 * entry's commit to the destination's answer that it applied it); per source region the
 * changes applied here. The status document (GET /.erne/replication, `erne replication
 * status`) is computed on demand; the same numbers feed the Prometheus metrics through
 * `ReplicationMetrics`, whose shape the gateway's registry fills (gateway/observe/).
 */
import { LagWindow, type LagSummary } from './lag-window.js';

/** the metrics replication updates (gateway/observe/replication-metrics.ts registers them) */
export interface ReplicationMetrics {
  /** seconds, by dest */
  lag: { observe(v: number, labels: string[]): void };
  /** failed delivery attempts, by dest */
  failed: { inc(labels: string[]): void };
  /** changes applied here, by the region they came from */
  applied: { inc(labels: string[], by?: number): void };
  outboxDepth: { set(v: number, labels: string[]): void };
  queueDepth: { set(v: number, labels: string[]): void };
  /** seconds since the oldest entry still waiting for dest was committed (0: none waits) */
  oldestUnapplied: { set(v: number, labels: string[]): void };
}

/** how much of the outbox a status read counts at most (a deeper backlog is shown as at least this) */
export const DEPTH_COUNT_LIMIT = 100_000;

export interface DestinationStatus {
  dest: string;
  /** entries waiting for dest in the outbox (at least this many when outboxDepthCapped) */
  outboxDepth: number;
  outboxDepthCapped: boolean;
  /** seconds since the oldest of them was committed; null when none waits */
  oldestUnappliedSeconds: number | null;
  /** jobs waiting, delayed or running in dest's queue; null when this process does not deliver or Redis did not answer */
  queueDepth: number | null;
  /** why queueDepth is null, when Redis did not answer */
  queueError?: string;
  /** lags of the entries delivered in the window, in ms; null when none was */
  lag: LagSummary | null;
  /** since this process started: entries delivered, and delivery attempts that failed */
  delivered: number;
  failed: number;
}

export interface ReplicationStatus {
  region: string;
  /** ISO time of the reading */
  time: string;
  /** this process runs the relay and the delivery workers (with --workers, only worker 0 does) */
  delivering: boolean;
  /** lag percentiles cover deliveries this recent */
  lagWindowSeconds: number;
  destinations: DestinationStatus[];
  /** changes applied here since this process started, by source region */
  applied: Record<string, number>;
}

export interface MonitorOptions {
  region: string;
  dests: readonly string[];
  outbox: { depth(dest: string, limit?: number): Promise<{ count: number; oldestAt?: number }> };
  metrics?: ReplicationMetrics;
  now?: () => number;
  lagWindowMs?: number;
}

interface DestCounters {
  lags: LagWindow;
  delivered: number;
  failed: number;
}

export class ReplicationMonitor {
  private readonly dests = new Map<string, DestCounters>();
  private readonly appliedFrom = new Map<string, number>();
  private readonly now: () => number;
  /** set once this process delivers (service.ts): queue depths come from there */
  queues: { depth(dest: string): Promise<number> } | undefined;

  constructor(private readonly o: MonitorOptions) {
    this.now = o.now ?? Date.now;
    for (const d of o.dests) this.dests.set(d, { lags: new LagWindow(o.lagWindowMs), delivered: 0, failed: 0 });
  }

  /** dest answered at `appliedAt` that it applied entries committed at `at` */
  delivered(dest: string, entries: readonly { at: number }[], appliedAt: number): void {
    const d = this.dests.get(dest);
    if (!d) return;
    for (const e of entries) {
      const ms = Math.max(0, appliedAt - e.at);
      d.lags.add(appliedAt, ms);
      d.delivered++;
      this.o.metrics?.lag.observe(ms / 1000, [dest]);
    }
  }

  /** a delivery attempt to dest failed (it is retried) */
  failed(dest: string): void {
    const d = this.dests.get(dest);
    if (!d) return;
    d.failed++;
    this.o.metrics?.failed.inc([dest]);
  }

  /** `n` changes from region `from` were applied here */
  applied(from: string, n: number): void {
    this.appliedFrom.set(from, (this.appliedFrom.get(from) ?? 0) + n);
    this.o.metrics?.applied.inc([from], n);
  }

  /** reads the backlogs now (and sets the depth gauges to what it read) */
  async status(): Promise<ReplicationStatus> {
    const now = this.now();
    const destinations = await Promise.all(
      [...this.dests].map(async ([dest, d]): Promise<DestinationStatus> => {
        const [outbox, queue] = await Promise.all([this.o.outbox.depth(dest, DEPTH_COUNT_LIMIT), this.queueDepth(dest)]);
        const oldest = outbox.oldestAt === undefined ? null : Math.max(0, now - outbox.oldestAt) / 1000;
        const m = this.o.metrics;
        m?.outboxDepth.set(outbox.count, [dest]);
        m?.oldestUnapplied.set(oldest ?? 0, [dest]);
        if (typeof queue === 'number') m?.queueDepth.set(queue, [dest]);
        return {
          dest,
          outboxDepth: outbox.count,
          outboxDepthCapped: outbox.count >= DEPTH_COUNT_LIMIT,
          oldestUnappliedSeconds: oldest,
          queueDepth: typeof queue === 'number' ? queue : null,
          ...(typeof queue === 'string' ? { queueError: queue } : {}),
          lag: d.lags.summary(now) ?? null,
          delivered: d.delivered,
          failed: d.failed,
        };
      }),
    );
    return {
      region: this.o.region,
      time: new Date(now).toISOString(),
      delivering: this.queues !== undefined,
      lagWindowSeconds: (this.o.lagWindowMs ?? new LagWindow().windowMs) / 1000,
      destinations,
      applied: Object.fromEntries(this.appliedFrom),
    };
  }

  /** the depth, undefined when this process has no queues, or the error's message */
  private async queueDepth(dest: string): Promise<number | string | undefined> {
    if (!this.queues) return undefined;
    try {
      return await this.queues.depth(dest);
    } catch (err) {
      return (err as Error).message;
    }
  }
}
