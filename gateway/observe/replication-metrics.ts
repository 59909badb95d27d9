/**
 * The replication metrics of a region's gateway (registered only with --cluster), filled by
 * replication/monitor.ts: the lag histogram and the failure counter from the delivery
 * workers, the applied counter from the apply endpoint, and the depth gauges each time they
 * are read (at every scrape of /.erne/metrics and every status request).
 */
import type { ReplicationMetrics } from '../../replication/monitor.js';
import type { Registry } from './metrics.js';

/** seconds: 1 ms … 5 min (a region away for minutes has entries that wait that long) */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export function createReplicationMetrics(registry: Registry): ReplicationMetrics {
  return {
    lag: registry.histogram('erne_replication_lag_seconds', "from a change's commit here to the destination region answering that it applied it", ['dest'], LAG_BUCKETS),
    failed: registry.counter('erne_replication_failed_total', 'delivery attempts to the destination region that failed (each is retried)', ['dest']),
    applied: registry.counter('erne_replication_applied_total', 'changes from the source region applied here', ['from']),
    outboxDepth: registry.gauge('erne_replication_outbox_depth', 'outbox entries waiting for the destination region (counted up to 100000)', ['dest']),
    queueDepth: registry.gauge('erne_replication_queue_depth', "jobs waiting, delayed or running in the destination region's queue in this region's Redis", ['dest']),
    oldestUnapplied: registry.gauge('erne_replication_oldest_unapplied_seconds', 'age of the oldest outbox entry the destination region has not applied (0: none)', ['dest']),
  };
}
