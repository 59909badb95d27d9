import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { requireBucketAccess, writerOf } from '../access.js';
import { createChecksum, createMd5, parseChecksumAlgorithm, type Checksum } from '../checksum/index.js';
import { checkReadConditions, writeConditions } from '../conditions.js';
import { S3Error } from '../errors.js';
import { checkKey, MAX_SINGLE_PUT_BYTES, objectHeaders, userMetadata } from '../validate.js';
import { isoDate } from '../xml.js';
import type { ChecksumAlgorithm, ChecksumSet, ObjectVersion, WriteConditions } from '../../metadata/types.js';
import { s3VersionId } from '../../metadata/version-order.js';
import { openBytes } from './object-bytes.js';
import { onCurrentVersion, VersionGone } from './current-version.js';
import { MetadataError } from '../../metadata/errors.js';
import { parseTaggingHeader } from './tagging.js';
import { checkVersionId } from './version-param.js';
import { headerText } from '../header-text.js';
import { bucketLocations } from '../locations.js';
import { placedCopy } from './placed-copy.js';

/**
 * CopyObject. A source stored inline or as a blob is copied in one metadata transaction: the
 * new version refers to the same blob (one more reference row) or gets a copy of the inline
 * bytes. A source whose bytes are multipart parts or held by another region (or a copy that
 * asks for a checksum the source lacks) is streamed into a new blob, hashed on the way, never
 * held in memory.
 */

export interface CopySource {
  bucket: string;
  key: string;
  versionId?: string;
}

/** x-amz-copy-source: [/]bucket/key[?versionId=id], the bucket and key url-encoded */
export function parseCopySource(header: string): CopySource {
  // a client may send the key's UTF-8 bytes unencoded
  const raw = headerText(header);
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  let versionId: string | undefined;
  if (q >= 0) {
    const params = new URLSearchParams(raw.slice(q + 1));
    const v = params.get('versionId');
    if (v !== null) versionId = checkVersionId(v, 'x-amz-copy-source');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding', { ArgumentName: 'x-amz-copy-source' });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  if (decoded.startsWith('arn:')) throw new S3Error('NotImplemented', 'Access point copy sources are not supported.');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
  }
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), ...(versionId ? { versionId } : {}) };
}

function directive(ctx: OpContext, name: string): 'COPY' | 'REPLACE' {
  const v = (header(ctx.headers, name) ?? 'COPY').toUpperCase();
  if (v !== 'COPY' && v !== 'REPLACE') throw new S3Error('InvalidArgument', `Unknown ${name}`, { ArgumentName: name, ArgumentValue: v });
  return v;
}

/** copy-source conditionals: like GET's, but every failure is 412 */
function checkSourceConditions(ctx: OpContext, src: ObjectVersion): void {
  try {
    checkReadConditions(ctx.headers, src.etag, src.lastModified, 'x-amz-copy-source-');
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NotModified') throw new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If-None-Match' });
    throw err;
  }
}


/** passes bytes through, hashing them (MD5 for the ETag and the given checksums) */
class Hasher extends Transform {
  readonly md5 = createMd5();
  readonly sums: [ChecksumAlgorithm, Checksum][];
  size = 0;
  constructor(algs: ChecksumAlgorithm[]) {
    super();
    this.sums = algs.map((a) => [a, createChecksum(a)]);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    for (const [, s] of this.sums) s.update(chunk);
    cb(null, chunk);
  }
  checksums(): ChecksumSet {
    return Object.fromEntries(this.sums.map(([a, s]) => [a, s.digestBase64()]));
  }
}

async function copyObject(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const src = parseCopySource(header(ctx.headers, 'x-amz-copy-source') ?? '');
  checkKey(src.key);
  const metaDirective = directive(ctx, 'x-amz-metadata-directive');
  const tagDirective = directive(ctx, 'x-amz-tagging-directive');
  if (header(ctx.headers, 'x-amz-server-side-encryption-customer-algorithm') || header(ctx.headers, 'x-amz-copy-source-server-side-encryption-customer-algorithm')) {
    throw new S3Error('NotImplemented', 'Server-side encryption with customer keys is not supported.');
  }
  const algHeader = header(ctx.headers, 'x-amz-checksum-algorithm');
  const wantAlg = algHeader ? parseChecksumAlgorithm(algHeader) : undefined;
  if (algHeader && !wantAlg) throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');
  const cond = writeConditions(ctx.headers);
  const replaced = metaDirective === 'REPLACE' ? { headers: objectHeaders(ctx.headers), userMetadata: userMetadata(ctx.headers) } : undefined;
  const tagging = header(ctx.headers, 'x-amz-tagging');
  const newTags = tagDirective === 'REPLACE' ? parseTaggingHeader(tagging ?? '') : undefined;
  const sameObject = src.bucket === ctx.bucket && src.key === ctx.key && src.versionId === undefined;
  if (sameObject && !replaced && !header(ctx.headers, 'x-amz-storage-class') && !wantAlg) {
    throw new S3Error('InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }

  const dstBucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, dstBucket);
  const srcBucket = src.bucket === ctx.bucket ? dstBucket : await ctx.svc.layer.getBucket(src.bucket);
  requireBucketAccess(ctx.auth, srcBucket);

  const derive = (s: ObjectVersion) => {
    checkSourceConditions(ctx, s);
    const tags = newTags ?? s.tags;
    return { ...(replaced ?? { headers: s.headers, userMetadata: s.userMetadata }), ...(tags ? { tags } : {}) };
  };
  const copy = async () => {
    const probe = await ctx.svc.layer.getObject(src.bucket, src.key, src.versionId);
    if (probe.size > MAX_SINGLE_PUT_BYTES) {
      throw new S3Error('InvalidRequest', `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_SINGLE_PUT_BYTES}`);
    }
    // into a bucket with a regions list: placed there like a PUT's body
    const where = ctx.svc.placement && (await bucketLocations(ctx.svc, ctx.bucket));
    if (ctx.svc.placement && where?.type === 'regions') {
      return placedCopy(ctx, ctx.svc.placement, dstBucket, where.regions, probe, derive(probe), cond, wantAlg, writerOf(ctx.auth, dstBucket));
    }
    const streamed = probe.body?.kind === 'parts' || probe.body?.kind === 'remote' || (wantAlg !== undefined && !probe.checksums[wantAlg]);
    if (streamed) return copyBytes(ctx, probe, derive, cond, wantAlg, writerOf(ctx.auth, dstBucket));
    // the very version probed (a replicated write may make another one current meanwhile, whose bytes are elsewhere)
    const pinned = { ...src, versionId: probe.versionId };
    return ctx.svc.layer.copyObject({ source: pinned, bucket: ctx.bucket, key: ctx.key, owner: writerOf(ctx.auth, dstBucket), derive }, cond).catch((err: unknown) => {
      if (src.versionId === undefined && err instanceof MetadataError && err.code === 'NoSuchVersion') throw new VersionGone(probe.versionId, 'The copy source was replaced while it was copied.');
      throw err;
    });
  };
  const { source, version } = src.versionId === undefined ? await onCurrentVersion(ctx.svc.layer, src.bucket, src.key, copy) : await copy();

  const result: Record<string, unknown> = { ETag: `"${version.etag}"`, LastModified: isoDate(version.lastModified) };
  for (const [alg, value] of Object.entries(version.checksums)) result['Checksum' + alg] = value;
  if (Object.keys(version.checksums).length) result['ChecksumType'] = 'FULL_OBJECT';
  return {
    headers: {
      ...(dstBucket.versioning !== 'Unversioned' ? { 'x-amz-version-id': s3VersionId(version) } : {}),
      ...(srcBucket.versioning !== 'Unversioned' ? { 'x-amz-copy-source-version-id': s3VersionId(source) } : {}),
    },
    xml: { root: 'CopyObjectResult', value: result },
  };
}

/** the bytes of `source` into a new blob (hashed on the way), then one metadata commit */
async function copyBytes(
  ctx: OpContext,
  source: ObjectVersion,
  derive: (s: ObjectVersion) => { headers: ObjectVersion['headers']; userMetadata: Record<string, string>; tags?: Record<string, string> },
  cond: WriteConditions,
  wantAlg: ChecksumAlgorithm | undefined,
  owner: string,
) {
  const meta = derive(source);
  const algs = Object.keys(source.checksums) as ChecksumAlgorithm[];
  if (wantAlg && !algs.includes(wantAlg)) algs.push(wantAlg);
  const hasher = new Hasher(algs);
  const bytes = await openBytes(ctx, source);
  const input: Readable = Buffer.isBuffer(bytes) ? Readable.from([bytes]) : bytes;
  input.on('error', (err) => hasher.destroy(err));
  const stored = await ctx.svc.blobs.ingest(input.pipe(hasher), { maxSize: MAX_SINGLE_PUT_BYTES });
  if (hasher.size !== source.size) {
    if (stored.blobId) await ctx.svc.blobs.delete(stored.blobId).catch(() => undefined);
    throw new S3Error('InternalError', 'The copy source changed size while it was read.');
  }
  try {
    const version = await ctx.svc.layer.putObject(
      {
        bucket: ctx.bucket,
        key: ctx.key,
        size: hasher.size,
        etag: hasher.md5.digest().toString('hex'),
        owner,
        headers: meta.headers,
        userMetadata: meta.userMetadata,
        checksums: hasher.checksums(),
        body: stored.inline ? { kind: 'inline', data: stored.inline } : { kind: 'blob', blobId: stored.blobId!, node: ctx.svc.blobs.nodeId },
        ...(meta.tags ? { tags: meta.tags } : {}),
      },
      cond,
    );
    return { source, version };
  } catch (err) {
    if (stored.blobId) await ctx.svc.blobs.delete(stored.blobId).catch(() => undefined);
    throw err;
  }
}

export const copyHandlers: HandlerTable = { CopyObject: copyObject };
