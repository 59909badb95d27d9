import type { OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { checkKey } from '../validate.js';

export async function deleteObject(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const versionId = ctx.query.get('versionId') ?? undefined;
  const r = await ctx.svc.layer.deleteObject(ctx.bucket, ctx.key, versionId === 'null' && bucket.versioning === 'Unversioned' ? undefined : versionId);
  const headers: Record<string, string> = {};
  if (bucket.versioning !== 'Unversioned') {
    if (r.versionId) headers['x-amz-version-id'] = r.versionId;
    if (r.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  }
  return { status: 204, headers };
}
