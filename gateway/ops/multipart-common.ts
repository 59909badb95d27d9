import { Transform, type TransformCallback } from 'node:stream';
import { createHash, type Hash } from 'node:crypto';
import type { BucketRecord, ChecksumAlgorithm, ChecksumSet } from '../../metadata/types.js';
import type { UploadRecord } from '../../metadata/multipart.js';
import { MAX_PART_NUMBER } from '../../metadata/multipart.js';
import { requireBucketAccess } from '../access.js';
import { checksumHeaderName, createChecksum, type Checksum } from '../checksum/index.js';
import type { OpContext } from '../context.js';
import { S3Error } from '../errors.js';
import { checkKey } from '../validate.js';

/** S3's limits on parts */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
export const MAX_PART_BYTES = 5 * 1024 ** 3;

/** The partNumber query parameter of UploadPart(Copy): an integer 1..10000. */
export function parsePartNumber(value: string | null): number {
  const n = value !== null && /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: value ?? '',
    });
  }
  return n;
}

/** The bucket (access checked) and the open upload a request names; NoSuchUpload. */
export async function requireUpload(ctx: OpContext): Promise<{ bucket: BucketRecord; upload: UploadRecord; uploadId: string }> {
  checkKey(ctx.key);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const uploadId = ctx.query.get('uploadId') ?? '';
  const upload = await ctx.svc.multipart.getUpload(ctx.bucket, ctx.key, uploadId);
  return { bucket, upload, uploadId };
}

/** Checksum<ALG> elements of the XML results (ListParts, CopyPartResult, …). */
export function checksumElements(c: ChecksumSet, only?: ChecksumAlgorithm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [alg, v] of Object.entries(c)) if (v && (!only || alg === only)) out['Checksum' + alg] = v;
  return out;
}

/** x-amz-checksum-<alg> response headers of a part (no checksum type: that is per object) */
export function partChecksumHeaders(c: ChecksumSet, only?: ChecksumAlgorithm): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [alg, v] of Object.entries(c)) if (v && (!only || alg === only)) out[checksumHeaderName(alg as ChecksumAlgorithm)] = v;
  return out;
}

/** what the upload's record says about checksums, for XML results */
export function uploadChecksumElements(u: UploadRecord): Record<string, string> {
  const out: Record<string, string> = {};
  if (u.checksumAlgorithm) out.ChecksumAlgorithm = u.checksumAlgorithm;
  if (u.checksumType) out.ChecksumType = u.checksumType;
  return out;
}

/**
 * Passes bytes through unchanged while computing their MD5 and checksums (UploadPartCopy
 * hashes the bytes it copies; the client's body pipeline does this for UploadPart).
 */
export class HashingStream extends Transform {
  private readonly md5: Hash = createHash('md5');
  private readonly sums = new Map<ChecksumAlgorithm, Checksum>();

  constructor(algs: ChecksumAlgorithm[]) {
    super();
    for (const a of algs) this.sums.set(a, createChecksum(a));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.md5.update(chunk);
    for (const s of this.sums.values()) s.update(chunk);
    cb(null, chunk);
  }

  result(): { md5Hex: string; checksums: ChecksumSet } {
    const checksums: ChecksumSet = {};
    for (const [a, s] of this.sums) checksums[a] = s.digestBase64();
    return { md5Hex: this.md5.digest('hex'), checksums };
  }
}
