/**
 * Dropping a deleted bucket's records. Deleting a bucket aborts its multipart uploads in
 * progress, as S3 does (their parts join the release queue 'mr' the janitor frees), and clears
 * what the bucket leaves behind: null marks and tombstones (an empty bucket still has them),
 * registers, configuration, object ACLs, and — when a deletion decided elsewhere arrives
 * (replication's bucket-deleted) — any versions still here, their bytes becoming garbage. A
 * bucket may hold any number of each, so this runs in bounded transactions:
 *
 *   ('bd', bucket)  → the bucket record is gone but some of its records are not cleared yet
 *   ('bx', bucket)  → { c: the creation time of the newest incarnation of the name deleted,
 *                       d: the HLC of its deletion }: a replicated change for it (or an older
 *                       one) arriving late is dropped. Markers written before the deletion
 *                       time was kept hold the creation time alone (a number).
 *
 * A gone marker is collected under the tombstone horizon (tombstone-collect.ts) once both its
 * incarnation's creation and its deletion are older than the horizon. Why a late change for
 * that incarnation is still refused afterwards: every change names its incarnation by
 * creation time, and a region refuses a change whose incarnation it does not hold when that
 * creation time is under its horizon (replication/apply.ts bucketMatches): the bucket-created
 * change was committed no later than that time (its stamp's wall is at most createdAt,
 * objects.ts createBucket), so every region applied it; a region not holding the incarnation
 * has therefore deleted it (or replaced it by a newer one, which takes a deletion first).
 *
 * The transaction that removes the bucket record runs a first batch; only when more remain
 * does it set the marker, and later batches clear the rest, the last one clearing the marker.
 * While the marker is set no bucket of that name can be created (OperationAborted), so every
 * record under the name belongs to the deleted bucket; a drop interrupted by a crash is
 * finished by the janitor (releaseQueued). UploadPart checks the bucket record in its own
 * transaction, so no part is added to an upload of a deleted bucket meanwhile.
 */
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { kRelease } from './multipart-records.js';
import { decode, decodeVersion, encode } from './records.js';
import type { Hlc } from './types.js';
import { compareHlc } from './hlc.js';
import { keyAfter, pack, subspaceRange, unpackAfter } from './tuple.js';
import { forgetVersion } from './version-store.js';

/** upload records aborted per transaction: keys ≤ ~2 KB, well under FDB's 10 MB / 5 s */
export const ABORT_BATCH = 500;
/** versions dropped per transaction (each may read its blob's references) */
export const VERSION_BATCH = 100;
/** plain rows cleared per subspace per transaction */
export const CLEAR_BATCH = 1000;

/** the bucket's subspaces that hold nothing else to release: cleared a page at a time */
const PLAIN_SPACES = ['c', 'nv', 't', 'vr', 'oa', 'bc', 'br'];

export const kDropped = (bucket: string) => pack(['bd', bucket]);
export const kBucketGone = (bucket: string) => pack(['bx', bucket]);

/**
 * In `tx`: one bounded batch of a drop (uploads, then versions, then plain rows). Returns
 * true, with the drop marker set, when more remain; else clears the marker.
 */
export async function dropBucketBatch(tx: KvTransaction, bucket: string): Promise<boolean> {
  const more = (await abortUploads(tx, bucket)) || (await dropVersions(tx, bucket)) || (await clearPlainRows(tx, bucket));
  if (more) tx.set(kDropped(bucket), Buffer.alloc(0));
  else tx.clear(kDropped(bucket));
  return more;
}

async function abortUploads(tx: KvTransaction, bucket: string): Promise<boolean> {
  const r = subspaceRange(['u', bucket]);
  const space = pack(['u', bucket]);
  const pairs = await tx.getRange(r.begin, r.end, { limit: ABORT_BATCH + 1 });
  for (const p of pairs.slice(0, ABORT_BATCH)) {
    const uploadId = unpackAfter(space, p.key)[1] as string;
    tx.clear(p.key);
    tx.set(kRelease(uploadId), Buffer.alloc(0));
  }
  return pairs.length > ABORT_BATCH;
}

async function dropVersions(tx: KvTransaction, bucket: string): Promise<boolean> {
  const r = subspaceRange(['v', bucket]);
  const space = pack(['v', bucket]);
  const pairs = await tx.getRange(r.begin, r.end, { limit: VERSION_BATCH + 1 });
  for (const p of pairs.slice(0, VERSION_BATCH)) {
    const [key, vid] = unpackAfter(space, p.key) as [string, string];
    const { version, inline } = decodeVersion(bucket, key, p.value);
    version.versionId = vid;
    // inline bytes are cleared with a version whose body says so
    if (inline) version.body = { kind: 'inline', data: new Uint8Array(0) };
    await forgetVersion(tx, version);
  }
  return pairs.length > VERSION_BATCH;
}

async function clearPlainRows(tx: KvTransaction, bucket: string): Promise<boolean> {
  let more = false;
  for (const s of PLAIN_SPACES) {
    const r = subspaceRange([s, bucket]);
    const page = await tx.getRange(r.begin, r.end, { limit: CLEAR_BATCH });
    if (page.length === 0) continue;
    tx.clearRange(r.begin, keyAfter(page[page.length - 1]!.key));
    if (page.length === CLEAR_BATCH) more = true;
  }
  return more;
}

/** Clears the rest of a deleted bucket's records, a batch per transaction. */
export async function finishDrop(kv: KvStore, bucket: string): Promise<void> {
  while (await kv.transact((tx) => dropBucketBatch(tx, bucket)));
}

/** janitor: finishes the drops a crash interrupted; returns how many buckets it finished */
export async function finishDrops(kv: KvStore): Promise<number> {
  const r = subspaceRange(['bd']);
  const space = pack(['bd']);
  const pending = await kv.read((tx) => tx.getRange(r.begin, r.end, { limit: 16 }));
  for (const p of pending) await finishDrop(kv, unpackAfter(space, p.key)[0] as string);
  return pending.length;
}

/** a bucket of this name was deleted and its records are still being cleared */
export async function isDropping(tx: KvReader, bucket: string): Promise<boolean> {
  return (await tx.get(kDropped(bucket))) !== undefined;
}

/** a deleted bucket's marker: its newest deleted incarnation and when it was deleted */
export interface GoneMarker {
  createdAt: number;
  /** absent on markers written before deletion times were recorded */
  deletedAt?: Hlc;
}

interface StoredGone {
  c: number;
  d?: Hlc;
}

export function encodeGone(m: GoneMarker): Buffer {
  return encode(m.deletedAt ? { c: m.createdAt, d: m.deletedAt } : { c: m.createdAt });
}

/** a stored marker: `{ c, d }`, or a bare number (the creation time alone, as first stored) */
export function decodeGone(raw: Uint8Array): GoneMarker {
  const v = decode<number | StoredGone>(raw);
  if (typeof v === 'number') return { createdAt: v };
  return v.d ? { createdAt: v.c, deletedAt: { wall: v.d.wall, logical: v.d.logical } } : { createdAt: v.c };
}

/**
 * in `tx`: the incarnation created at `createdAt` (and every older one) is gone for good,
 * deleted at `deletedAt` (when known). Of two deletion times for one incarnation (the copy a
 * region applies at once and the control region's own, which may be later) the later is kept:
 * collection waits for it.
 */
export async function markBucketGone(tx: KvTransaction, bucket: string, createdAt: number, deletedAt?: Hlc): Promise<void> {
  const known = await readGone(tx, bucket);
  const later = known !== undefined && known.createdAt === createdAt && deletedAt !== undefined && (!known.deletedAt || compareHlc(deletedAt, known.deletedAt) > 0);
  if (known === undefined || known.createdAt < createdAt || later) tx.set(kBucketGone(bucket), encodeGone(deletedAt ? { createdAt, deletedAt } : { createdAt }));
}

export async function readGone(tx: KvReader, bucket: string): Promise<GoneMarker | undefined> {
  const raw = await tx.get(kBucketGone(bucket));
  return raw && decodeGone(raw);
}

/** the creation time of the newest incarnation of `bucket` known deleted */
export async function goneUpTo(tx: KvReader, bucket: string): Promise<number | undefined> {
  return (await readGone(tx, bucket))?.createdAt;
}
