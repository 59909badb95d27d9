/**
 * Replication as a gateway runs it (replication/service.ts), with a real redis-server, a real
 * LMDB store and a stand-in receiving region: a write committed through its store is moved at
 * once (the commit kicks the relay; its timer alone would take a minute here), a process that
 * does not deliver only records, and closing leaves no connection to Redis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { Outbox } from '../../metadata/outbox.js';
import { startReplication } from '../../replication/service.js';
import { testTopology, versionChange } from '../helpers/cluster.js';
import { startFakeRegion, type FakeRegion } from '../helpers/fake-region.js';
import { redisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { describeNeeds } from '../helpers/requires.js';
import { waitFor } from '../helpers/wait.js';

function socketsTo(port: number): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof net.Socket && h.remotePort === port && !h.destroyed).length;
}

describeNeeds(redisServer)('startReplication', () => {
  let redis: TestRedis;
  let fra: FakeRegion;
  let dir: string;
  let kv: KvStore;

  beforeEach(async () => {
    redis = await startRedis();
    fra = await startFakeRegion();
    dir = mkdtempSync(join(tmpdir(), 'erne-repl-svc-'));
    kv = await openLmdb(dir);
  });

  afterEach(async () => {
    await kv.close();
    await fra.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const topology = () => testTopology('iad', { iad: ['http://127.0.0.1:1'], fra: [fra.url] });

  it('a committed write kicks the relay: delivered long before its next timed pass; closing cuts every Redis connection', async () => {
    const logs: string[] = [];
    const repl = startReplication({ kv, topology: topology(), redisUrl: redis.url, log: (l) => logs.push(l), relay: { intervalMs: 60_000 } });
    repl.start();
    await waitFor('workers connected to Redis', () => socketsTo(redis.port) >= 2);
    const change = versionChange('photos', 1, 'kicked', 'k', 'iad');
    const started = Date.now();
    await repl.store.transact(async (tx) => repl.sink(tx, change));
    await waitFor('fra received the change', () => fra.received.length === 1, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor('the entry acknowledged', async () => (await new Outbox(kv).depth('fra')).count === 0);
    await repl.close();
    await waitFor('no socket to Redis', () => socketsTo(redis.port) === 0, 5_000);
    expect(logs).toEqual([]);
  });

  it('a process that does not deliver (worker 1 of --workers) records in the outbox and never connects to Redis', async () => {
    const repl = startReplication({ kv, topology: topology(), redisUrl: redis.url, log: () => undefined, deliver: false });
    repl.start();
    await repl.store.transact(async (tx) => repl.sink(tx, versionChange('photos', 1, 'recorded', 'r', 'iad')));
    expect((await new Outbox(kv).depth('fra')).count).toBe(1);
    expect(socketsTo(redis.port)).toBe(0);
    expect(fra.requests).toBe(0);
    await repl.close();
  });
});
