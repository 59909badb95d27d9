import { Readable } from 'node:stream';
import type { ByteRange } from '../../cache/types.js';
import { s3VersionId } from '../../metadata/version-order.js';
import type { ChecksumAlgorithm } from '../../metadata/types.js';
import { requireBucketAccess } from '../access.js';
import { checkReadConditions } from '../conditions.js';
import type { OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { isoDate } from '../xml.js';
import { openBytes } from './object-bytes.js';
import { checksumElements, HashingStream, MAX_PART_BYTES, parsePartNumber, requireUpload } from './multipart-common.js';
import { headerText } from '../header-text.js';

/** x-amz-copy-source: `[/]bucket/key[?versionId=…]`, the key percent-encoded */
export function parseCopySource(value: string | undefined): { bucket: string; key: string; versionId?: string } {
  if (!value) throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  // a client may send the key's UTF-8 bytes unencoded
  let v = headerText(value).trim();
  if (v.startsWith('/')) v = v.slice(1);
  let versionId: string | undefined;
  const q = v.indexOf('?');
  if (q >= 0) {
    const params = new URLSearchParams(v.slice(q + 1));
    versionId = params.get('versionId') ?? undefined;
    if (versionId === '') throw new S3Error('InvalidArgument', 'Version id cannot be the empty string', { ArgumentName: 'versionId' });
    v = v.slice(0, q);
  }
  const slash = v.indexOf('/');
  if (slash <= 0 || slash === v.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  let key: string;
  try {
    key = decodeURIComponent(v.slice(slash + 1));
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
  return { bucket: decodeURIComponent(v.slice(0, slash)), key, ...(versionId !== undefined ? { versionId } : {}) };
}

/** x-amz-copy-source-range: exactly `bytes=first-last`, inside the source */
export function parseCopyRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d+)-(\d+)$/.exec(value.trim());
  if (!m || Number(m[1]) > Number(m[2])) {
    throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: value });
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end >= size) throw new S3Error('InvalidRange', `Range specified is not valid for source object of size: ${size}`, { ActualObjectSize: size });
  return { start, end };
}

/**
 * UploadPartCopy: the source's bytes (or a range) are streamed from wherever they live —
 * a blob, inline, or another multipart object's parts — into a new blob for this part,
 * hashed on the way; the part then commits like an uploaded one.
 */
export async function uploadPartCopy(ctx: OpContext): Promise<OpResult> {
  const partNumber = parsePartNumber(ctx.query.get('partNumber'));
  const { upload, uploadId } = await requireUpload(ctx);
  if (upload.state !== 'open') throw new S3Error('NoSuchUpload', 'The upload is being completed.');
  const src = parseCopySource(header(ctx.headers, 'x-amz-copy-source'));
  const srcBucket = await ctx.svc.layer.getBucket(src.bucket);
  requireBucketAccess(ctx.auth, srcBucket);
  const v = await ctx.svc.layer.getObject(src.bucket, src.key, src.versionId);
  try {
    checkReadConditions(ctx.headers, v.etag, v.lastModified, 'x-amz-copy-source-');
  } catch (err) {
    // for copies a failed If-None-Match / If-Modified-Since is a 412 too
    if (err instanceof S3Error && err.code === 'NotModified') throw new S3Error('PreconditionFailed');
    throw err;
  }
  const range = parseCopyRange(header(ctx.headers, 'x-amz-copy-source-range'), v.size);
  const length = range ? range.end - range.start + 1 : v.size;
  if (length > MAX_PART_BYTES) throw new S3Error('InvalidRequest', 'The specified copy source is larger than the maximum allowable size for a copy source: 5368709120');

  const algs: ChecksumAlgorithm[] = upload.checksumAlgorithm ? [upload.checksumAlgorithm] : [];
  const hasher = new HashingStream(algs);
  const bytes = await openBytes(ctx, v, range);
  const source = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
  source.on('error', (err) => hasher.destroy(err));
  hasher.on('close', () => source.destroy());
  source.pipe(hasher);
  const stored = await ctx.svc.blobs.ingest(hasher, { inlineThreshold: 0 });
  const d = hasher.result();
  const lastModified = Date.now();
  try {
    await ctx.svc.multipart.putPart(ctx.bucket, ctx.key, uploadId, {
      partNumber,
      size: stored.size,
      etag: d.md5Hex,
      checksums: d.checksums,
      lastModified,
      ...(stored.blobId ? { blobId: stored.blobId, node: ctx.svc.blobs.nodeId } : {}),
    });
  } catch (err) {
    if (stored.blobId) await ctx.svc.blobs.delete(stored.blobId).catch(() => undefined);
    throw err;
  }
  return {
    headers: srcBucket.versioning !== 'Unversioned' ? { 'x-amz-copy-source-version-id': s3VersionId(v) } : {},
    xml: {
      root: 'CopyPartResult',
      value: { ETag: `"${d.md5Hex}"`, LastModified: isoDate(lastModified), ...checksumElements(d.checksums) },
    },
  };
}
