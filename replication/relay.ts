/**
 * The relay: moves outbox entries into the destination queues, and moves them again when
 * they stay unapplied for `resendAfterMs` (the queue may have lost them: a Redis restarted
 * empty, a job dropped after its retries). Each pass reads one bounded page per destination,
 * walking the outbox from oldest to newest and wrapping around, so a large backlog for a
 * region that is down costs the same per pass as an empty one. Entries leave the outbox only
 * when acknowledged (deliver.ts), so a pass can never lose one: at worst it sends one twice,
 * and applying is idempotent.
 */
import type { OutboxPort, QueuePort } from './ports.js';

export interface RelayOptions {
  /** the other regions */
  dests: readonly string[];
  outbox: OutboxPort;
  queue: QueuePort;
  now: () => number;
  /** an entry enqueued this long ago and still pending is enqueued again */
  resendAfterMs: number;
  /** entries read per destination and pass */
  pageSize: number;
}

interface DestState {
  /** resume after this id; undefined: from the oldest */
  cursor?: string;
  /** entry id → when it was last enqueued */
  sent: Map<string, number>;
  /** ids met since the walk last wrapped (what `sent` keeps when it wraps) */
  seen: Set<string>;
}

export class Relay {
  private readonly state = new Map<string, DestState>();

  constructor(private readonly o: RelayOptions) {
    for (const d of o.dests) this.state.set(d, { sent: new Map(), seen: new Set() });
  }

  /** one pass over every destination; returns how many entries were enqueued. Throws if a queue refused. */
  async pass(): Promise<number> {
    // the destinations side by side: one region's queue failing or slow does not hold up the others
    const results = await Promise.allSettled(this.o.dests.map((dest) => this.passFor(dest)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0);
  }

  private async passFor(dest: string): Promise<number> {
    const st = this.state.get(dest)!;
    const page = await this.o.outbox.pendingIds(dest, st.cursor, this.o.pageSize);
    const now = this.o.now();
    const due: string[] = [];
    for (const id of page) {
      st.seen.add(id);
      const last = st.sent.get(id);
      if (last === undefined || now - last >= this.o.resendAfterMs) due.push(id);
    }
    if (due.length > 0) {
      // a backlog is walked by id alone: only the entries enqueued now are read
      const entries = await this.o.outbox.get(dest, due);
      if (entries.length > 0) await this.o.queue.add(dest, entries);
      for (const id of due) st.sent.set(id, now);
    }
    if (page.length < this.o.pageSize) {
      // the walk reached the newest entry: start again from the oldest, forgetting acked ones
      for (const id of st.sent.keys()) if (!st.seen.has(id)) st.sent.delete(id);
      st.seen.clear();
      st.cursor = undefined;
    } else {
      st.cursor = page[page.length - 1];
    }
    return due.length;
  }
}
