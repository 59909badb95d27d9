/**
 * Which changes a client's write committed: the KvStore the simulated object layer runs on
 * is wrapped so the changes recorded in a transaction (through the outbox sink) are known
 * once — and only if — that transaction commits. A retried attempt starts its list again.
 * The oracle (model.ts) is computed from these lists.
 */
import type { Change, ChangeSink } from '../../../metadata/changes.js';
import type { KvStore, KvTransaction } from '../../../metadata/kv.js';

/** what runs inside a write's transaction after the layer's own work (see shim.ts) */
export type AfterWrite = (tx: KvTransaction, writes: RecordedWrites, sink: ChangeSink) => Promise<void>;

/** the raw keys a transaction set or cleared, in order (what shim.ts derives changes from) */
export interface RecordedWrites {
  sets: { key: Uint8Array; value: Uint8Array }[];
  clears: Uint8Array[];
}

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
  wrap(inner: KvStore, after?: AfterWrite, sink?: ChangeSink): KvStore {
    return {
      transact: async (fn, opts) => {
        const result = await inner.transact(async (tx) => {
          this.attempt = [];
          if (!after) return fn(tx);
          const writes: RecordedWrites = { sets: [], clears: [] };
          const r = await fn(recording(tx, writes));
          await after(tx, writes, sink!);
          return r;
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

function recording(tx: KvTransaction, w: RecordedWrites): KvTransaction {
  return {
    get: (k, o) => tx.get(k, o),
    getRange: (b, e, o) => tx.getRange(b, e, o),
    set: (key, value) => {
      w.sets.push({ key, value });
      tx.set(key, value);
    },
    clear: (key) => {
      w.clears.push(key);
      tx.clear(key);
    },
    clearRange: (b, e) => tx.clearRange(b, e),
  };
}
