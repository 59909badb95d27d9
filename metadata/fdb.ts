/**
 * KvStore on FoundationDB (npm package `foundationdb`, an optional dependency that needs the
 * FoundationDB client library, libfdb_c). The package is loaded by dynamic import only when
 * this backend is chosen, so nothing else needs it installed.
 *
 * Layout: every key the layers above write lives under pack([prefix, 'kv']) (default prefix
 * 'erne'), so one cluster can hold several stores and user keys never reach FDB's system
 * keyspace (0xFF…). Commit markers (below) live under pack([prefix, 'tx']).
 *
 * FDB's rules, kept rather than hoped for:
 * - limits: keys ≤ FDB_MAX_KEY_BYTES (FDB's 10 kB minus room for the prefix), values
 *   ≤ 100 kB, ≤ 10 MB written and ≤ 5 s per attempt, refused with KvLimitError exactly as the
 *   LMDB backend does (the conformance suite holds both to it). Values are NOT split across
 *   keys here: the KvStore contract is that a value is ≤ 100 kB on every backend, so a layer
 *   whose records could grow (part lists, configuration documents) splits them itself and
 *   runs the same on LMDB and FDB.
 * - retries go through the binding's retry loop (db.doTransaction → fdb_transaction_on_error),
 *   which backs off on conflicts (not_committed), too-old reads and commit_unknown_result.
 * - commit_unknown_result (1021): the retry loop runs the function again although the first
 *   commit may have landed. Every writing transaction therefore also writes a commit marker
 *   (its own random id → the attempt number) and, from the second attempt on, first reads
 *   that marker. If it is there, an earlier attempt did commit: its result (kept in memory)
 *   is returned and nothing is written again. So a retried putObject cannot commit a second
 *   version (nor a second outbox entry, blob reference or garbage entry), whatever the object
 *   layer writes. The marker read is a conflicting read: if the first commit is still in
 *   flight and lands after it, the retry's own commit conflicts and the next attempt sees the
 *   marker. Markers older than MARKER_TTL_MS are cleared by a blind range clear now and then.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  KV_LIMITS,
  KvConflictError,
  KvLimitError,
  type Bytes,
  type KvPair,
  type KvReader,
  type KvStore,
  type KvTransaction,
  type RangeOptions,
  type TransactOptions,
} from './kv.js';
import { asBuffer, pack } from './tuple.js';

/** room left for the key prefix inside FDB's 10,000-byte key limit */
export const FDB_MAX_KEY_BYTES = KV_LIMITS.maxKeyBytes - 100;
/** FoundationDB 7.1 and later accept this API version */
export const DEFAULT_FDB_API_VERSION = 710;
const MARKER_TTL_MS = 10 * 60_000;
const MARKER_SWEEP_MS = 60_000;

/** FDB error codes that mean one of our limits was crossed */
const LIMIT_ERRORS = new Map<number, string>([
  [2101, 'transaction exceeds 10 MB'],
  [2102, 'key too large'],
  [2103, 'value too large'],
]);

// The part of the binding this file uses, typed here so tsc never needs the package.
export interface FdbTransaction {
  get(key: Buffer): Promise<Buffer | undefined>;
  getRangeAll(start: Buffer, end: Buffer, opts?: { limit?: number; reverse?: boolean }): Promise<[Buffer, Buffer][]>;
  set(key: Buffer, value: Buffer): void;
  clear(key: Buffer): void;
  clearRange(start: Buffer, end: Buffer): void;
  snapshot(): FdbTransaction;
}
export interface FdbDatabase {
  doTransaction<T>(body: (tn: FdbTransaction) => Promise<T>): Promise<T>;
  close(): void;
}
export interface FdbModule {
  setAPIVersion(version: number): void;
  open(clusterFile?: string): FdbDatabase;
}

export interface FdbOptions {
  /** default: FDB's own lookup (FDB_CLUSTER_FILE, ./fdb.cluster, /etc/foundationdb/fdb.cluster) */
  clusterFile?: string;
  /** default DEFAULT_FDB_API_VERSION; one per process (FDB allows setting it once) */
  apiVersion?: number;
  /** tuple string under which this store's keys live; default 'erne' */
  prefix?: string;
}

export const FDB_INSTALL_HINT =
  'FoundationDB backend unavailable: install the FoundationDB client package ' +
  '(foundationdb-clients_7.3.x_amd64.deb from https://github.com/apple/foundationdb/releases, linked from foundationdb.org), ' +
  'then run `npm install foundationdb`';

/** the client library is missing: `message` is the one line to print */
export class FdbUnavailableError extends Error {
  override readonly name = 'FdbUnavailableError';
}

let loaded: { mod: FdbModule; apiVersion: number } | undefined;

async function loadBinding(apiVersion: number): Promise<FdbModule> {
  if (loaded) {
    if (loaded.apiVersion !== apiVersion) {
      throw new Error(`FoundationDB API version is ${loaded.apiVersion} in this process; cannot switch to ${apiVersion}`);
    }
    return loaded.mod;
  }
  const name = 'foundationdb'; // a variable: tsc must not look for the package's types
  const quiet = console.error;
  let ns: { default?: FdbModule } & Partial<FdbModule>;
  try {
    // the binding prints its own multi-line advice when libfdb_c is missing; ours is one line
    console.error = () => undefined;
    // required, not imported: the binding is CommonJS, and a microVM's startup snapshot (which
    // runs this module) has no loader for dynamic import()
    ns = createRequire(import.meta.url)(name) as typeof ns;
  } catch (err) {
    const cause = String((err as Error)?.message ?? err).split('\n')[0];
    throw new FdbUnavailableError(`${FDB_INSTALL_HINT} (${cause})`);
  } finally {
    console.error = quiet;
  }
  const mod = (ns.open ? ns : ns.default) as FdbModule;
  mod.setAPIVersion(apiVersion);
  loaded = { mod, apiVersion };
  return mod;
}

export async function openFdb(opts: FdbOptions = {}): Promise<KvStore> {
  return openFdbWith(await loadBinding(opts.apiVersion ?? DEFAULT_FDB_API_VERSION), opts);
}

/** the store over a given binding (openFdb loads the real one; tests may pass another) */
export function openFdbWith(mod: FdbModule, opts: FdbOptions = {}): KvStore {
  const prefix = opts.prefix ?? 'erne';
  return new FdbStore(mod.open(opts.clusterFile), pack([prefix, 'kv']), pack([prefix, 'tx']));
}

/** removes every key of the store under `prefix` (data and markers): tests, decommissioning */
export async function clearFdbStore(opts: FdbOptions & { prefix: string }): Promise<void> {
  const mod = await loadBinding(opts.apiVersion ?? DEFAULT_FDB_API_VERSION);
  const db = mod.open(opts.clusterFile);
  const p = pack([opts.prefix]);
  try {
    await db.doTransaction(async (tn) => tn.clearRange(p, Buffer.concat([p, Buffer.from([0xff])])));
  } finally {
    db.close();
  }
}

function fdbCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return (err as Error)?.name === 'FDBError' || typeof code === 'number' ? (code as number) : undefined;
}

function mapError(err: unknown): unknown {
  const code = fdbCode(err);
  const limit = code !== undefined ? LIMIT_ERRORS.get(code) : undefined;
  return limit ? new KvLimitError(`FoundationDB: ${limit}`) : err;
}

class FdbStore implements KvStore {
  private closed = false;
  private lastSweep = 0;

  constructor(
    private readonly db: FdbDatabase,
    private readonly data: Buffer,
    private readonly markers: Buffer,
  ) {}

  async transact<T>(fn: (tx: KvTransaction) => Promise<T>, opts: TransactOptions = {}): Promise<T> {
    this.assertOpen();
    const maxAttempts = opts.maxAttempts ?? 50;
    const marker = Buffer.concat([this.markers, timeKey(Date.now()), randomBytes(12)]);
    /** results of attempts that reached commit with a marker, by attempt number */
    const results = new Map<number, T>();
    let attempt = 0;
    try {
      const out = await this.db.doTransaction(async (tn) => {
        attempt++;
        if (results.size > 0) {
          const done = await tn.get(marker);
          if (done) return { value: results.get(done.readUInt32BE(0)) as T };
        }
        if (attempt > maxAttempts) throw new KvConflictError();
        const started = Date.now();
        const tx = new FdbTx(tn, this.data);
        const value = await fn(tx);
        if (Date.now() - started > KV_LIMITS.maxTransactionMs) {
          throw new KvLimitError(`transaction lived longer than ${KV_LIMITS.maxTransactionMs} ms`);
        }
        if (tx.hasWrites) {
          const n = Buffer.alloc(4);
          n.writeUInt32BE(attempt);
          tn.set(marker, n);
          results.set(attempt, value);
        }
        return { value };
      });
      return out.value;
    } catch (err) {
      throw mapError(err);
    } finally {
      this.maybeSweepMarkers();
    }
  }

  async read<T>(fn: (tx: KvReader) => Promise<T>): Promise<T> {
    this.assertOpen();
    try {
      // snapshot reads: one read version, no conflict ranges; nothing is committed
      return await this.db.doTransaction(async (tn) => fn(new FdbTx(tn.snapshot(), this.data, false)));
    } catch (err) {
      throw mapError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the metadata store is closed');
  }

  /** clears commit markers older than MARKER_TTL_MS: a blind write, it never conflicts */
  private maybeSweepMarkers(): void {
    const now = Date.now();
    if (now - this.lastSweep < MARKER_SWEEP_MS || this.closed) return;
    this.lastSweep = now;
    const end = Buffer.concat([this.markers, timeKey(now - MARKER_TTL_MS)]);
    this.db.doTransaction(async (tn) => tn.clearRange(this.markers, end)).catch(() => undefined);
  }
}

/** 8 bytes big-endian ms: markers sort by age */
function timeKey(ms: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(ms))));
  return b;
}

/** one attempt's view: user keys are mapped under the data prefix, limits checked up front */
class FdbTx implements KvTransaction {
  private bytes = 0;
  hasWrites = false;

  constructor(
    private readonly tn: FdbTransaction,
    private readonly data: Buffer,
    private readonly writable = true,
  ) {}

  async get(key: Bytes, opts?: { snapshot?: boolean }): Promise<Bytes | undefined> {
    const k = this.key(key);
    const t = opts?.snapshot ? this.tn.snapshot() : this.tn;
    return (await t.get(k)) ?? undefined;
  }

  async getRange(begin: Bytes, end: Bytes, opts: RangeOptions = {}): Promise<KvPair[]> {
    const b = this.key(begin, true);
    const e = this.key(end, true);
    if (Buffer.compare(b, e) >= 0) return [];
    const t = opts.snapshot ? this.tn.snapshot() : this.tn;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const rows = await t.getRangeAll(b, e, { ...(limit ? { limit } : {}), reverse: !!opts.reverse });
    const n = this.data.length;
    return rows.map(([k, v]) => ({ key: k.subarray(n), value: v }));
  }

  set(key: Bytes, value: Bytes): void {
    const k = this.key(key);
    const v = asBuffer(value);
    if (v.length > KV_LIMITS.maxValueBytes) {
      throw new KvLimitError(`value of ${v.length} bytes exceeds ${KV_LIMITS.maxValueBytes}`);
    }
    this.write(k.length + v.length);
    this.tn.set(k, v);
  }

  clear(key: Bytes): void {
    const k = this.key(key);
    this.write(k.length);
    this.tn.clear(k);
  }

  clearRange(begin: Bytes, end: Bytes): void {
    const b = this.key(begin, true);
    const e = this.key(end, true);
    if (Buffer.compare(b, e) >= 0) return;
    this.write(b.length + e.length);
    this.tn.clearRange(b, e);
  }

  private write(n: number): void {
    if (!this.writable) throw new Error('read-only transaction');
    this.hasWrites = true;
    this.bytes += n;
    if (this.bytes > KV_LIMITS.maxTransactionBytes) {
      throw new KvLimitError(`transaction writes more than ${KV_LIMITS.maxTransactionBytes} bytes`);
    }
  }

  /** the FDB key of a user key; a range bound may be empty and a few bytes longer */
  private key(key: Bytes, bound = false): Buffer {
    const k = asBuffer(key);
    if (k.length > FDB_MAX_KEY_BYTES + (bound ? 16 : 0)) {
      throw new KvLimitError(`key of ${k.length} bytes exceeds ${FDB_MAX_KEY_BYTES}`);
    }
    if (k.length === 0 && !bound) throw new KvLimitError('empty key');
    return Buffer.concat([this.data, k]);
  }
}
