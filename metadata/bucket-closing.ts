/**
 * A bucket being deleted across the cluster. The control region asks every region to close
 * the bucket: a region that holds no object or version of it records a closing mark, in the
 * same transaction that found it empty, and from then on refuses new versions in it
 * (OperationAborted). Once every region said empty, the control region deletes the bucket
 * and its deletion reaches every region (replication's bucket-deleted), which clears the mark
 * with the bucket; if any region was not empty or could not be reached, the marks are taken
 * back (abort). So no write acknowledged anywhere is lost to a DeleteBucket:
 * it was either seen by the emptiness check or refused by the mark.
 *
 *   ('bz', bucket) → { c: the incarnation's createdAt, t: the control region's token }
 */
import { MetadataError } from './errors.js';
import type { KvReader, KvStore, KvTransaction } from './kv.js';
import { decode, decodeBucket, encode } from './records.js';
import { pack, subspaceRange } from './tuple.js';

const kClosing = (bucket: string) => pack(['bz', bucket]);

interface Mark {
  c: number;
  t: string;
}

export type CloseAnswer =
  /** empty here: closed (or the bucket has not reached this region: nothing to lose here) */
  | 'empty'
  /** holds objects or versions: nothing changed */
  | 'not-empty';

/** is the bucket's incarnation `createdAt` closing here? */
export async function isClosing(tx: KvReader, bucket: string, createdAt: number): Promise<boolean> {
  const raw = await tx.get(kClosing(bucket));
  return raw !== undefined && decode<Mark>(raw).c === createdAt;
}

/** refuses a new version in a closing bucket (called in the write's transaction) */
export async function refuseIfClosing(tx: KvReader, bucket: string, createdAt: number): Promise<void> {
  if (await isClosing(tx, bucket, createdAt)) {
    throw new MetadataError('OperationAborted', 'The bucket is being deleted; a conflicting operation is in progress. Try again.');
  }
}

/** closes the bucket if it holds nothing here; one transaction */
export async function closeIfEmpty(kv: KvStore, bucket: string, createdAt: number, token: string): Promise<CloseAnswer> {
  return kv.transact(async (tx) => {
    const raw = await tx.get(pack(['b', bucket]));
    if (raw === undefined || decodeBucket(raw).createdAt !== createdAt) return 'empty';
    for (const space of ['c', 'v']) {
      const r = subspaceRange([space, bucket]);
      if ((await tx.getRange(r.begin, r.end, { limit: 1 })).length > 0) return 'not-empty';
    }
    tx.set(kClosing(bucket), encode({ c: createdAt, t: token } satisfies Mark));
    return 'empty';
  });
}

/** takes back the mark a delete with `token` set (another delete's mark stays) */
export async function reopen(kv: KvStore, bucket: string, token: string): Promise<void> {
  await kv.transact(async (tx) => {
    const raw = await tx.get(kClosing(bucket));
    if (raw !== undefined && decode<Mark>(raw).t === token) tx.clear(kClosing(bucket));
  });
}

/** the bucket is gone: its mark goes with it */
export function clearClosing(tx: KvTransaction, bucket: string): void {
  tx.clear(kClosing(bucket));
}
