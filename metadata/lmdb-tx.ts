/**
 * One attempt of an LMDB-backed transaction: reads from a consistent LMDB read snapshot,
 * buffers writes (reads see them, ranges included), and records what it read so the commit
 * can re-validate it (optimistic concurrency, as FoundationDB does with conflict ranges).
 */
import type { Database, Transaction } from 'lmdb';
import { KV_LIMITS, KvLimitError, type Bytes, type KvPair, type KvTransaction, type RangeOptions } from './kv.js';
import { asBuffer } from './tuple.js';

/**
 * Keys longer than this are refused: LMDB's own limit is 4026 bytes with 8 KiB pages, lower
 * than FDB's 10 kB, and range bounds need a few bytes more than the longest key.
 */
export const LMDB_MAX_KEY_BYTES = 4000;

/** a buffered write: a value, or null for a cleared key */
interface BufferedWrite {
  key: Buffer;
  value: Buffer | null;
}

/** a stored pair as LMDB returns it */
export interface RawPair {
  key: Buffer;
  value: Buffer;
}

interface ClearedRange {
  begin: Buffer;
  end: Buffer;
}

/** a point read that must still give the same answer at commit */
export interface PointRead {
  key: Buffer;
  value: Buffer | undefined;
}

/** a key range [begin, end) whose stored pairs must be the same at commit, in forward order */
export interface RangeRead {
  begin: Buffer;
  end: Buffer;
  pairs: RawPair[];
}

export class LmdbTransaction implements KvTransaction {
  /** keyed by the key's latin1 form, whose string order is the byte order */
  readonly writes = new Map<string, BufferedWrite>();
  readonly clearedRanges: ClearedRange[] = [];
  readonly pointReads: PointRead[] = [];
  readonly rangeReads: RangeRead[] = [];
  private bytes = 0;

  constructor(
    private readonly db: Database<Buffer, Buffer>,
    private readonly snapshot: Transaction,
    /** read-only transactions record no read set */
    private readonly recordReads: boolean,
  ) {}

  get hasWrites(): boolean {
    return this.writes.size > 0 || this.clearedRanges.length > 0;
  }

  async get(key: Bytes, opts?: { snapshot?: boolean }): Promise<Bytes | undefined> {
    const k = checkKey(key);
    const w = this.writes.get(k.toString('latin1'));
    if (w) return w.value ?? undefined;
    if (this.isCleared(k)) return undefined;
    const value = getBinary(this.db, k, this.snapshot);
    if (this.recordReads && !opts?.snapshot) this.pointReads.push({ key: k, value });
    return value;
  }

  async getRange(begin: Bytes, end: Bytes, opts: RangeOptions = {}): Promise<KvPair[]> {
    const b = checkKey(begin, true);
    const e = checkKey(end, true);
    if (Buffer.compare(b, e) >= 0) return [];
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const reverse = !!opts.reverse;
    const buffered = this.bufferedIn(b, e, reverse);
    const raw = rawRange(this.db, this.snapshot, b, e, reverse);
    const out: KvPair[] = [];
    const seen: RawPair[] = [];
    let r = raw.next();
    let wi = 0;
    try {
      while (out.length < limit) {
        const w = buffered[wi];
        if (r.done && !w) break;
        let c = 0;
        if (!r.done && w) c = Buffer.compare(r.value.key, w.key) * (reverse ? -1 : 1);
        if (!r.done && (!w || c <= 0)) {
          // a stored pair; a buffered write to the same key hides it
          seen.push(r.value);
          if (c < 0 || !w) {
            if (!this.isCleared(r.value.key)) out.push(r.value);
          }
          r = raw.next();
          continue;
        }
        if (w!.value) out.push({ key: w!.key, value: w!.value });
        wi++;
      }
    } finally {
      raw.return?.();
    }
    if (this.recordReads && !opts.snapshot) {
      // only what decided the answer conflicts: up to the last pair returned when limited
      const limited = out.length >= limit;
      const last = out[out.length - 1]?.key;
      const rb = limited && reverse ? asBuffer(last!) : b;
      const re = limited && !reverse ? keyAfterBuf(last!) : e;
      this.rangeReads.push({ begin: rb, end: re, pairs: reverse ? seen.reverse() : seen });
    }
    return out;
  }

  set(key: Bytes, value: Bytes): void {
    const k = checkKey(key);
    const v = asBuffer(value);
    if (v.length > KV_LIMITS.maxValueBytes) {
      throw new KvLimitError(`value of ${v.length} bytes exceeds ${KV_LIMITS.maxValueBytes}`);
    }
    this.addBytes(k.length + v.length);
    this.writes.set(k.toString('latin1'), { key: k, value: v });
  }

  clear(key: Bytes): void {
    const k = checkKey(key);
    this.addBytes(k.length);
    this.writes.set(k.toString('latin1'), { key: k, value: null });
  }

  clearRange(begin: Bytes, end: Bytes): void {
    const b = checkKey(begin, true);
    const e = checkKey(end, true);
    if (Buffer.compare(b, e) >= 0) return;
    this.addBytes(b.length + e.length);
    // buffered writes inside the range are superseded; later writes land on top of it
    const lo = b.toString('latin1');
    const hi = e.toString('latin1');
    for (const s of [...this.writes.keys()]) if (s >= lo && s < hi) this.writes.delete(s);
    this.clearedRanges.push({ begin: b, end: e });
  }

  private isCleared(k: Buffer): boolean {
    for (const r of this.clearedRanges) {
      if (Buffer.compare(k, r.begin) >= 0 && Buffer.compare(k, r.end) < 0) return true;
    }
    return false;
  }

  private bufferedIn(b: Buffer, e: Buffer, reverse: boolean): BufferedWrite[] {
    if (this.writes.size === 0) return [];
    const lo = b.toString('latin1');
    const hi = e.toString('latin1');
    const hits: [string, BufferedWrite][] = [];
    for (const entry of this.writes) if (entry[0] >= lo && entry[0] < hi) hits.push(entry);
    hits.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    if (reverse) hits.reverse();
    return hits.map((h) => h[1]);
  }

  private addBytes(n: number): void {
    this.bytes += n;
    if (this.bytes > KV_LIMITS.maxTransactionBytes) {
      throw new KvLimitError(`transaction writes more than ${KV_LIMITS.maxTransactionBytes} bytes`);
    }
  }
}

/** Iterates stored pairs of [b, e) in the given direction, from `txn` (or the write txn). */
export function rawRange(
  db: Database<Buffer, Buffer>,
  txn: Transaction | undefined,
  b: Buffer,
  e: Buffer,
  reverse: boolean,
): Iterator<RawPair> {
  // lmdb-js: `start` is where iteration begins; it is inclusive unless exclusiveStart
  const opts = reverse
    ? { start: e, end: b.length ? b : undefined, reverse: true, exclusiveStart: true, inclusiveEnd: true }
    : { start: b.length ? b : undefined, end: e };
  const it = db.getRange(txn ? { ...opts, transaction: txn } : opts)[Symbol.iterator]();
  return it as Iterator<RawPair>;
}

/** lmdb-js reads through `transaction` although its typings omit the option */
export function getBinary(db: Database<Buffer, Buffer>, key: Buffer, txn?: Transaction): Buffer | undefined {
  return (db.getBinary as (k: Buffer, o?: { transaction: Transaction }) => Buffer | undefined).call(
    db,
    key,
    txn ? { transaction: txn } : undefined,
  );
}

export function checkKey(key: Bytes, bound = false): Buffer {
  const k = asBuffer(key);
  const max = Math.min(KV_LIMITS.maxKeyBytes, LMDB_MAX_KEY_BYTES);
  // a range end may be one byte past the longest key (keyAfter / prefix + 0xFF)
  if (k.length > max + (bound ? 16 : 0)) {
    throw new KvLimitError(`key of ${k.length} bytes exceeds ${max}`);
  }
  if (k.length === 0 && !bound) throw new KvLimitError('empty key');
  return k;
}

function keyAfterBuf(k: Uint8Array): Buffer {
  const out = Buffer.alloc(k.length + 1);
  out.set(k, 0);
  return out;
}
