/**
 * The relay: moves outbox entries into the destination queues, and moves them again when
 * they stay unapplied for `resendAfterMs` (the queue may have lost them: a Redis restarted
 * empty, a job dropped after its retries). Each pass reads one bounded page per destination,
 * walking the outbox from oldest to newest and wrapping around, so a large backlog for a
 * region that is down costs the same per pass as an empty one. Entries leave the outbox only
 * when acknowledged (deliver.ts), so a pass can never lose one: at worst it sends one twice,
 * and applying is idempotent.
 *
 * Direct delivery (optional, `direct`): an entry the relay meets for the first time is handed
 * to the delivery path at once (the batcher: send, then acknowledge) instead of becoming a
 * queue job first. Why: a job costs three Redis scripts (add, fetch, finish) and two hops
 * before its request leaves, which on a busy host was most of the lag and a good part of the
 * CPU a PUT costs. Why it keeps every guarantee: the outbox stays the one durable record (an
 * entry leaves it only once the destination acknowledged it, whichever path carried it), and
 * the queue stays the path of everything that is not delivered at once: an entry whose
 * direct delivery failed goes into the queue right away (its job, keyed by the entry, then
 * retries with back-off), and so does every entry while direct delivery to its destination
 * is cooling off after a failure, or has been busy for `holdMs`; an entry still pending
 * `resendAfterMs` after either path took it is enqueued (again) by the walk, as before.
 */
import type { OutboxEntry } from '../metadata/changes.js';
import type { OutboxPort, QueuePort } from './ports.js';

/** delivers entries now, without a queue job (the batcher in production); throws when they were not all applied */
export interface DirectPort {
  deliver(dest: string, entries: OutboxEntry[]): Promise<void>;
}

export interface DirectOptions {
  port: DirectPort;
  /** direct deliveries under way per destination at most; default 4 */
  maxInFlight?: number;
  /**
   * an entry that found direct delivery busy this long goes into the queue; default 1 s (a
   * busy host makes deliveries slow, and sending their backlog through Redis would only add
   * to its load: the next free delivery takes all that waits, in one request)
   */
  holdMs?: number;
  /** after a failed direct delivery, the destination gets none for this long, doubling per failure up to capMs */
  coolMs?: number;
  coolCapMs?: number;
  /** a direct delivery ended; `again`: entries wait for a pass (held back while it was busy, or not taken by the queue) */
  onSettled?: (dest: string, err: Error | undefined, again: boolean) => void;
}

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
  direct?: DirectOptions;
}

interface DestState {
  /** resume after this id; undefined: from the oldest */
  cursor?: string;
  /** entry id → when it was last enqueued or sent directly */
  sent: Map<string, number>;
  /** entry id → when a pass first held it back (direct delivery busy) */
  held: Map<string, number>;
  /** ids met since the walk last wrapped (what `sent` and `held` keep when it wraps) */
  seen: Set<string>;
  /** direct deliveries under way */
  inFlight: number;
  /** failed direct deliveries in a row, and until when the destination gets none */
  failures: number;
  coolUntil: number;
}

export class Relay {
  private readonly state = new Map<string, DestState>();
  /** entries the last pass added to the queues (not counting direct deliveries) */
  enqueued = 0;
  private readonly delivering = new Set<Promise<void>>();

  constructor(private readonly o: RelayOptions) {
    for (const d of o.dests) this.state.set(d, { sent: new Map(), held: new Map(), seen: new Set(), inFlight: 0, failures: 0, coolUntil: 0 });
  }

  /** one pass over every destination; returns how many entries were enqueued or sent directly. Throws if a queue refused. */
  async pass(): Promise<number> {
    this.enqueued = 0;
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
    const direct: string[] = [];
    const d = this.o.direct;
    const open = d !== undefined && now >= st.coolUntil && st.inFlight < (d.maxInFlight ?? 4);
    for (const id of page) {
      st.seen.add(id);
      const last = st.sent.get(id);
      if (last !== undefined) {
        if (now - last >= this.o.resendAfterMs) due.push(id);
      } else if (open) {
        direct.push(id);
      } else if (d === undefined || now < st.coolUntil) {
        due.push(id);
      } else {
        // busy: held back for a while, then the queue takes it
        const since = st.held.get(id) ?? now;
        st.held.set(id, since);
        if (now - since >= (d.holdMs ?? 1000)) due.push(id);
      }
    }
    if (direct.length > 0) {
      const entries = await this.o.outbox.get(dest, direct);
      for (const id of direct) {
        st.sent.set(id, now);
        st.held.delete(id);
      }
      if (entries.length > 0) this.deliverDirect(dest, st, entries);
    }
    if (due.length > 0) {
      // a backlog is walked by id alone: only the entries enqueued now are read
      const entries = await this.o.outbox.get(dest, due);
      if (entries.length > 0) await this.o.queue.add(dest, entries);
      for (const id of due) {
        st.sent.set(id, now);
        st.held.delete(id);
      }
      this.enqueued += entries.length;
    }
    if (page.length < this.o.pageSize) {
      // the walk reached the newest entry: start again from the oldest, forgetting acked ones
      for (const id of st.sent.keys()) if (!st.seen.has(id)) st.sent.delete(id);
      for (const id of st.held.keys()) if (!st.seen.has(id)) st.held.delete(id);
      st.seen.clear();
      st.cursor = undefined;
    } else {
      st.cursor = page[page.length - 1];
    }
    return due.length + direct.length;
  }

  /**
   * Not awaited by the pass (a slow destination holds up neither the pass nor the others).
   * What a failed delivery carried goes into the queue at once; if the queue refuses too, it
   * is forgotten as sent, so the next pass enqueues it.
   */
  /** a queue job was delivered to `dest`: it answers again, so direct deliveries to it resume without waiting out the cooling off */
  reopen(dest: string): void {
    const st = this.state.get(dest);
    if (!st) return;
    st.failures = 0;
    st.coolUntil = 0;
  }

  /** settles once the direct deliveries under way have (each is bounded by the peer's timeout) */
  async idle(): Promise<void> {
    while (this.delivering.size > 0) await Promise.all([...this.delivering]);
  }

  private deliverDirect(dest: string, st: DestState, entries: OutboxEntry[]): void {
    const d = this.o.direct!;
    st.inFlight++;
    const p: Promise<void> = d.port
      .deliver(dest, entries)
      .then(
        () => {
          st.failures = 0;
          return undefined;
        },
        async (err: unknown) => {
          const error = err instanceof Error ? err : new Error(String(err));
          // "not ready" (409) is about those entries, not the destination: no cooling off
          if ((err as { status?: number }).status !== 409) {
            st.failures++;
            const base = d.coolMs ?? 1000;
            st.coolUntil = this.o.now() + Math.min(d.coolCapMs ?? 30_000, base * 2 ** Math.min(20, st.failures - 1));
          }
          const taken = await this.o.queue.add(dest, entries).then(
            () => true,
            () => false,
          );
          for (const e of entries) {
            if (taken) st.sent.set(e.id, this.o.now());
            else st.sent.delete(e.id);
          }
          return { error, taken };
        },
      )
      .then((failed) => {
        st.inFlight--;
        this.delivering.delete(p);
        d.onSettled?.(dest, failed?.error, st.held.size > 0 || failed?.taken === false);
      });
    this.delivering.add(p);
  }
}
