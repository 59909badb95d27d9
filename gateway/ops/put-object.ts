import type { OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { requireBucketAccess, writerOf } from '../access.js';
import { openBody } from '../body.js';
import { S3Error } from '../errors.js';
import { checkKey, checkNewObjectOptions, MAX_SINGLE_PUT_BYTES, objectHeaders, userMetadata } from '../validate.js';
import { writeConditions } from '../conditions.js';
import { checksumHeaders } from './object-headers.js';
import { parseTaggingHeader } from './tagging.js';
import { s3VersionId } from '../../metadata/version-order.js';
import type { BodyLocation } from '../../metadata/types.js';
import { bucketLocations, requestedLocations } from '../locations.js';
import { placedPut } from './placed-put.js';


/**
 * PutObject: verify everything that can be checked from the headers, stream the body to
 * the volume (verified on the way), then commit the version with its conditions in one
 * metadata transaction. A failed commit removes the blob it would have pointed to.
 */
export async function putObject(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const meta = userMetadata(ctx.headers);
  checkNewObjectOptions(ctx.headers);
  const declared = Number(header(ctx.headers, 'x-amz-decoded-content-length') ?? header(ctx.headers, 'content-length') ?? 0);
  if (declared > MAX_SINGLE_PUT_BYTES) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: declared, MaxSizeAllowed: MAX_SINGLE_PUT_BYTES });
  const cond = writeConditions(ctx.headers);

  const tagging = header(ctx.headers, 'x-amz-tagging');
  const tags = tagging === undefined ? undefined : parseTaggingHeader(tagging);

  // X-Tigris-Regions on a PUT: this write is placed as if the bucket listed those regions
  const asked = requestedLocations(ctx.svc, ctx.headers);

  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);

  const placement = ctx.svc.placement;
  const where = placement && (asked ?? (await bucketLocations(ctx.svc, ctx.bucket)));
  if (placement && where?.type === 'regions') {
    const body = openBody(ctx.auth, ctx.req, ctx.headers, { maxSize: MAX_SINGLE_PUT_BYTES });
    const object = { bucket: ctx.bucket, key: ctx.key, owner: writerOf(ctx.auth, bucket), headers: objectHeaders(ctx.headers), userMetadata: meta, ...(tags ? { tags } : {}) };
    const v = await placedPut(ctx, placement, bucket, where.regions, { object, cond, body });
    return {
      headers: {
        etag: `"${v.etag}"`,
        ...checksumHeaders(v.checksums),
        ...(bucket.versioning === 'Unversioned' ? {} : { 'x-amz-version-id': s3VersionId(v) }),
      },
    };
  }

  const { stream, digest } = openBody(ctx.auth, ctx.req, ctx.headers, { maxSize: MAX_SINGLE_PUT_BYTES });
  const stored = await ctx.svc.blobs.ingest(stream, { maxSize: MAX_SINGLE_PUT_BYTES });
  const d = digest();
  const body: BodyLocation = stored.inline
    ? { kind: 'inline', data: stored.inline }
    : { kind: 'blob', blobId: stored.blobId!, node: ctx.svc.blobs.nodeId };
  let version;
  try {
    version = await ctx.svc.layer.putObject(
      {
        bucket: ctx.bucket,
        key: ctx.key,
        size: d.size,
        etag: d.md5Hex,
        owner: writerOf(ctx.auth, bucket),
        headers: objectHeaders(ctx.headers),
        userMetadata: meta,
        checksums: d.checksums,
        body,
        ...(tags ? { tags } : {}),
      },
      cond,
    );
  } catch (err) {
    if (stored.blobId) await ctx.svc.blobs.delete(stored.blobId).catch(() => undefined);
    throw err;
  }
  return {
    headers: {
      etag: `"${version.etag}"`,
      ...checksumHeaders(version.checksums),
      ...(bucket.versioning === 'Unversioned' ? {} : { 'x-amz-version-id': s3VersionId(version) }),
    },
  };
}
