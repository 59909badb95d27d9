/**
 * Bucket settings as last-writer-wins registers: the bucket record's versioning state and each
 * configuration kind of bucket-config.ts. A write made here and one arriving from another
 * region go through the same step, so every region keeps the setting with the newest stamp
 * (its stamp row, metadata/registers.ts, outlives a removal so a late older write stays lost).
 *
 *   ('bc', bucket, kind)  → { c: bucket createdAt, v: document }
 */
import type { Change } from './changes.js';
import { VERSIONING_REGISTER } from './changes.js';
import type { KvTransaction } from './kv.js';
import { decodeBucket, encode, encodeBucket } from './records.js';
import { claimStamp, kBucketStamp } from './registers.js';
import { pack } from './tuple.js';
import type { BucketVersioning } from './types.js';
import { kBucket } from './version-store.js';

export const kConfig = (bucket: string, kind: string) => pack(['bc', bucket, kind]);

export type BucketRegisterChange = Extract<Change, { kind: 'bucket-register' }>;

/** in `tx`, for the bucket incarnation the caller checked: the value is kept if its stamp is the newest seen */
export async function applyBucketRegister(tx: KvTransaction, c: BucketRegisterChange): Promise<void> {
  if (!(await claimStamp(tx, kBucketStamp(c.bucket, c.name), c.stamp))) return;
  if (c.name === VERSIONING_REGISTER) {
    const raw = await tx.get(kBucket(c.bucket));
    if (raw) tx.set(kBucket(c.bucket), encodeBucket({ ...decodeBucket(raw), versioning: c.value as BucketVersioning }));
  } else if (c.value === null || c.value === undefined) tx.clear(kConfig(c.bucket, c.name));
  else tx.set(kConfig(c.bucket, c.name), encode({ c: c.bucketCreatedAt, v: c.value }));
}
