/**
 * Delivery in batches (replication/batcher.ts) over a real outbox in LMDB and a stand-in
 * destination: one job carries the other pending entries in one request and acknowledges them
 * only once applied; concurrent jobs never send an entry twice at once; a batch refused
 * because one entry must wait still delivers the others (each alone), and that entry is left
 * out of later batches; nothing is acknowledged while the destination cannot be reached.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../metadata/changes.js';
import type { KvStore } from '../../metadata/kv.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { Outbox, outboxId, outboxSink } from '../../metadata/outbox.js';
import { DeliveryBatcher } from '../../replication/batcher.js';
import { PeerError } from '../../replication/http-peer.js';
import type { PeerPort } from '../../replication/ports.js';
import { versionChange } from '../helpers/cluster.js';

/** the destination: records each request; `refuse` answers 409 for a request holding that key */
class FakeDest implements PeerPort {
  requests: string[][] = [];
  applied = new Set<string>();
  refuse: string | undefined;
  down = false;
  private inFlightPerKey = new Map<string, number>();
  /** the most requests in flight at once that held the same key */
  peakPerKey = 0;
  async send(_dest: string, changes: Change[]): Promise<void> {
    const keys = changes.map((c) => (c.kind === 'version' ? c.version.key : c.kind));
    this.requests.push(keys);
    for (const k of keys) {
      this.inFlightPerKey.set(k, (this.inFlightPerKey.get(k) ?? 0) + 1);
      this.peakPerKey = Math.max(this.peakPerKey, this.inFlightPerKey.get(k)!);
    }
    try {
      await new Promise((r) => setTimeout(r, 5));
      if (this.down) throw new PeerError('region fra could not be reached: ECONNREFUSED');
      for (const k of keys) if (k !== this.refuse) this.applied.add(k);
      if (this.refuse && keys.includes(this.refuse)) throw new PeerError(`region fra answered 409: not ready: ${this.refuse}`, 409);
    } finally {
      for (const k of keys) this.inFlightPerKey.set(k, this.inFlightPerKey.get(k)! - 1);
    }
  }
}

describe('DeliveryBatcher', () => {
  let dir: string;
  let kv: KvStore;
  let outbox: Outbox;
  let fra: FakeDest;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'erne-batcher-'));
    kv = await openLmdb(dir);
    outbox = new Outbox(kv);
    fra = new FakeDest();
  });
  afterEach(async () => {
    await kv.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** n entries for fra, oldest first; returns their ids */
  async function record(n: number, text = 'x', prefix = 'k'): Promise<string[]> {
    const sink = outboxSink(['fra']);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const c = versionChange('photos', 1, `${prefix}${String(i).padStart(2, '0')}`, text, 'iad');
      ids.push(outboxId(c));
      await kv.transact(async (tx) => sink(tx, c));
    }
    return ids;
  }

  it('one job sends every pending entry in one request, oldest first, and acknowledges them; their own jobs then send nothing', async () => {
    const ids = await record(10);
    const delivered: string[] = [];
    const b = new DeliveryBatcher({ outbox, peer: fra, onDelivered: (_d, entries) => delivered.push(...entries.map((e) => e.id)) });
    await b.deliverJob('fra', ids[3]!);
    expect(fra.requests).toEqual([Array.from({ length: 10 }, (_, i) => `k${String(i).padStart(2, '0')}`)]);
    expect((await outbox.depth('fra')).count).toBe(0);
    expect(delivered.sort()).toEqual([...ids].sort());
    for (const id of ids) await b.deliverJob('fra', id);
    expect(fra.requests).toHaveLength(1);
  });

  it('jobs running at once (4 workers, as BullMQ runs them) never carry the same entry at the same time, and every entry is acknowledged', async () => {
    const ids = await record(40);
    const b = new DeliveryBatcher({ outbox, peer: fra, maxEntries: 8 });
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) await b.deliverJob('fra', id);
      }),
    );
    expect((await outbox.depth('fra')).count).toBe(0);
    expect(fra.applied.size).toBe(40);
    expect(Math.max(...fra.requests.map((r) => r.length))).toBeLessThanOrEqual(8);
    expect(fra.requests.length).toBeLessThan(40);
    expect(fra.peakPerKey).toBe(1);
  });

  it('a batch refused because one entry must wait: the others go alone and are acknowledged; the one waiting stays, and later batches leave it out', async () => {
    const ids = await record(5);
    fra.refuse = 'k02';
    const b = new DeliveryBatcher({ outbox, peer: fra });
    const results = await Promise.allSettled(ids.map((id) => b.deliverJob('fra', id)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason.message).toMatch(/409: not ready: k02/);
    expect((await outbox.pending('fra', undefined, 10)).map((e) => e.id)).toEqual([ids[2]]);
    // new entries are batched without it while it waits
    const more = await record(3, 'y', 'm');
    fra.requests = [];
    await b.deliverJob('fra', more[0]!);
    expect(fra.requests).toEqual([['m00', 'm01', 'm02']]);
    expect((await outbox.pending('fra', undefined, 10)).map((e) => e.id)).toEqual([ids[2]]);
    // once its bucket has arrived, its own job delivers it
    fra.refuse = undefined;
    await b.deliverJob('fra', ids[2]!);
    expect((await outbox.depth('fra')).count).toBe(0);
  });

  it('while the destination cannot be reached, the job fails and nothing is acknowledged', async () => {
    const ids = await record(4);
    fra.down = true;
    const b = new DeliveryBatcher({ outbox, peer: fra });
    await expect(b.deliverJob('fra', ids[0]!)).rejects.toThrow(/could not be reached/);
    expect((await outbox.depth('fra')).count).toBe(4);
    fra.down = false;
    await b.deliverJob('fra', ids[1]!);
    expect((await outbox.depth('fra')).count).toBe(0);
  });

  it('jobs at once with a byte budget: an entry picked for a batch but left out of it is still delivered by its own job', async () => {
    const ids = await record(6, 'z'.repeat(10_000));
    const b = new DeliveryBatcher({ outbox, peer: fra, maxBytes: 25_000 });
    const queue = [...ids];
    await Promise.all(
      Array.from({ length: 2 }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) await b.deliverJob('fra', id);
      }),
    );
    expect((await outbox.depth('fra')).count).toBe(0);
    expect(fra.applied.size).toBe(6);
  });

  it('a batch stays under its byte budget', async () => {
    const ids = await record(6, 'z'.repeat(10_000));
    const b = new DeliveryBatcher({ outbox, peer: fra, maxBytes: 25_000 });
    for (const id of ids) await b.deliverJob('fra', id);
    expect(fra.requests.map((r) => r.length)).toEqual([2, 2, 2]);
    expect((await outbox.depth('fra')).count).toBe(0);
  });

  describe('deliverNow (the relay delivering directly)', () => {
    it('sends the entries it is given in requests of at most maxEntries, oldest first, and acknowledges each', async () => {
      await record(10);
      const delivered: string[] = [];
      const b = new DeliveryBatcher({ outbox, peer: fra, maxEntries: 4, onDelivered: (_d, entries) => delivered.push(...entries.map((e) => e.id)) });
      const entries = await outbox.pending('fra', undefined, 100);
      await b.deliverNow('fra', [...entries].reverse());
      expect(fra.requests).toEqual([
        ['k00', 'k01', 'k02', 'k03'],
        ['k04', 'k05', 'k06', 'k07'],
        ['k08', 'k09'],
      ]);
      expect((await outbox.depth('fra')).count).toBe(0);
      expect(delivered).toHaveLength(10);
    });

    it('leaves alone what a job carries at the moment, and jobs leave alone what it carries', async () => {
      const ids = await record(20);
      const b = new DeliveryBatcher({ outbox, peer: fra, maxEntries: 8 });
      const entries = await outbox.pending('fra', undefined, 100);
      await Promise.all([b.deliverNow('fra', entries.slice(0, 10)), ...ids.map((id) => b.deliverJob('fra', id)), b.deliverNow('fra', entries)]);
      expect(fra.peakPerKey).toBe(1);
      expect(fra.applied.size).toBe(20);
      expect((await outbox.depth('fra')).count).toBe(0);
    });

    it('a request that fails throws: nothing it or the later ones carried is acknowledged', async () => {
      await record(6);
      fra.down = true;
      const b = new DeliveryBatcher({ outbox, peer: fra, maxEntries: 2 });
      await expect(b.deliverNow('fra', await outbox.pending('fra', undefined, 100))).rejects.toThrow(/could not be reached/);
      expect(fra.requests).toHaveLength(1);
      expect((await outbox.depth('fra')).count).toBe(6);
    });

    it('an entry lately refused alone as not ready is left to its job', async () => {
      const ids = await record(3);
      fra.refuse = 'k01';
      const b = new DeliveryBatcher({ outbox, peer: fra });
      await expect(b.deliverJob('fra', ids[1]!)).rejects.toThrow(/409/);
      fra.requests = [];
      await b.deliverNow('fra', await outbox.pending('fra', undefined, 100));
      expect(fra.requests).toEqual([['k00', 'k02']]);
      expect((await outbox.pending('fra', undefined, 10)).map((e) => e.id)).toEqual([ids[1]]);
    });
  });
});
