/**
 * The ordered, transactional key-value interface every metadata backend implements.
 * It is shaped like FoundationDB's so LMDB (embedded) and FDB (per-region cluster) hold the
 * same tuple-encoded layout and the layers above never know which one they run on.
 *
 * Rules for callers (FDB's, kept on every backend):
 * - a transaction function may run more than once (retry on conflict): no side effects
 *   outside `tx` inside it;
 * - keys ≤ 10 kB, values ≤ 100 kB, a transaction writes ≤ 10 MB and lives ≤ 5 s:
 *   large work is split into several bounded transactions by the caller.
 */
export type Bytes = Uint8Array;

export interface KvPair {
  key: Bytes;
  value: Bytes;
}

export interface RangeOptions {
  /** at most this many pairs (0 or undefined: no limit) */
  limit?: number;
  /** newest-last order reversed: from `end` (exclusive) down to `begin` (inclusive) */
  reverse?: boolean;
  /** read without adding a read conflict (FDB snapshot read) */
  snapshot?: boolean;
}

export interface KvReader {
  get(key: Bytes, opts?: { snapshot?: boolean }): Promise<Bytes | undefined>;
  /** pairs with begin <= key < end, in byte order (or reversed) */
  getRange(begin: Bytes, end: Bytes, opts?: RangeOptions): Promise<KvPair[]>;
}

export interface KvTransaction extends KvReader {
  set(key: Bytes, value: Bytes): void;
  clear(key: Bytes): void;
  /** clears begin <= key < end */
  clearRange(begin: Bytes, end: Bytes): void;
}

export interface TransactOptions {
  /** attempts before giving up with KvConflictError; default 50 */
  maxAttempts?: number;
}

export interface KvStore {
  /**
   * Runs `fn` in a serializable transaction and commits it; retries from scratch when
   * another writer conflicted with what `fn` read. Returns what the committed attempt returned.
   */
  transact<T>(fn: (tx: KvTransaction) => Promise<T>, opts?: TransactOptions): Promise<T>;
  /** read-only transaction over one consistent snapshot; never conflicts */
  read<T>(fn: (tx: KvReader) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class KvConflictError extends Error {
  constructor(message = 'transaction conflicted too many times') {
    super(message);
    this.name = 'KvConflictError';
  }
}

export class KvLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KvLimitError';
  }
}

/** FoundationDB's limits, enforced on every backend so code written on LMDB runs on FDB. */
export const KV_LIMITS = {
  maxKeyBytes: 10_000,
  maxValueBytes: 100_000,
  maxTransactionBytes: 10_000_000,
  maxTransactionMs: 5_000,
} as const;
