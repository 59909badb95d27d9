/**
 * KvStore on LMDB (package lmdb), the embedded default backend.
 *
 * A transaction runs its function against an LMDB read snapshot with buffered writes
 * (lmdb-tx.ts). Committing re-validates everything it read inside one LMDB write transaction
 * and then applies its writes; if a read changed meanwhile it conflicted and the function runs
 * again. LMDB's writer lock is shared between processes, so several gateways can use one
 * environment. Commits that become ready in the same event-loop turn share one write
 * transaction and one fsync (group commit); each is still validated in order against the
 * writes of those before it, so serializability holds within a batch too.
 *
 * Deviation from FDB's limits: keys are at most LMDB_MAX_KEY_BYTES (4000) instead of 10 kB.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Database } from 'lmdb';
import { commitBatch, toCommitRequest } from './lmdb-apply.js';
import { openLmdbDatabase } from './lmdb-open.js';
import {
  KV_LIMITS,
  KvConflictError,
  KvLimitError,
  type KvReader,
  type KvStore,
  type KvTransaction,
  type TransactOptions,
} from './kv.js';
import { LmdbTransaction } from './lmdb-tx.js';

export { LMDB_MAX_KEY_BYTES } from './lmdb-tx.js';

interface PendingCommit {
  tx: LmdbTransaction;
  resolve(committed: boolean): void;
  reject(err: unknown): void;
}

export async function openLmdb(dir: string, opts: { mapSizeBytes?: number; commitThread?: boolean } = {}): Promise<KvStore> {
  await mkdir(dir, { recursive: true });
  const db = openLmdbDatabase(dir, opts.mapSizeBytes);
  const script = opts.commitThread === false ? undefined : commitWorkerScript();
  const worker = script ? new Worker(script, { workerData: { path: dir, mapSizeBytes: opts.mapSizeBytes } }) : undefined;
  return new LmdbStore(db, worker);
}

/**
 * The compiled commit thread script beside this module, or — when this module runs from its
 * TypeScript source (tests) — the one the build put under dist/. Without it, commits run on
 * the calling thread (correct, only slower under load).
 */
function commitWorkerScript(): string | undefined {
  const here = new URL(import.meta.url);
  const url = here.pathname.endsWith('.ts') ? new URL('../dist/metadata/lmdb-commit-worker.js', here) : new URL('./lmdb-commit-worker.js', here);
  const path = fileURLToPath(url);
  return existsSync(path) ? path : undefined;
}

class LmdbStore implements KvStore {
  private pending: PendingCommit[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private inFlight = new Set<Promise<unknown>>();
  /** the batch the commit thread is working on, by message id */
  private sent: { id: number; batch: PendingCommit[] } | undefined;
  private nextId = 0;
  private closed = false;

  constructor(
    private readonly db: Database<Buffer, Buffer>,
    private worker: Worker | undefined,
  ) {
    if (worker) {
      worker.unref();
      worker.on('message', (msg: { id: number; outcomes: (boolean | { error: string })[] }) => this.committed(msg.id, msg.outcomes));
      worker.on('error', (err) => this.workerFailed(err));
      worker.on('exit', () => this.workerFailed(new Error('the LMDB commit thread exited')));
    }
  }

  async transact<T>(fn: (tx: KvTransaction) => Promise<T>, opts: TransactOptions = {}): Promise<T> {
    const maxAttempts = opts.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      this.assertOpen();
      const started = Date.now();
      const snapshot = this.db.useReadTransaction();
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
    const snapshot = this.db.useReadTransaction();
    try {
      return await fn(new LmdbTransaction(this.db, snapshot, false));
    } finally {
      snapshot.done();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.flush();
    }
    await Promise.allSettled([...this.inFlight]);
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
    await this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the metadata store is closed');
  }

  private commit(tx: LmdbTransaction): Promise<boolean> {
    const p = new Promise<boolean>((resolve, reject) => this.pending.push({ tx, resolve, reject }));
    if (!this.sent) this.scheduled ??= setImmediate(() => this.flush());
    this.inFlight.add(p);
    const untrack = () => this.inFlight.delete(p);
    p.then(untrack, untrack);
    return p;
  }

  /**
   * Commits every pending transaction in one LMDB write transaction (one fsync): on the
   * commit thread when there is one — one batch at a time, so what arrives during a commit
   * forms the next batch (group commit) — else here.
   */
  private flush(): void {
    this.scheduled = undefined;
    if (this.sent || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    if (this.worker) {
      const id = ++this.nextId;
      this.sent = { id, batch };
      this.worker.ref();
      this.worker.postMessage({ id, batch: batch.map((c) => toCommitRequest(c.tx, true)) });
      return;
    }
    settle(batch, commitBatch(this.db, batch.map((c) => toCommitRequest(c.tx, false))));
  }

  private committed(id: number, outcomes: (boolean | { error: string })[]): void {
    if (!this.sent || this.sent.id !== id) return;
    const { batch } = this.sent;
    this.sent = undefined;
    this.worker?.unref();
    // the next read must see what the commit thread wrote, not this thread's cached snapshot
    this.db.resetReadTxn();
    settle(batch, outcomes);
    this.flush();
  }

  /** the commit thread is gone: fail what it held (never acknowledged), commit here from now on */
  private workerFailed(err: Error): void {
    if (!this.worker) return;
    this.worker = undefined;
    const sent = this.sent;
    this.sent = undefined;
    // whether that batch committed is unknown: its transactions fail, their callers retry
    for (const c of sent?.batch ?? []) c.reject(err);
    this.db.resetReadTxn();
    this.flush();
  }
}

function settle(batch: PendingCommit[], outcomes: (boolean | { error: string })[]): void {
  batch.forEach((c, i) => {
    const o = outcomes[i];
    if (typeof o === 'boolean') c.resolve(o);
    else c.reject(new Error(o?.error ?? 'commit failed'));
  });
}

/** first retry at once; later ones spread out so hot keys stop colliding in lockstep */
function backoff(attempt: number): Promise<void> {
  if (attempt === 1) return new Promise((r) => setImmediate(r));
  const ms = Math.random() * Math.min(2 ** attempt, 100);
  return new Promise((r) => setTimeout(r, ms));
}
