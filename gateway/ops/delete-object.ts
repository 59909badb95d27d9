import type { OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { checkKey } from '../validate.js';
import { versionIdParam } from './version-param.js';

/** DeleteObject: a delete marker on versioned buckets, or one version for good (versionId). */
export async function deleteObject(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const r = await ctx.svc.layer.deleteObject(ctx.bucket, ctx.key, versionIdParam(ctx.query));
  const headers: Record<string, string> = {};
  if (bucket.versioning !== 'Unversioned') {
    if (r.versionId) headers['x-amz-version-id'] = r.versionId;
    if (r.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  }
  return { status: 204, headers };
}
