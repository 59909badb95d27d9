/**
 * Deleting a bucket aborts its multipart uploads in progress, as S3 does; their parts join the
 * release queue ('mr') the janitor frees. A bucket may hold any number of uploads, so this runs
 * in bounded transactions:
 *
 *   ('bd', bucket)  → the bucket record is gone but some of its uploads are not aborted yet
 *
 * The transaction that removes the bucket record aborts a first batch; only when more remain
 * does it set the marker, and later batches abort the rest, the last one clearing the marker.
 * While the marker is set no bucket of that name can be created (OperationAborted), so every
 * upload record under the name belongs to the deleted bucket; one interrupted by a crash is
 * finished by the janitor (releaseQueued). UploadPart checks the bucket record in its own
 * transaction, so no part is added to an upload of a deleted bucket meanwhile.
 */
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { kRelease } from './multipart-records.js';
import { pack, subspaceRange, unpackAfter } from './tuple.js';

/** upload records aborted per transaction: keys ≤ ~2 KB, well under FDB's 10 MB / 5 s */
export const ABORT_BATCH = 500;

export const kDropped = (bucket: string) => pack(['bd', bucket]);

/**
 * In `tx`: aborts up to ABORT_BATCH uploads of `bucket` (record cleared, parts queued for
 * release). Returns true, with the drop marker set, when more remain; else clears the marker.
 */
export async function abortBucketUploads(tx: KvTransaction, bucket: string): Promise<boolean> {
  const r = subspaceRange(['u', bucket]);
  const space = pack(['u', bucket]);
  const pairs = await tx.getRange(r.begin, r.end, { limit: ABORT_BATCH + 1 });
  for (const p of pairs.slice(0, ABORT_BATCH)) {
    const uploadId = unpackAfter(space, p.key)[1] as string;
    tx.clear(p.key);
    tx.set(kRelease(uploadId), Buffer.alloc(0));
  }
  const more = pairs.length > ABORT_BATCH;
  if (more) tx.set(kDropped(bucket), Buffer.alloc(0));
  else tx.clear(kDropped(bucket));
  return more;
}

/** Aborts the remaining uploads of a deleted bucket, a batch per transaction. */
export async function finishDrop(kv: KvStore, bucket: string): Promise<void> {
  while (await kv.transact((tx) => abortBucketUploads(tx, bucket)));
}

/** janitor: finishes the drops a crash interrupted; returns how many buckets it finished */
export async function finishDrops(kv: KvStore): Promise<number> {
  const r = subspaceRange(['bd']);
  const space = pack(['bd']);
  const pending = await kv.read((tx) => tx.getRange(r.begin, r.end, { limit: 16 }));
  for (const p of pending) await finishDrop(kv, unpackAfter(space, p.key)[0] as string);
  return pending.length;
}

/** a bucket of this name was deleted and its uploads are still being aborted */
export async function isDropping(tx: KvReader, bucket: string): Promise<boolean> {
  return (await tx.get(kDropped(bucket))) !== undefined;
}
