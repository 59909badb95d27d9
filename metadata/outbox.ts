/**
 * The replication outbox: every replicated write records its change here IN ITS OWN
 * transaction, so no acknowledged write can be committed without the promise to deliver it.
 * An entry stays until every other region has applied it; the relay reads it again as often
 * as needed, so a queue (Redis) that dies or comes back empty loses nothing.
 *
 *   ('ob', id)              → { change, pending regions, at }
 *   ('obp', region, id)     → '' : the entry still waits for that region (what the relay scans)
 *
 * Ids sort oldest first: 12 hex digits of wall ms, 8 of the HLC counter, then the change's
 * kind and stamp, then a hash of what it changes. The hash keeps them unique when one stamp
 * names two changes: a process restarted while its clock was ahead of its wall clock (it had
 * seen a remote time ahead) may issue an id of its last run again, for another key.
 */
import { createHash } from 'node:crypto';
import type { Change, ChangeSink, OutboxEntry } from './changes.js';
import { stampOf } from './changes.js';
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { decode, encode } from './records.js';
import { keyAfter, pack, subspaceRange, unpackAfter } from './tuple.js';
import { parseVersionId } from './version-id.js';

const kEntry = (id: string) => pack(['ob', id]);
const kPending = (region: string, id: string) => pack(['obp', region, id]);
const EMPTY = Buffer.alloc(0);

interface StoredEntry {
  c: Change;
  p: string[];
  at: number;
}

/** an outbox id for a change: its stamp's time first (oldest first), then the stamp and a hash of its target */
export function outboxId(change: Change): string {
  const stamp = stampOf(change);
  const hlc = parseVersionId(stamp)?.hlc ?? { wall: 0, logical: 0 };
  const clock = hlc.wall.toString(16).padStart(12, '0') + hlc.logical.toString(16).padStart(8, '0');
  return clock + '.' + change.kind + '.' + stamp + '.' + createHash('sha256').update(targetOf(change)).digest('hex').slice(0, 16);
}

/** what a change is about, as one string */
function targetOf(c: Change): string {
  switch (c.kind) {
    case 'version':
      return `${c.version.bucket}\0${c.version.key}`;
    case 'purge':
    case 'version-register':
      return `${c.bucket}\0${c.key}\0${c.versionId}`;
    case 'bucket-register':
      return `${c.bucket}\0${c.name}`;
    case 'access-key':
      return c.accessKeyId;
    case 'bucket-created':
      return `${c.record.name}\0${c.record.createdAt}`;
    case 'bucket-deleted':
      return `${c.name}\0${c.createdAt}`;
  }
}

/** the sink the object layer calls in its transactions: one entry for every other region */
export function outboxSink(otherRegions: readonly string[], now: () => number = Date.now): ChangeSink {
  const dests = [...otherRegions];
  return (tx, change) => {
    if (dests.length === 0) return;
    const id = outboxId(change);
    tx.set(kEntry(id), encode({ c: change, p: dests, at: now() } satisfies StoredEntry));
    for (const d of dests) tx.set(kPending(d, id), EMPTY);
  };
}

export class Outbox {
  constructor(private readonly kv: KvStore) {}

  async pending(dest: string, after: string | undefined, limit: number): Promise<OutboxEntry[]> {
    return this.kv.read(async (tx) => {
      const space = pack(['obp', dest]);
      const r = subspaceRange(['obp', dest]);
      const begin = after === undefined ? r.begin : keyAfter(kPending(dest, after));
      const rows = await tx.getRange(begin, r.end, { limit });
      const out: OutboxEntry[] = [];
      for (const row of rows) {
        const id = unpackAfter(space, row.key)[0] as string;
        const e = await readEntry(tx, id);
        if (e) out.push(e);
      }
      return out;
    });
  }

  /** the ids of up to `limit` entries pending for `dest` after `after`, oldest first: keys only, no entry is read */
  async pendingIds(dest: string, after: string | undefined, limit: number): Promise<string[]> {
    return this.kv.read(async (tx) => {
      const space = pack(['obp', dest]);
      const r = subspaceRange(['obp', dest]);
      const begin = after === undefined ? r.begin : keyAfter(kPending(dest, after));
      const rows = await tx.getRange(begin, r.end, { limit });
      return rows.map((row) => unpackAfter(space, row.key)[0] as string);
    });
  }

  /** the entries among `ids` still pending for `dest` (a worker reads what its jobs name) */
  async get(dest: string, ids: string[]): Promise<OutboxEntry[]> {
    return this.kv.read(async (tx) => {
      const out: OutboxEntry[] = [];
      for (const id of ids) {
        if ((await tx.get(kPending(dest, id))) === undefined) continue;
        const e = await readEntry(tx, id);
        if (e) out.push(e);
      }
      return out;
    });
  }

  async ack(dest: string, ids: string[]): Promise<void> {
    await this.kv.transact(async (tx) => {
      for (const id of ids) await ackOne(tx, dest, id);
    });
  }

  /** true while the entry `id` waits for some region (a version's replication status: metadata/outbox.ts outboxId) */
  async has(id: string): Promise<boolean> {
    return (await this.kv.read((tx) => tx.get(kEntry(id)))) !== undefined;
  }

  /** per destination: entries waiting and the commit time of the oldest (for status and metrics) */
  async depth(dest: string, limit = 100_000): Promise<{ count: number; oldestAt?: number }> {
    return this.kv.read(async (tx) => {
      const r = subspaceRange(['obp', dest]);
      const rows = await tx.getRange(r.begin, r.end, { limit });
      if (rows.length === 0) return { count: 0 };
      const first = await readEntry(tx, unpackAfter(pack(['obp', dest]), rows[0]!.key)[0] as string);
      return first ? { count: rows.length, oldestAt: first.at } : { count: rows.length };
    });
  }
}

async function readEntry(tx: KvReader, id: string): Promise<OutboxEntry | undefined> {
  const raw = await tx.get(kEntry(id));
  if (!raw) return undefined;
  const s = decode<StoredEntry>(raw);
  return { id, change: s.c, pending: s.p, at: s.at };
}

async function ackOne(tx: KvTransaction, dest: string, id: string): Promise<void> {
  const key = kPending(dest, id);
  if ((await tx.get(key)) === undefined) return; // acknowledged before (a redelivery)
  tx.clear(key);
  const e = await readEntry(tx, id);
  if (!e) return;
  const rest = e.pending.filter((r) => r !== dest);
  if (rest.length === 0) tx.clear(kEntry(id));
  else tx.set(kEntry(id), encode({ c: e.change, p: rest, at: e.at } satisfies StoredEntry));
}
