/**
 * CompleteMultipartUpload into a bucket whose locations are a regions list: the parts, kept
 * in the upload's region while it was open, are read in order and placed as one object's
 * bytes (gateway/ops/placed-put.ts), so the completed object is durable in every listed
 * region before the answer. The parts are then released (the janitor deletes their files),
 * so an unlisted upload region keeps nothing after the write.
 */
import { Readable } from 'node:stream';
import type { PendingObject, UploadRecord } from '../../metadata/multipart.js';
import type { BucketRecord, ObjectVersion, WriteConditions } from '../../metadata/types.js';
import type { OpContext, Placement } from '../context.js';
import { openBytes } from './object-bytes.js';
import { placedPut } from './placed-put.js';

export async function placedCompletion(
  ctx: OpContext,
  placement: Placement,
  bucket: BucketRecord,
  regions: string[],
  up: UploadRecord,
  pending: PendingObject,
  tags: Record<string, string> | undefined,
  cond: WriteConditions,
): Promise<ObjectVersion> {
  // the completed object as its part index reads it (written by the steps before this one)
  const assembled = {
    bucket: ctx.bucket,
    key: ctx.key,
    size: pending.size,
    body: { kind: 'parts', uploadId: up.uploadId, partCount: pending.partCount },
  } as ObjectVersion;
  const bytes = await openBytes(ctx, assembled);
  const stream = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
  // the parts were verified as they came: the ETag and checksums are the upload's
  const digest = () => ({ size: pending.size, md5Hex: pending.etag, checksums: pending.checksums });
  const object = { bucket: ctx.bucket, key: ctx.key, owner: up.owner, headers: up.headers, userMetadata: up.userMetadata, ...(tags ? { tags } : {}) };
  return (await placedPut(ctx, placement, bucket, regions, { object, cond, body: { stream, digest } })) as ObjectVersion;
}
