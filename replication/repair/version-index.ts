/**
 * A bucket's version index as one side of the range-hash walk (range-tree.ts), read from the
 * region's KV store a page per transaction (bounded on LMDB and FDB alike). Three subspaces
 * hold what regions must agree on, each walked as its own index:
 *
 *   ('v', bucket, key, id)  every stored version; digest: what a client sees of it (ETag,
 *                           size, delete marker, null, tags). The stored body differs between
 *                           regions (a blob here, "remote" there) and is left out.
 *   ('t', bucket, key, id)  versions deleted for good;
 *   ('nv', bucket, key)     the key's null mark; digest: the id.
 *   ('vr', bucket, key, id, name)  a version's register (tags, ACL); digest: its stamp (an ACL
 *                           lives beside the version record, so only this row tells it apart);
 *   ('br', bucket, name)    the stamp of a bucket setting's last write (versioning, CORS, …);
 *   ('ks', accessKeyId)     the stamp of an access key's last write (cluster-wide, not per bucket);
 *   ('b', bucket)           a bucket record; digest: its incarnation (creation time);
 *   ('bx', bucket)          a deleted bucket's gone marker; digest: the incarnation deleted.
 * The last three are cluster-wide: a scope naming a bucket narrows 'b' and 'bx' to its one row.
 *
 * Tombstones and null marks naming no stored version are left out below `floorMs`: under the
 * tombstone horizon a region may have collected them while its peer has not yet, and that is
 * no difference to repair (metadata/tombstone-horizon.ts); so are gone markers whose
 * incarnation was created and deleted below it (metadata/tombstone-collect.ts).
 */
import type { KvPair, KvReader, KvStore } from '../../metadata/kv.js';
import { decodeGone } from '../../metadata/bucket-drop.js';
import { decode, decodeBucket } from '../../metadata/records.js';
import { belowHorizon } from '../../metadata/tombstone-horizon.js';
import { keyAfter, pack, subspaceRange, unpackAfter } from '../../metadata/tuple.js';
import { splitEntries, summarizeEntries, type Entry, type IndexSide, type KeyRange } from './range-tree.js';

export type IndexSpace = 'v' | 't' | 'nv' | 'vr' | 'br' | 'ks' | 'b' | 'bx';
/** what is compared per bucket */
export const BUCKET_SPACES: readonly IndexSpace[] = ['v', 't', 'nv', 'vr', 'br'];
/** the bucket records and gone markers, deletions first (a creation may wait for one) */
export const NAME_SPACES: readonly IndexSpace[] = ['bx', 'b'];
/** every index, the cluster-wide ones ('ks': access keys, its scope's bucket unused; 'b', 'bx') included */
export const INDEX_SPACES: readonly IndexSpace[] = [...BUCKET_SPACES, 'ks', ...NAME_SPACES];

/** the key prefix of a scope's index */
function spaceOf(scope: Pick<IndexScope, 'bucket' | 'space'>): Buffer {
  return pack(scope.space === 'ks' || scope.space === 'b' || scope.space === 'bx' ? [scope.space] : [scope.space, scope.bucket]);
}

export interface IndexScope {
  bucket: string;
  space: IndexSpace;
  /** tombstones and erased null marks older than this (wall ms) are left out; 0: none */
  floorMs: number;
}

/** rows read per transaction */
export const SCAN_PAGE = 2000;

/** the whole index of a scope, as hex keys */
export function rootRange(scope: Pick<IndexScope, 'bucket' | 'space'>): Required<KeyRange> {
  if ((scope.space === 'b' || scope.space === 'bx') && scope.bucket !== '') {
    const k = pack([scope.space, scope.bucket]);
    return { lo: k.toString('hex'), hi: keyAfter(k).toString('hex') };
  }
  const r = subspaceRange(scope.space === 'ks' || scope.space === 'b' || scope.space === 'bx' ? [scope.space] : [scope.space, scope.bucket]);
  return { lo: r.begin.toString('hex'), hi: r.end.toString('hex') };
}

/** `r` cut to the scope's index: a peer's request never reads outside it */
function clamp(scope: IndexScope, r: KeyRange): Required<KeyRange> {
  const root = rootRange(scope);
  const lo = r.lo > root.lo ? r.lo : root.lo;
  const hi = r.hi !== undefined && r.hi < root.hi ? r.hi : root.hi;
  return { lo, hi };
}

/** the fields of a stored version record (metadata/records.ts) a digest is made of */
interface SeenFields {
  et: string;
  sz: number;
  dm?: true;
  nl?: true;
  tg?: Record<string, string>;
}

function versionDigest(value: Uint8Array): string {
  const v = decode<SeenFields>(value);
  const tags = v.tg ? JSON.stringify(Object.keys(v.tg).sort().map((k) => [k, v.tg![k]])) : '';
  return `${v.et}|${v.sz}|${v.dm ? 'm' : ''}|${v.nl ? 'n' : ''}|${tags}`;
}

/** the entry a row makes, or undefined when it is left out */
async function entryOf(tx: KvReader, scope: IndexScope, space: Buffer, row: KvPair): Promise<Entry | undefined> {
  const key = Buffer.from(row.key).toString('hex');
  if (scope.space === 'v') return { key, digest: versionDigest(row.value) };
  if (scope.space === 'br' || scope.space === 'ks') return { key, digest: decode<string>(row.value) };
  if (scope.space === 'vr') return { key, digest: decode<{ s: string }>(row.value).s };
  if (scope.space === 'b') return { key, digest: String(decodeBucket(row.value).createdAt) };
  if (scope.space === 'bx') {
    const m = decodeGone(row.value);
    const collectable = m.deletedAt !== undefined && m.deletedAt.wall < scope.floorMs && m.createdAt < scope.floorMs;
    return collectable ? undefined : { key, digest: String(m.createdAt) };
  }
  const t = unpackAfter(space, row.key) as string[];
  if (scope.space === 't') return belowHorizon(t[1]!, scope.floorMs) ? undefined : { key, digest: '' };
  const mark = decode<string>(row.value);
  if (belowHorizon(mark, scope.floorMs) && (await tx.get(pack(['v', scope.bucket, t[0]!, mark]))) === undefined) return undefined;
  return { key, digest: mark };
}

export class KvIndexSide implements IndexSide {
  /** rows read so far (the bench reports it) */
  rowsRead = 0;

  constructor(
    private readonly kv: KvStore,
    private readonly scope: IndexScope,
    private readonly page = SCAN_PAGE,
  ) {}

  /** the entries of `r` in order, a page per read transaction */
  async *scan(r: KeyRange, limit = Infinity): AsyncGenerator<Entry> {
    const { lo, hi } = clamp(this.scope, r);
    if (lo >= hi) return;
    const space = spaceOf(this.scope);
    let begin = Buffer.from(lo, 'hex');
    const end = Buffer.from(hi, 'hex');
    let given = 0;
    for (;;) {
      const want = Math.min(this.page, limit - given);
      const { entries, last, full } = await this.kv.read(async (tx) => {
        const rows = await tx.getRange(begin, end, { limit: want });
        const entries: Entry[] = [];
        for (const row of rows) {
          const e = await entryOf(tx, this.scope, space, row);
          if (e) entries.push(e);
        }
        return { entries, last: rows[rows.length - 1]?.key, full: rows.length === want };
      });
      this.rowsRead += entries.length;
      for (const e of entries) yield e;
      given += entries.length;
      if (!full || !last || given >= limit) return;
      begin = Buffer.concat([Buffer.from(last), Buffer.from([0])]);
    }
  }

  summarize(r: KeyRange, cuts: string[]) {
    return summarizeEntries(this.scan(r), cuts);
  }

  split(r: KeyRange, parts: number) {
    return splitEntries(this.scan(r), parts);
  }

  async entries(r: KeyRange, limit: number): Promise<Entry[]> {
    const out: Entry[] = [];
    for await (const e of this.scan(r, limit)) out.push(e);
    return out;
  }
}
