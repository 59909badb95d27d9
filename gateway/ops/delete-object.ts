import type { OpContext, OpResult } from '../context.js';
import { mayDeleteVersions, requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { checkKey } from '../validate.js';
import { versionIdParam } from './version-param.js';

/** DeleteObject: a delete marker on versioned buckets, or one version for good (versionId). */
export async function deleteObject(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const versionId = versionIdParam(ctx.query);
  if (versionId !== undefined && !mayDeleteVersions(ctx.auth, bucket)) throw new S3Error('AccessDenied');
  const r = await ctx.svc.layer.deleteObject(ctx.bucket, ctx.key, versionId);
  const headers: Record<string, string> = {};
  if (bucket.versioning !== 'Unversioned') {
    if (r.versionId) headers['x-amz-version-id'] = r.versionId;
    if (r.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  }
  return { status: 204, headers };
}
