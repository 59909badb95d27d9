/**
 * Delivery in batches. A queue job names one outbox entry, but sending one entry per request
 * pays, per entry, an HTTP request, an apply transaction there and an acknowledgement
 * transaction here. So a job sends its own entry together with other entries still pending
 * for the same destination (oldest first, up to `maxEntries` and about `maxBytes`) that no
 * other delivery of this process carries at the moment, in one request, and acknowledges them
 * together once the destination answered that it applied them.
 *
 * A job whose entry is carried by a batch in flight waits for that batch, then reads the
 * outbox: what the batch did not get applied is sent alone by its own job (as without
 * batching), so one entry that must wait (409 not ready) or cannot be applied holds up only
 * itself; an entry refused alone as not ready is left out of batches for a while. Guarantees are those of deliver.ts: nothing
 * is acknowledged before the destination applied it, and the other entries' own jobs find
 * them acknowledged and have nothing left to do.
 */
import type { OutboxEntry } from '../metadata/changes.js';
import { deliver } from './deliver.js';
import type { OutboxPort, PeerPort } from './ports.js';

export interface BatcherOptions {
  outbox: OutboxPort;
  peer: PeerPort;
  /** entries per request; default 64 */
  maxEntries?: number;
  /** inline bytes per request, roughly; default 4 MiB (an apply body may be 16 MiB) */
  maxBytes?: number;
  /** an entry refused alone as not ready stays out of batches this long; default 5 s */
  notReadyMs?: number;
  now?: () => number;
  /** `dest` answered at `appliedAt` that it applied `entries` */
  onDelivered?: (dest: string, entries: OutboxEntry[], appliedAt: number) => void;
}

/** a rough size of an entry on the wire: its inline bytes and some room for the record */
function weight(e: OutboxEntry): number {
  const body = e.change.kind === 'version' ? e.change.version.body : undefined;
  return 1024 + (body?.kind === 'inline' ? body.data.length : 0);
}

const keyOf = (dest: string, id: string) => `${dest}\u0000${id}`;

export class DeliveryBatcher {
  /** entry → the delivery carrying it now, settled when that delivery is over (whatever came of it) */
  private readonly carried = new Map<string, Promise<void>>();
  /** entry → until when it stays out of batches */
  private readonly notReady = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(private readonly o: BatcherOptions) {
    this.maxEntries = o.maxEntries ?? 64;
    this.maxBytes = o.maxBytes ?? 4 * 1024 * 1024;
    this.now = o.now ?? Date.now;
  }

  /** the work of the job for entry `id` bound for `dest`; throws when it was not delivered */
  async deliverJob(dest: string, id: string): Promise<void> {
    const key = keyOf(dest, id);
    // a batch carrying the entry now: wait for it, then the outbox says whether it was applied
    let waited = false;
    for (let c = this.carried.get(key); c; c = this.carried.get(key)) {
      waited = true;
      await c;
    }
    // this job carries its entry now: a batch formed meanwhile leaves it out
    let settle!: () => void;
    this.carried.set(key, new Promise<void>((r) => (settle = r)));
    try {
      const [own] = await this.o.outbox.get(dest, [id]);
      if (!own) return; // applied and acknowledged since the job was added
      // after a batch that did not carry it through, it goes alone
      if (!waited && !this.isNotReady(key) && (await this.sendBatch(dest, own))) return;
      try {
        await this.send(dest, [own]);
      } catch (err) {
        if ((err as { status?: number }).status === 409) this.notReady.set(key, this.now() + (this.o.notReadyMs ?? 5000));
        throw err;
      }
    } finally {
      this.carried.delete(key);
      settle();
    }
  }

  /**
   * The relay's direct delivery (relay.ts): sends `entries` now, without a queue job, in
   * requests of up to maxEntries / about maxBytes, oldest first, and acknowledges each request's
   * entries once applied. Entries another delivery carries at the moment are left to it, and
   * an entry refused alone as not ready lately is left to its job. Throws when a request
   * failed (what it and the later ones carried stays pending).
   */
  async deliverNow(dest: string, entries: OutboxEntry[]): Promise<void> {
    let settle!: () => void;
    const done = new Promise<void>((r) => (settle = r));
    const claimed: OutboxEntry[] = [];
    for (const e of entries) {
      const key = keyOf(dest, e.id);
      if (this.carried.has(key) || this.isNotReady(key)) continue;
      this.carried.set(key, done);
      claimed.push(e);
    }
    try {
      claimed.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let batch: OutboxEntry[] = [];
      let bytes = 0;
      for (const e of claimed) {
        if (batch.length > 0 && (batch.length >= this.maxEntries || bytes + weight(e) > this.maxBytes)) {
          await this.send(dest, batch);
          batch = [];
          bytes = 0;
        }
        batch.push(e);
        bytes += weight(e);
      }
      if (batch.length > 0) await this.send(dest, batch);
    } finally {
      for (const e of claimed) this.carried.delete(keyOf(dest, e.id));
      settle();
    }
  }

  /**
   * Sends `own` with the oldest other pending entries that no delivery carries (claimed for
   * this batch as they are picked); false when there were none or the batch failed.
   */
  private async sendBatch(dest: string, own: OutboxEntry): Promise<boolean> {
    // ids first: entries other deliveries carry are skipped without being read
    const ids = await this.o.outbox.pendingIds(dest, undefined, this.maxEntries * 4);
    let settle!: () => void;
    const done = new Promise<void>((r) => (settle = r));
    const claimed: string[] = [];
    for (const id of ids) {
      if (claimed.length >= this.maxEntries - 1) break;
      const key = keyOf(dest, id);
      if (this.carried.has(key) || this.isNotReady(key)) continue;
      this.carried.set(key, done);
      claimed.push(id);
    }
    let ok = false;
    try {
      if (claimed.length === 0) return false;
      const batch = [own];
      let bytes = weight(own);
      for (const e of await this.o.outbox.get(dest, claimed)) {
        if (bytes + weight(e) > this.maxBytes) continue;
        batch.push(e);
        bytes += weight(e);
      }
      if (batch.length === 1) return false; // acknowledged meanwhile, or over the budget
      // older first: a bucket is applied before the objects written in it
      batch.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      await this.send(dest, batch);
      ok = true;
    } catch {
      // each entry goes alone with its own job
    } finally {
      for (const id of claimed) this.carried.delete(keyOf(dest, id));
      settle();
    }
    return ok;
  }

  private async send(dest: string, entries: OutboxEntry[]): Promise<void> {
    const onDelivered = this.o.onDelivered;
    const peer: PeerPort = onDelivered
      ? {
          send: async (d, changes) => {
            await this.o.peer.send(d, changes);
            onDelivered(dest, entries, this.now());
          },
        }
      : this.o.peer;
    await deliver(dest, entries, peer, this.o.outbox);
  }

  private isNotReady(key: string): boolean {
    const until = this.notReady.get(key);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.notReady.delete(key);
    return false;
  }
}
