/**
 * Which changes a client's write committed: the KvStore the simulated object layer runs on
 * is wrapped so the changes recorded in a transaction (through the outbox sink) are known
 * once — and only if — that transaction commits. A retried attempt starts its list again.
 * The oracle (model.ts) is computed from these lists.
 */
import type { Change, ChangeSink } from '../../../metadata/changes.js';
import type { KvStore } from '../../../metadata/kv.js';

export class ChangeCapture {
  /** the changes of the write being made, set by `around` */
  private current: Change[] | undefined;
  private attempt: Change[] = [];

  /** a sink that records each change of the attempt, then hands it on to `next` (the outbox) */
  sink(next: ChangeSink): ChangeSink {
    return (tx, change) => {
      this.attempt.push(change);
      next(tx, change);
    };
  }

  /** `inner` whose transactions reset the attempt's list and publish it when they commit */
  wrap(inner: KvStore): KvStore {
    return {
      transact: async (fn, opts) => {
        const result = await inner.transact(async (tx) => {
          this.attempt = [];
          return fn(tx);
        }, opts);
        this.current?.push(...this.attempt);
        this.attempt = [];
        return result;
      },
      read: (fn) => inner.read(fn),
      close: () => inner.close(),
    };
  }

  /** runs one client write; returns what it committed (nothing if it threw) and its result */
  async around<T>(write: () => Promise<T>): Promise<{ changes: Change[]; result?: T; error?: unknown }> {
    const changes: Change[] = [];
    this.current = changes;
    try {
      const result = await write();
      return { changes, result };
    } catch (error) {
      return { changes, error };
    } finally {
      this.current = undefined;
    }
  }
}
