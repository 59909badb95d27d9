/**
 * The commit step of an LMDB transaction as plain data: what the attempt read (which must
 * read the same inside the write transaction) and what it writes. Shared by the in-thread
 * committer and the commit worker thread (lmdb-commit-worker.ts).
 */
import type { Database } from 'lmdb';
import { rawRange, type LmdbTransaction, type RawPair } from './lmdb-tx.js';

type Bin = Uint8Array;

export interface CommitRequest {
  pointReads: { key: Bin; value: Bin | undefined }[];
  rangeReads: { begin: Bin; end: Bin; pairs: { key: Bin; value: Bin }[] }[];
  clearedRanges: { begin: Bin; end: Bin }[];
  writes: { key: Bin; value: Bin | null }[];
}

/** compact copies: a Buffer may be a view on a much larger pooled or network buffer */
const own = (b: Buffer): Uint8Array => Uint8Array.prototype.slice.call(b);

export function toCommitRequest(tx: LmdbTransaction, copy: boolean): CommitRequest {
  const c = copy ? own : (b: Buffer) => b;
  return {
    pointReads: tx.pointReads.map((r) => ({ key: c(r.key), value: r.value && c(r.value) })),
    rangeReads: tx.rangeReads.map((r) => ({ begin: c(r.begin), end: c(r.end), pairs: r.pairs.map((p) => ({ key: c(p.key), value: c(p.value) })) })),
    clearedRanges: tx.clearedRanges.map((r) => ({ begin: c(r.begin), end: c(r.end) })),
    writes: [...tx.writes.values()].map((w) => ({ key: c(w.key), value: w.value && c(w.value) })),
  };
}

const buf = (u: Bin): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** inside the write transaction: false (and no writes) if anything read has changed */
export function validateAndApply(db: Database<Buffer, Buffer>, req: CommitRequest): boolean {
  for (const r of req.pointReads) {
    if (!sameValue(db.getBinary(buf(r.key)), r.value)) return false;
  }
  for (const r of req.rangeReads) {
    if (!sameRange(rawRange(db, undefined, buf(r.begin), buf(r.end), false), r.pairs)) return false;
  }
  for (const r of req.clearedRanges) {
    const keys: Buffer[] = [];
    const it = rawRange(db, undefined, buf(r.begin), buf(r.end), false);
    for (let n = it.next(); !n.done; n = it.next()) keys.push(n.value.key);
    for (const k of keys) db.removeSync(k);
  }
  for (const w of req.writes) {
    if (w.value) db.putSync(buf(w.key), buf(w.value));
    else db.removeSync(buf(w.key));
  }
  return true;
}

function sameValue(a: Buffer | undefined, b: Bin | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.equals(b);
}

function sameRange(it: Iterator<RawPair>, pairs: { key: Bin; value: Bin }[]): boolean {
  let i = 0;
  for (let n = it.next(); !n.done; n = it.next(), i++) {
    const p = pairs[i];
    if (!p || !n.value.key.equals(p.key) || !n.value.value.equals(p.value)) {
      it.return?.();
      return false;
    }
  }
  return i === pairs.length;
}

/**
 * Commits a batch in one write transaction (one fsync); if one member breaks the shared
 * transaction, the batch is committed one by one so only that member fails.
 */
export function commitBatch(db: Database<Buffer, Buffer>, batch: CommitRequest[]): (boolean | { error: string })[] {
  try {
    return db.transactionSync(() => batch.map((req) => validateAndApply(db, req)));
  } catch (err) {
    if (batch.length === 1) return [{ error: String((err as Error)?.message ?? err) }];
    return batch.map((req) => {
      try {
        return db.transactionSync(() => validateAndApply(db, req));
      } catch (e) {
        return { error: String((e as Error)?.message ?? e) };
      }
    });
  }
}
