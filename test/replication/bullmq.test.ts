/**
 * The BullMQ adapters (queue, workers) with the relay, against a real `redis-server` of the
 * test's own and a real LMDB outbox; the receiving region is a stand-in PeerPort that can be
 * "down". An entry added twice is one job; a failing send is retried with back-off; a Redis
 * SIGKILLed and restarted EMPTY loses no entry (the relay enqueues again what stays pending)
 * and the outage is logged once; closing leaves no connection to Redis, even when it is down.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { Outbox, outboxId, outboxSink } from '../../metadata/outbox.js';
import { BullQueues } from '../../replication/bull-queue.js';
import { backoffDelay, DeliveryWorkers } from '../../replication/bull-worker.js';
import type { PeerPort } from '../../replication/ports.js';
import { Relay } from '../../replication/relay.js';
import { OutageLog, RelayRunner } from '../../replication/runner.js';
import { versionChange } from '../helpers/cluster.js';
import { startRedis, redisServer, type TestRedis } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

const DEST = 'fra';

/** the receiving region: counts what it was sent, by outbox id; refuses while down */
class StandInPeer implements PeerPort {
  readonly applied = new Map<string, number>();
  sends = 0;
  down = false;
  async send(dest: string, changes: Change[]): Promise<void> {
    this.sends++;
    if (this.down) throw new Error(`${dest} is unreachable`);
    for (const c of changes) this.applied.set(outboxId(c), (this.applied.get(outboxId(c)) ?? 0) + 1);
  }
}

/** sockets of this process connected to `port` (ioredis connections left open would show here) */
function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof net.Socket && h.remotePort === port && !h.destroyed).length;
}

describeNeeds(redisServer)('BullMQ queue and workers against a real redis-server', () => {
  let redis: TestRedis;
  let dir: string;
  let kv: KvStore;
  let outbox: Outbox;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'erne-bull-'));
    kv = await openLmdb(dir);
    outbox = new Outbox(kv);
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await kv.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** commits `n` changes bound for fra in the outbox; their ids */
  async function commit(n: number, tag: string): Promise<string[]> {
    const sink = outboxSink([DEST]);
    const changes = Array.from({ length: n }, (_, i) => versionChange('photos', 1, `${tag}-${i}`, `${tag} ${i}`, 'iad'));
    await kv.transact(async (tx) => {
      for (const c of changes) sink(tx, c);
    });
    return changes.map(outboxId);
  }

  function queues(): BullQueues {
    const q = new BullQueues({ redisUrl: redis.url, dests: [DEST] });
    closers.push(() => q.close());
    return q;
  }

  function workers(peer: PeerPort, backoff = { baseMs: 10, capMs: 50 }, onError?: (err: Error) => void): DeliveryWorkers {
    const w = new DeliveryWorkers({ redisUrl: redis.url, dests: [DEST], outbox, peer, backoff, onError });
    closers.push(() => w.close());
    return w;
  }

  it('an entry added again while its job waits is not a second job, and is delivered once', async () => {
    const [id] = await commit(1, 'once');
    const [entry] = await outbox.pending(DEST, undefined, 10);
    const q = queues();
    await q.add(DEST, [entry!]);
    await q.add(DEST, [entry!]);
    // another relay (another gateway of the region) adding it too
    await queues().add(DEST, [entry!]);
    expect(await q.depth(DEST)).toBe(1);
    const peer = new StandInPeer();
    workers(peer);
    await waitFor('the entry acknowledged', async () => (await outbox.depth(DEST)).count === 0);
    await waitFor('the queue empty', async () => (await q.depth(DEST)) === 0);
    expect(peer.applied.get(id!)).toBe(1);
    expect(peer.sends).toBe(1);
  });

  it('a send that fails is tried again with back-off until it is applied; nothing is acknowledged before', async () => {
    const [id] = await commit(1, 'retry');
    const peer = new StandInPeer();
    peer.down = true;
    await queues().add(DEST, await outbox.pending(DEST, undefined, 10));
    workers(peer);
    await waitFor('three failed tries', () => peer.sends >= 3);
    expect((await outbox.depth(DEST)).count).toBe(1);
    peer.down = false;
    await waitFor('the entry acknowledged', async () => (await outbox.depth(DEST)).count === 0);
    expect(peer.applied.get(id!)).toBe(1);
  });

  it('back-off doubles from its base and stops at its cap', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, { baseMs: 50, capMs: 1000 }, mid))).toEqual([50, 100, 200, 400, 800, 1000, 1000, 1000]);
    for (let n = 1; n < 40; n++) expect(backoffDelay(n, { baseMs: 50, capMs: 1000 })).toBeLessThanOrEqual(1200);
  });

  it('a Redis SIGKILLed and restarted EMPTY loses no entry: the relay enqueues again, every entry is delivered, the outage is logged once', async () => {
    const peer = new StandInPeer();
    peer.down = true; // jobs wait in Redis (delayed for back-off) when it dies
    const q = queues();
    let failedPasses = 0;
    const lines: string[] = [];
    const outage = new OutageLog((l) => lines.push(l), { down: (e) => `redis down: ${e.message}`, up: 'redis up' });
    const relay = new Relay({ dests: [DEST], outbox, queue: q, now: Date.now, resendAfterMs: 300, pageSize: 8 });
    const runner = new RelayRunner(relay, {
      intervalMs: 20,
      onPass: (err, moved) => {
        if (err) {
          failedPasses++;
          outage.failed(err);
        } else if (moved > 0) outage.worked();
      },
    });
    closers.push(() => runner.stop());
    workers(peer, { baseMs: 100, capMs: 400 }, (err) => outage.failed(err));
    runner.start();

    const before = await commit(20, 'before');
    await waitFor('the 20 jobs in Redis', async () => (await q.depth(DEST)) === 20);
    await waitFor('tries failing', () => peer.sends >= 5);
    await redis.kill();
    const during = await commit(10, 'during');
    await waitFor('relay passes failing while Redis is down', () => failedPasses >= 5);
    await redis.restart();
    expect(await q.depth(DEST).catch(() => 0)).toBeLessThan(30); // what Redis held is gone
    peer.down = false;

    await waitFor('every entry acknowledged', async () => (await outbox.depth(DEST)).count === 0, 30_000);
    for (const id of [...before, ...during]) expect(peer.applied.get(id), id).toBeGreaterThanOrEqual(1);
    expect(lines.filter((l) => l.startsWith('redis down'))).toHaveLength(1);
    expect(lines.at(-1)).toBe('redis up');
  });

  it('closing leaves no connection to Redis open, and does not hang while Redis is down', async () => {
    await commit(1, 'close');
    const peer = new StandInPeer();
    const q = new BullQueues({ redisUrl: redis.url, dests: [DEST] });
    const w = new DeliveryWorkers({ redisUrl: redis.url, dests: [DEST], outbox, peer, onError: () => undefined });
    await q.add(DEST, await outbox.pending(DEST, undefined, 1)); // connected
    await waitFor('workers connected', () => socketsTo(redis.port) >= 3);
    await Promise.all([w.close(), q.close()]);
    await waitFor('no socket to Redis', () => socketsTo(redis.port) === 0, 5_000);

    const q2 = new BullQueues({ redisUrl: redis.url, dests: [DEST], onError: () => undefined });
    const w2 = new DeliveryWorkers({ redisUrl: redis.url, dests: [DEST], outbox, peer, onError: () => undefined });
    await waitFor('workers connected again', () => socketsTo(redis.port) >= 3);
    await redis.kill();
    const started = Date.now();
    await Promise.all([w2.close(), q2.close()]);
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor('no socket to Redis', () => socketsTo(redis.port) === 0, 5_000);
  });
});
