/**
 * Replication as a gateway runs it, wired from its parts: the outbox sink every write calls
 * in its transaction, and (in one process per host: `deliver`) the relay moving entries into
 * the BullMQ queues of the region's Redis and the workers delivering them over HTTP to the
 * other regions; new entries the relay delivers itself at once, through the workers' batcher,
 * and only what that does not deliver goes through the queues (relay.ts says why). Nothing
 * here is on a write's path except the sink: a write never waits for Redis or for another
 * region.
 */
import type { ChangeSink } from '../metadata/changes.js';
import type { KvStore, KvTransaction } from '../metadata/kv.js';
import { Outbox, outboxSink } from '../metadata/outbox.js';
import { DeliveryBatcher } from './batcher.js';
import { BullQueues } from './bull-queue.js';
import { DeliveryWorkers, type BackoffOptions } from './bull-worker.js';
import { HttpPeer } from './http-peer.js';
import { ReplicationMonitor, type ReplicationMetrics } from './monitor.js';
import { Relay } from './relay.js';
import { OutageLog, RelayRunner } from './runner.js';
import { peersOf, type Topology } from './topology.js';

export interface ReplicationOptions {
  kv: KvStore;
  topology: Topology;
  redisUrl: string;
  log: (line: string) => void;
  /** run the relay and the delivery workers here (one process per host is enough); default true */
  deliver?: boolean;
  /** relay timing (tests shorten resendAfterMs); direct: false sends every entry through the queue */
  relay?: { intervalMs?: number; resendAfterMs?: number; pageSize?: number; direct?: boolean };
  backoff?: BackoffOptions;
  /** the gateway's replication metrics (lag, failures, depths; gateway/observe/replication-metrics.ts) */
  metrics?: ReplicationMetrics;
}

export interface Replication {
  /** for the object layer: records each change in the write's transaction */
  sink: ChangeSink;
  /** the store the object layer should use: a commit that recorded changes kicks the relay */
  store: KvStore;
  /** starts the relay and the workers (once the gateway serves: until then nothing is delivered) */
  start(): void;
  /** a pass of the relay soon */
  kick(): void;
  /** backlogs and lags for the status document and the metrics; told of changes applied here */
  monitor: ReplicationMonitor;
  close(): Promise<void>;
}

/**
 * How long an entry may stay enqueued and unapplied before the relay adds it again (its job
 * may be gone: Redis restarted empty, or its tries ran out). Re-adding a job that still
 * exists does nothing, so this only bounds how late a lost job is noticed.
 */
export const RESEND_AFTER_MS = 10_000;

export function startReplication(o: ReplicationOptions): Replication {
  const dests = peersOf(o.topology).map((r) => r.name);
  const sink = outboxSink(dests);
  const delivers = o.deliver !== false && dests.length > 0;
  const monitor = new ReplicationMonitor({ region: o.topology.self, dests, outbox: new Outbox(o.kv), metrics: o.metrics });
  let parts: ReturnType<typeof startDelivery> | undefined;
  let closed = false;
  // the transactions (attempts) that recorded a change: their commit kicks the relay
  const recording = new WeakMap<KvTransaction, () => void>();
  const kick = () => parts?.runner.kick();
  const store: KvStore = {
    transact: async (fn, opts) => {
      let recorded = false;
      const result = await o.kv.transact(async (tx) => {
        recorded = false; // a retried attempt starts over
        recording.set(tx, () => (recorded = true));
        return fn(tx);
      }, opts);
      if (recorded) kick();
      return result;
    },
    read: (fn) => o.kv.read(fn),
    close: () => o.kv.close(),
  };
  return {
    sink: (tx: KvTransaction, change) => {
      sink(tx, change);
      recording.get(tx)?.();
    },
    store,
    kick,
    monitor,
    start() {
      if (delivers && !parts && !closed) parts = startDelivery(o, dests, monitor);
    },
    async close() {
      closed = true;
      monitor.queues = undefined;
      await parts?.close();
    },
  };
}

function startDelivery(o: ReplicationOptions, dests: string[], monitor: ReplicationMonitor) {
  const redis = new OutageLog(o.log, {
    down: (err) => `replication: Redis at ${o.redisUrl} cannot take changes (${err.message}); they wait in the outbox and are enqueued when it answers`,
    up: `replication: Redis at ${o.redisUrl} answers again`,
  });
  const delivery = new Map(
    dests.map((d) => [d, new OutageLog(o.log, { down: (err) => `replication to ${d} is failing (${err.message}); retrying with back-off`, up: `replication to ${d} is delivering again` })]),
  );
  const outbox = new Outbox(o.kv);
  const queues = new BullQueues({ redisUrl: o.redisUrl, dests, onError: (err) => redis.failed(err) });
  const peer = new HttpPeer(o.topology);
  const onResult = (dest: string, err: Error | undefined) => {
    if (err) monitor.failed(dest);
    return err ? delivery.get(dest)?.failed(err) : delivery.get(dest)?.worked();
  };
  // one batcher for the workers and the relay's direct deliveries: an entry one of them
  // carries is left alone by the other
  const batcher = new DeliveryBatcher({ outbox, peer, onDelivered: (dest, entries, appliedAt) => monitor.delivered(dest, entries, appliedAt) });
  const workers = new DeliveryWorkers({
    redisUrl: o.redisUrl,
    dests,
    outbox,
    peer,
    batcher,
    backoff: o.backoff,
    onError: (err) => redis.failed(err),
    onResult: (dest, err) => {
      if (!err) relay.reopen(dest);
      onResult(dest, err);
    },
  });
  monitor.queues = queues;
  const relay = new Relay({
    dests,
    outbox,
    queue: queues,
    now: Date.now,
    resendAfterMs: o.relay?.resendAfterMs ?? RESEND_AFTER_MS,
    pageSize: o.relay?.pageSize ?? 256,
    direct:
      o.relay?.direct === false
        ? undefined
        : {
            port: { deliver: (dest, entries) => batcher.deliverNow(dest, entries) },
            // what a delivery held back, or failed to deliver (now in the queue or not), is looked at again at once
            onSettled: (dest, err, again) => {
              onResult(dest, err);
              if (again) runner.kick();
            },
          },
  });
  const runner: RelayRunner = new RelayRunner(relay, {
    intervalMs: o.relay?.intervalMs,
    // a pass that enqueued reached Redis; one with nothing to enqueue may not have
    onPass: (err) => (err ? redis.failed(err) : relay.enqueued > 0 && redis.worked()),
  });
  runner.start();
  return {
    runner,
    async close() {
      await runner.stop();
      await relay.idle();
      await workers.close();
      await queues.close();
      peer.close();
    },
  };
}
