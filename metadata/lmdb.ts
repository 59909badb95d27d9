/**
 * KvStore on LMDB (package lmdb), the embedded default backend.
 *
 * A transaction runs its function against an LMDB read snapshot with buffered writes
 * (lmdb-tx.ts). Committing re-validates everything it read inside one LMDB write transaction
 * and then applies its writes; if a read changed meanwhile it conflicted and the function runs
 * again. LMDB's writer lock is shared between processes, so several gateways can use one
 * environment. Commits that become ready while lmdb-js's writer thread is busy share one write
 * transaction and one fsync (group commit); each is still validated in order against the
 * writes of those before it, so serializability holds within a batch too. The commit and its
 * fsync run on that writer thread, never blocking the event loop.
 *
 * Deviation from FDB's limits: keys are at most LMDB_MAX_KEY_BYTES (4000) instead of 10 kB.
 */
import { mkdir } from 'node:fs/promises';
import { open, type Database } from 'lmdb';
import {
  KV_LIMITS,
  KvConflictError,
  KvLimitError,
  type KvReader,
  type KvStore,
  type KvTransaction,
  type TransactOptions,
} from './kv.js';
import { LmdbTransaction, rawRange, type RawPair } from './lmdb-tx.js';

export { LMDB_MAX_KEY_BYTES } from './lmdb-tx.js';

export async function openLmdb(dir: string, opts: { mapSizeBytes?: number } = {}): Promise<KvStore> {
  await mkdir(dir, { recursive: true });
  const db = open<Buffer, Buffer>({
    path: dir,
    keyEncoding: 'binary',
    encoding: 'binary',
    // 8 KiB pages raise LMDB's key limit from 1978 to 4026 bytes (S3 keys are up to 1 KiB)
    pageSize: 8192,
    noMemInit: true,
    // a commit resolves once lmdb-js's writer thread has flushed it to disk (with overlapping
    // sync it would resolve before, and a crash of the machine could lose an acknowledged write)
    overlappingSync: false,
    ...(opts.mapSizeBytes ? { mapSize: opts.mapSizeBytes } : {}),
  });
  return new LmdbStore(db as unknown as AsyncDatabase);
}

/** lmdb-js's asynchronous transaction, with the child-transaction flag its typings leave out */
type AsyncDatabase = Database<Buffer, Buffer> & {
  transactionAsync<T>(fn: () => T, asChild: boolean): Promise<T>;
  env: { info(): { lastTxnId: number } };
};

class LmdbStore implements KvStore {
  private inFlight = new Set<Promise<unknown>>();
  private closed = false;
  /** the environment's last committed transaction id when the current snapshot was taken */
  private seenTxnId = -1;

  constructor(private readonly db: AsyncDatabase) {}

  async transact<T>(fn: (tx: KvTransaction) => Promise<T>, opts: TransactOptions = {}): Promise<T> {
    const maxAttempts = opts.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      this.assertOpen();
      const started = Date.now();
      const snapshot = this.snapshot();
      const tx = new LmdbTransaction(this.db, snapshot, true);
      let result: T;
      try {
        result = await fn(tx);
      } finally {
        snapshot.done();
      }
      // nothing written: the reads were one consistent snapshot, there is nothing to commit
      if (!tx.hasWrites) return result;
      if (Date.now() - started > KV_LIMITS.maxTransactionMs) {
        throw new KvLimitError(`transaction lived longer than ${KV_LIMITS.maxTransactionMs} ms`);
      }
      if (await this.commit(tx)) return result;
      if (attempt >= maxAttempts) throw new KvConflictError();
      await backoff(attempt);
    }
  }

  async read<T>(fn: (tx: KvReader) => Promise<T>): Promise<T> {
    this.assertOpen();
    const snapshot = this.snapshot();
    try {
      return await fn(new LmdbTransaction(this.db, snapshot, false));
    } finally {
      snapshot.done();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    await this.db.close();
  }

  /**
   * A read snapshot that holds every transaction committed so far, by any process. lmdb-js
   * reuses one snapshot until its next timer tick and renews it after its own commits, but a
   * commit by another process on this environment (another worker or gateway) would stay
   * unseen until that tick: a client that PUT through one worker could GET the old object
   * through another. The environment's last transaction id (shared memory, one cheap call)
   * tells whether anything was committed since the snapshot was taken.
   */
  private snapshot(): ReturnType<AsyncDatabase['useReadTransaction']> {
    const last = this.db.env.info().lastTxnId;
    if (last !== this.seenTxnId) {
      this.db.resetReadTxn();
      this.seenTxnId = last;
    }
    return this.db.useReadTransaction();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the metadata store is closed');
  }

  /**
   * Queues the transaction's validation and writes for lmdb-js's writer thread. It runs them
   * on this thread inside a write transaction the writer holds, each as a child transaction
   * (one that throws is rolled back alone), together with every other commit queued while the
   * writer was busy (one fsync for all: group commit). The commit and its fsync happen on the
   * writer thread, so this thread keeps serving requests meanwhile: GETs are not stalled
   * behind a PUT's fsync. The promise settles once the batch is durable.
   */
  private commit(tx: LmdbTransaction): Promise<boolean> {
    const p = this.db.transactionAsync(() => this.validateAndApply(tx), true);
    this.inFlight.add(p);
    const untrack = () => this.inFlight.delete(p);
    p.then(untrack, untrack);
    return p;
  }

  /** inside the write transaction: false (and no writes) if anything read has changed */
  private validateAndApply(tx: LmdbTransaction): boolean {
    const db = this.db;
    for (const r of tx.pointReads) {
      if (!sameValue(db.getBinary(r.key), r.value)) return false;
    }
    for (const r of tx.rangeReads) {
      if (!sameRange(rawRange(db, undefined, r.begin, r.end, false), r.pairs)) return false;
    }
    for (const r of tx.clearedRanges) {
      const keys: Buffer[] = [];
      const it = rawRange(db, undefined, r.begin, r.end, false);
      for (let n = it.next(); !n.done; n = it.next()) keys.push(n.value.key as Buffer);
      for (const k of keys) db.removeSync(k);
    }
    for (const w of tx.writes.values()) {
      if (w.value) db.putSync(w.key, w.value);
      else db.removeSync(w.key);
    }
    return true;
  }
}

function sameValue(a: Buffer | undefined, b: Buffer | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.equals(b);
}

function sameRange(it: Iterator<RawPair>, pairs: RawPair[]): boolean {
  let i = 0;
  for (let n = it.next(); !n.done; n = it.next(), i++) {
    const p = pairs[i];
    if (!p || !p.key.equals(n.value.key) || !p.value.equals(n.value.value)) {
      it.return?.();
      return false;
    }
  }
  return i === pairs.length;
}

/** first retry at once; later ones spread out so hot keys stop colliding in lockstep */
function backoff(attempt: number): Promise<void> {
  if (attempt === 1) return new Promise((r) => setImmediate(r));
  const ms = Math.random() * Math.min(2 ** attempt, 100);
  return new Promise((r) => setTimeout(r, ms));
}
