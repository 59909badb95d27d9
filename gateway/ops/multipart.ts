import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { requireBucketAccess, writerOf } from '../access.js';
import { openBody } from '../body.js';
import { parseChecksumAlgorithm } from '../checksum/index.js';
import { S3Error } from '../errors.js';
import { checkKey, checkNewObjectOptions, objectHeaders, userMetadata } from '../validate.js';
import type { ChecksumAlgorithm } from '../../metadata/types.js';
import type { NewUpload } from '../../metadata/multipart.js';
import { completeMultipartUpload } from './multipart-complete.js';
import { uploadPartCopy } from './multipart-copy.js';
import { listMultipartUploads, listParts } from './multipart-list.js';
import { isCrc } from './multipart-checksum.js';
import { MAX_PART_BYTES, parsePartNumber, partChecksumHeaders, requireUpload } from './multipart-common.js';
import { parseTaggingHeader } from './tagging.js';

/**
 * Multipart uploads: create, upload a part, abort here; copy, complete and the listings in
 * their own files. Parts are stored as blobs (never inline: the part index of a completed
 * object only knows blobs) with one metadata record each.
 */


/** x-amz-checksum-algorithm / x-amz-checksum-type, with S3's defaults and refusals */
function checksumSettings(ctx: OpContext): Pick<NewUpload, 'checksumAlgorithm' | 'checksumType'> {
  const algName = header(ctx.headers, 'x-amz-checksum-algorithm');
  const typeName = header(ctx.headers, 'x-amz-checksum-type')?.trim().toUpperCase();
  const alg = algName ? parseChecksumAlgorithm(algName) : undefined;
  if (algName && !alg) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');
  if (typeName !== undefined && typeName !== 'COMPOSITE' && typeName !== 'FULL_OBJECT') {
    throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  }
  if (!alg) {
    if (typeName) throw new S3Error('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return {};
  }
  const type = (typeName ?? (alg === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')) as 'COMPOSITE' | 'FULL_OBJECT';
  if (type === 'FULL_OBJECT' && !isCrc(alg)) {
    throw new S3Error('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${alg.toLowerCase()} checksum algorithm.`);
  }
  if (type === 'COMPOSITE' && alg === 'CRC64NVME') {
    throw new S3Error('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  }
  return { checksumAlgorithm: alg, checksumType: type };
}

async function createMultipartUpload(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const meta = userMetadata(ctx.headers);
  checkNewObjectOptions(ctx.headers);
  const storageClass = header(ctx.headers, 'x-amz-storage-class');
  const tagging = header(ctx.headers, 'x-amz-tagging');
  if (tagging !== undefined) parseTaggingHeader(tagging); // refuse bad tags now, not at completion
  const checksums = checksumSettings(ctx);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const up = await ctx.svc.multipart.createUpload({
    bucket: ctx.bucket,
    key: ctx.key,
    owner: writerOf(ctx.auth, bucket),
    headers: objectHeaders(ctx.headers),
    userMetadata: meta,
    ...checksums,
    ...(tagging !== undefined ? { tagging } : {}),
    ...(storageClass ? { storageClass } : {}),
  });
  return {
    headers: {
      'x-amz-checksum-algorithm': up.checksumAlgorithm,
      'x-amz-checksum-type': up.checksumType,
    },
    xml: { root: 'InitiateMultipartUploadResult', value: { Bucket: ctx.bucket, Key: ctx.key, UploadId: up.uploadId } },
  };
}

/** Streams the part into a blob, verified on the way, then records it (replacing any). */
async function uploadPart(ctx: OpContext): Promise<OpResult> {
  const partNumber = parsePartNumber(ctx.query.get('partNumber'));
  const { upload, uploadId } = await requireUpload(ctx);
  // a completion whose lease lapsed (its gateway died) shows as open; putPart reopens it
  if (upload.state !== 'open') throw new S3Error('NoSuchUpload', 'The upload is being completed.');
  const declared = Number(header(ctx.headers, 'x-amz-decoded-content-length') ?? header(ctx.headers, 'content-length') ?? 0);
  if (declared > MAX_PART_BYTES) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: declared, MaxSizeAllowed: MAX_PART_BYTES });
  // the upload's algorithm is computed even when the client sends none: completion needs it
  const extra: ChecksumAlgorithm[] = upload.checksumAlgorithm ? [upload.checksumAlgorithm] : [];
  const { stream, digest } = openBody(ctx.auth, ctx.req, ctx.headers, { maxSize: MAX_PART_BYTES, extraChecksums: extra });
  const stored = await ctx.svc.blobs.ingest(stream, { maxSize: MAX_PART_BYTES, inlineThreshold: 0 });
  const d = digest();
  try {
    await ctx.svc.multipart.putPart(ctx.bucket, ctx.key, uploadId, {
      partNumber,
      size: d.size,
      etag: d.md5Hex,
      checksums: d.checksums,
      lastModified: Date.now(),
      ...(stored.blobId ? { blobId: stored.blobId, node: ctx.svc.blobs.nodeId } : {}),
    });
  } catch (err) {
    if (stored.blobId) await ctx.svc.blobs.delete(stored.blobId).catch(() => undefined);
    throw err;
  }
  return { headers: { etag: `"${d.md5Hex}"`, ...partChecksumHeaders(d.checksums) } };
}

async function abortMultipartUpload(ctx: OpContext): Promise<OpResult> {
  const { uploadId } = await requireUpload(ctx);
  await ctx.svc.multipart.abortUpload(ctx.bucket, ctx.key, uploadId);
  return { status: 204 };
}

export const multipartHandlers: HandlerTable = {
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  ListMultipartUploads: listMultipartUploads,
};
