/**
 * A KvStore held in memory, for tests that need many stores cheaply (the replication
 * simulation runs thousands of regions). It behaves as the real backends do — the KV
 * conformance suite runs against it (test/metadata/kv-memory.test.ts): keys in unsigned byte
 * order, serializable transactions with read-your-writes over a snapshot, optimistic
 * conflicts retried from scratch, snapshot reads, FDB's size limits.
 *
 * Not enforced: the 5 s transaction age (a test store must not depend on the wall clock).
 * Everything is synchronous underneath: a transaction only yields where its caller awaits.
 *
 * Data lives in a MemoryKvData that outlives a handle: `reopen()` gives a new handle on the
 * same data, as reopening an LMDB directory does.
 */
import { KV_LIMITS, KvConflictError, KvLimitError, type Bytes, type KvPair, type KvReader, type KvStore, type KvTransaction, type RangeOptions, type TransactOptions } from '../../metadata/kv.js';

/** keys are handled as latin1 strings: one char per byte, so string order is byte order */
type K = string;

interface Entry {
  ver: number;
  value: Buffer | undefined;
}

/** what a committed transaction wrote, kept while an older snapshot may still commit */
interface Written {
  ver: number;
  points: K[];
  ranges: [K, K][];
}

const str = (b: Bytes): K => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString('latin1');
const buf = (k: K): Buffer => Buffer.from(k, 'latin1');

function lowerBound(keys: K[], k: K): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** the stored data: per key its values by commit version (multi-version, so snapshots stay valid) */
export class MemoryKvData {
  /** every key with a history, sorted */
  private keys: K[] = [];
  private history = new Map<K, Entry[]>();
  version = 0;
  private log: Written[] = [];
  /** read version → open transactions on it */
  private open = new Map<number, number>();
  /** keys whose history can be shortened once no older snapshot is open */
  private dirty = new Set<K>();

  begin(): number {
    const v = this.version;
    this.open.set(v, (this.open.get(v) ?? 0) + 1);
    return v;
  }

  end(v: number): void {
    const n = this.open.get(v)! - 1;
    if (n > 0) this.open.set(v, n);
    else this.open.delete(v);
    if (this.open.size === 0) this.compact();
  }

  valueAt(k: K, ver: number): Buffer | undefined {
    const h = this.history.get(k);
    if (!h) return undefined;
    for (let i = h.length - 1; i >= 0; i--) if (h[i]!.ver <= ver) return h[i]!.value;
    return undefined;
  }

  /** stored pairs of [lo, hi) at `ver`, in order or reversed, at most `limit` */
  range(lo: K, hi: K, ver: number, reverse: boolean, limit: number): [K, Buffer][] {
    const out: [K, Buffer][] = [];
    const a = lowerBound(this.keys, lo);
    const b = lowerBound(this.keys, hi);
    for (let i = reverse ? b - 1 : a; reverse ? i >= a : i < b; i += reverse ? -1 : 1) {
      const k = this.keys[i]!;
      const v = this.valueAt(k, ver);
      if (v !== undefined) {
        out.push([k, v]);
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  /** true when a commit after `since` wrote a key read at a point or inside a read range */
  conflicts(since: number, points: Set<K>, ranges: [K, K][]): boolean {
    for (const w of this.log) {
      if (w.ver <= since) continue;
      for (const p of w.points) {
        if (points.has(p)) return true;
        for (const [lo, hi] of ranges) if (p >= lo && p < hi) return true;
      }
      for (const [wlo, whi] of w.ranges) {
        for (const p of points) if (p >= wlo && p < whi) return true;
        for (const [lo, hi] of ranges) if (wlo < hi && lo < whi) return true;
      }
    }
    return false;
  }

  apply(writes: Map<K, Buffer | null>, cleared: [K, K][]): void {
    const ver = ++this.version;
    const points: K[] = [];
    for (const [lo, hi] of cleared) {
      const a = lowerBound(this.keys, lo);
      const b = lowerBound(this.keys, hi);
      for (let i = a; i < b; i++) {
        const k = this.keys[i]!;
        if (this.valueAt(k, ver) !== undefined) this.put(k, ver, undefined);
      }
    }
    for (const [k, v] of writes) {
      this.put(k, ver, v ?? undefined);
      points.push(k);
    }
    if (this.open.size > 0) this.log.push({ ver, points, ranges: cleared });
    else this.compact();
  }

  private put(k: K, ver: number, value: Buffer | undefined): void {
    let h = this.history.get(k);
    if (!h) {
      if (value === undefined) return;
      h = [];
      this.history.set(k, h);
      this.keys.splice(lowerBound(this.keys, k), 0, k);
    }
    h.push({ ver, value });
    this.dirty.add(k);
  }

  /** no snapshot is open: only the newest value of each key matters, and no conflict is possible */
  private compact(): void {
    this.log = [];
    for (const k of this.dirty) {
      const h = this.history.get(k)!;
      const last = h[h.length - 1]!;
      if (last.value === undefined) {
        this.history.delete(k);
        this.keys.splice(lowerBound(this.keys, k), 1);
      } else if (h.length > 1) this.history.set(k, [last]);
    }
    this.dirty.clear();
  }
}

function checkKey(key: Bytes, bound = false): K {
  if (key.length > KV_LIMITS.maxKeyBytes + (bound ? 16 : 0)) throw new KvLimitError(`key of ${key.length} bytes exceeds ${KV_LIMITS.maxKeyBytes}`);
  if (key.length === 0 && !bound) throw new KvLimitError('empty key');
  return str(key);
}

class MemoryTransaction implements KvTransaction {
  readonly writes = new Map<K, Buffer | null>();
  readonly cleared: [K, K][] = [];
  readonly points = new Set<K>();
  readonly ranges: [K, K][] = [];
  private bytes = 0;

  constructor(
    private readonly data: MemoryKvData,
    readonly ver: number,
    private readonly recordReads: boolean,
  ) {}

  get hasWrites(): boolean {
    return this.writes.size > 0 || this.cleared.length > 0;
  }

  async get(key: Bytes, opts?: { snapshot?: boolean }): Promise<Bytes | undefined> {
    const k = checkKey(key);
    const w = this.writes.get(k);
    if (w !== undefined) return w ?? undefined;
    if (this.isCleared(k)) return undefined;
    if (this.recordReads && !opts?.snapshot) this.points.add(k);
    return this.data.valueAt(k, this.ver);
  }

  async getRange(begin: Bytes, end: Bytes, opts: RangeOptions = {}): Promise<KvPair[]> {
    const lo = checkKey(begin, true);
    const hi = checkKey(end, true);
    if (lo >= hi) return [];
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    const reverse = !!opts.reverse;
    let pairs: [K, Buffer][];
    if (this.writes.size === 0 && this.cleared.length === 0) {
      pairs = this.data.range(lo, hi, this.ver, reverse, limit);
    } else {
      // stored pairs not overwritten or cleared here, merged with this transaction's writes
      const merged = new Map<K, Buffer>();
      for (const [k, v] of this.data.range(lo, hi, this.ver, false, Infinity)) {
        if (!this.writes.has(k) && !this.isCleared(k)) merged.set(k, v);
      }
      for (const [k, v] of this.writes) if (v !== null && k >= lo && k < hi) merged.set(k, v);
      pairs = [...merged].sort((x, y) => (x[0] < y[0] ? -1 : 1));
      if (reverse) pairs.reverse();
      if (pairs.length > limit) pairs.length = limit;
    }
    if (this.recordReads && !opts.snapshot) {
      // as the real backends: a limited read depends only on the keys up to its last pair
      const last = pairs[pairs.length - 1]?.[0];
      if (pairs.length >= limit && last !== undefined) this.ranges.push(reverse ? [last, hi] : [lo, last + '\x00']);
      else this.ranges.push([lo, hi]);
    }
    return pairs.map(([k, v]) => ({ key: buf(k), value: v }));
  }

  set(key: Bytes, value: Bytes): void {
    const k = checkKey(key);
    if (value.length > KV_LIMITS.maxValueBytes) throw new KvLimitError(`value of ${value.length} bytes exceeds ${KV_LIMITS.maxValueBytes}`);
    this.addBytes(key.length + value.length);
    this.writes.set(k, Buffer.from(value));
  }

  clear(key: Bytes): void {
    const k = checkKey(key);
    this.addBytes(key.length);
    this.writes.set(k, null);
  }

  clearRange(begin: Bytes, end: Bytes): void {
    const lo = checkKey(begin, true);
    const hi = checkKey(end, true);
    if (lo >= hi) return;
    this.addBytes(begin.length + end.length);
    // writes inside the range are superseded; later ones land on top of it
    for (const k of [...this.writes.keys()]) if (k >= lo && k < hi) this.writes.delete(k);
    this.cleared.push([lo, hi]);
  }

  private isCleared(k: K): boolean {
    for (const [lo, hi] of this.cleared) if (k >= lo && k < hi) return true;
    return false;
  }

  private addBytes(n: number): void {
    this.bytes += n;
    if (this.bytes > KV_LIMITS.maxTransactionBytes) throw new KvLimitError(`transaction writes more than ${KV_LIMITS.maxTransactionBytes} bytes`);
  }
}

export class MemoryKv implements KvStore {
  private closed = false;

  constructor(readonly data: MemoryKvData = new MemoryKvData()) {}

  async transact<T>(fn: (tx: KvTransaction) => Promise<T>, opts: TransactOptions = {}): Promise<T> {
    const maxAttempts = opts.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      this.assertOpen();
      const ver = this.data.begin();
      const tx = new MemoryTransaction(this.data, ver, true);
      let result: T;
      let ok = false;
      try {
        result = await fn(tx);
        // nothing written: the reads were one consistent snapshot, there is nothing to validate
        ok = !tx.hasWrites || !this.data.conflicts(ver, tx.points, tx.ranges);
        if (ok && tx.hasWrites) this.data.apply(tx.writes, tx.cleared);
      } finally {
        this.data.end(ver);
      }
      if (ok) return result;
      if (attempt >= maxAttempts) throw new KvConflictError();
    }
  }

  async read<T>(fn: (tx: KvReader) => Promise<T>): Promise<T> {
    this.assertOpen();
    const ver = this.data.begin();
    try {
      return await fn(new MemoryTransaction(this.data, ver, false));
    } finally {
      this.data.end(ver);
    }
  }

  /** a new handle on the same data (what reopening a store's directory gives) */
  reopen(): MemoryKv {
    this.closed = true;
    return new MemoryKv(this.data);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the metadata store is closed');
  }
}
