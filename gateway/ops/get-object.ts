import type { OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { checkReadConditions } from '../conditions.js';
import { S3Error } from '../errors.js';
import { parseRange } from '../range.js';
import { checkKey, refuseSseC } from '../validate.js';
import { checksumHeaders, objectResponseHeaders, RESPONSE_OVERRIDES } from './object-headers.js';
import { openBytes } from './object-bytes.js';
import { onCurrentVersion } from './current-version.js';
import { selectPart } from './multipart-read.js';
import { versionIdParam } from './version-param.js';
import { s3VersionId } from '../../metadata/version-order.js';
import type { BucketRecord } from '../../metadata/types.js';
import { textAsHeader } from '../header-text.js';

/** GetObject and HeadObject: conditionals, ranges, response-* overrides, checksum mode. */
export async function getObject(ctx: OpContext, head = false): Promise<OpResult> {
  checkKey(ctx.key);
  // a read with a customer key must not hand out the bytes as if it had been understood
  refuseSseC(ctx.headers);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const versionId = versionIdParam(ctx.query);
  // the current version's bytes may have just gone from the region holding them: read the next current one
  return versionId === undefined ? onCurrentVersion(ctx.svc.layer, ctx.bucket, ctx.key, () => getVersion(ctx, bucket, head)) : getVersion(ctx, bucket, head, versionId);
}

async function getVersion(ctx: OpContext, bucket: BucketRecord, head: boolean, versionId?: string): Promise<OpResult> {
  const v = await ctx.svc.layer.getObject(ctx.bucket, ctx.key, versionId);

  const headers = objectResponseHeaders(v);
  if (bucket.versioning !== 'Unversioned') headers['x-amz-version-id'] = s3VersionId(v);
  // in a cluster: PENDING / COMPLETED where it was written, REPLICA where it was received
  if (ctx.svc.replicationStatus) headers['x-amz-replication-status'] = await ctx.svc.replicationStatus(v);
  const tagCount = Object.keys(v.tags ?? {}).length;
  if (tagCount) headers['x-amz-tagging-count'] = tagCount;
  try {
    checkReadConditions(ctx.headers, v.etag, v.lastModified);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NotModified') {
      return { status: 304, headers: { etag: headers.etag, 'last-modified': headers['last-modified'] } };
    }
    throw err;
  }
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = ctx.query.get(param);
    if (value !== null) {
      if (!ctx.auth.accessKeyId) throw new S3Error('InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
      // a value no HTTP header can carry (CR/LF, controls) is the client's error, not ours
      if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) throw new S3Error('InvalidArgument', `Invalid value for ${param}`, { ArgumentName: param });
      // sent as UTF-8, as the client wrote it (gateway/header-text.ts)
      headers[name] = textAsHeader(value);
    }
  }

  // ?partNumber=N reads one part of a multipart object (gateway/ops/multipart-read.ts)
  const part = await selectPart(ctx.svc, v, ctx.query.get('partNumber'), header(ctx.headers, 'range'));
  if (part?.partsCount !== undefined) headers['x-amz-mp-parts-count'] = part.partsCount;
  const range = part ? part.range : parseRange(header(ctx.headers, 'range'), v.size);
  if (!range && header(ctx.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    Object.assign(headers, checksumHeaders(v.checksums));
  }
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${v.size}`;
    headers['content-length'] = range.end - range.start + 1;
  } else {
    headers['content-length'] = v.size;
  }
  if (head) return { status: range ? 206 : 200, headers };
  return { status: range ? 206 : 200, headers, body: await openBytes(ctx, v, range) };
}
