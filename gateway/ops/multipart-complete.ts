/**
 * CompleteMultipartUpload. An upload may have 10,000 parts, so nothing here touches all of
 * them in one transaction (FDB: ≤ 10 MB, ≤ 5 s):
 *
 * 1. beginCompletion: one small transaction freezes the upload under this request's token and
 *    takes a lease on it (metadata/multipart.ts): if this process dies, the upload is open
 *    again once the lease lapses instead of staying frozen.
 * 2. validation: named parts are read in batches (read-only), each after holdCompletion
 *    renewed the lease; any failure (InvalidPart, EntityTooSmall, BadDigest) unfreezes the
 *    upload and has changed nothing.
 * 3. writeIndex: batches write the ordinal part index the reader uses; each re-checks the
 *    token and renews the lease, so a concurrent completion of the same upload, or parts
 *    uploaded after a lapsed lease reopened it, cannot interleave (OperationAborted).
 * 4. markCommitting stores the version to write; putObject then commits it in ONE transaction
 *    with If-Match / If-None-Match evaluated inside it (a failed condition unfreezes).
 * 5. finishCompletion drops the upload, records it as done (a retried request is answered
 *    from that record) and queues the parts the list did not name for the janitor.
 *
 * Retry safety: every step is idempotent. A request that finds the upload 'committing' (an
 * earlier one crashed or timed out after step 4) re-commits only if the current version is
 * not already this upload's, then finishes. (Left open: if that earlier commit succeeded and
 * a newer version of the key replaced it before the retry, the retry writes the object again.)
 */
import { createHash, randomBytes } from 'node:crypto';
import { MetadataError } from '../../metadata/errors.js';
import type { CompletedRecord, PartIndexEntry, PendingObject, UploadRecord } from '../../metadata/multipart.js';
import { MAX_PART_NUMBER } from '../../metadata/multipart.js';
import type { ChecksumAlgorithm, ChecksumSet, ObjectVersion } from '../../metadata/types.js';
import { s3VersionId } from '../../metadata/version-order.js';
import { requireBucketAccess } from '../access.js';
import { CHECKSUM_ALGORITHMS, checksumHeaderName } from '../checksum/index.js';
import { bareEtag, writeConditions } from '../conditions.js';
import type { OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { readXmlBody } from '../small-body.js';
import { checkKey } from '../validate.js';
import type { XmlDoc } from '../xml-reader.js';
import { CompositeChecksum, CrcCombiner } from './multipart-checksum.js';
import { MIN_PART_BYTES } from './multipart-common.js';
import { parseTaggingHeader } from './tagging.js';
import { bucketLocations } from '../locations.js';
import { placedCompletion } from './placed-complete.js';

export interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: ChecksumSet;
}

/** parts read per validation batch / index entries written per transaction */
const READ_BATCH = 1000;
const WRITE_BATCH = 500;

/**
 * Numeric character references (`&#34;`), which the XML parser leaves as they are: Go's
 * encoder (rclone, the Go SDK) writes the quotes of every ETag that way.
 */
function decodeCharRefs(s: string): string {
  return s.replace(/&#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}));/g, (m, hex: string | undefined, dec: string | undefined) => {
    const cp = hex !== undefined ? parseInt(hex, 16) : Number(dec);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** The CompleteMultipartUpload document; InvalidPartOrder unless strictly ascending. */
export function parseCompleteXml(body: XmlDoc): RequestedPart[] {
  const doc = body['CompleteMultipartUpload'];
  if (typeof doc !== 'object' || doc === null) throw new S3Error('MalformedXML');
  const list = (doc as Record<string, unknown>)['Part'];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_PART_NUMBER) throw new S3Error('MalformedXML');
  const parts: RequestedPart[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) throw new S3Error('MalformedXML');
    const p = item as Record<string, unknown>;
    const pn = p['PartNumber'];
    const etag = p['ETag'];
    if (typeof pn !== 'string' || !/^\d{1,5}$/.test(pn) || typeof etag !== 'string') throw new S3Error('MalformedXML');
    const partNumber = Number(pn);
    if (partNumber < 1 || partNumber > MAX_PART_NUMBER) throw new S3Error('InvalidPart', undefined, { PartNumber: partNumber });
    const checksums: ChecksumSet = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = p['Checksum' + alg];
      if (typeof v === 'string' && v !== '') checksums[alg] = v;
    }
    const prev = parts[parts.length - 1];
    if (prev && partNumber <= prev.partNumber) throw new S3Error('InvalidPartOrder');
    parts.push({ partNumber, etag: bareEtag(decodeCharRefs(etag)), checksums });
  }
  return parts;
}


/** Reads the named parts in batches and checks them; computes what the version will say. */
async function validate(ctx: OpContext, up: UploadRecord, token: string, requested: RequestedPart[]): Promise<{ pending: PendingObject; index: PartIndexEntry[] }> {
  const alg = up.checksumAlgorithm;
  const composite = alg && up.checksumType !== 'FULL_OBJECT' ? new CompositeChecksum(alg) : undefined;
  const combined = alg && up.checksumType === 'FULL_OBJECT' ? new CrcCombiner(alg) : undefined;
  const md5s = createHash('md5');
  const index: PartIndexEntry[] = [];
  let offset = 0;
  for (let i = 0; i < requested.length; i += READ_BATCH) {
    const batch = requested.slice(i, i + READ_BATCH);
    // a slow validation of many parts keeps its lease (and learns early if it lost the upload)
    await ctx.svc.multipart.holdCompletion(ctx.bucket, ctx.key, up.uploadId, token);
    const found = await ctx.svc.multipart.getParts(up.uploadId, batch.map((r) => r.partNumber));
    for (const [j, r] of batch.entries()) {
      const p = found.get(r.partNumber);
      const invalid = { PartNumber: r.partNumber, ETag: r.etag };
      if (!p || p.etag !== r.etag) throw new S3Error('InvalidPart', undefined, invalid);
      for (const [a, v] of Object.entries(r.checksums)) {
        if (p.checksums[a as ChecksumAlgorithm] !== v) {
          throw new S3Error('InvalidPart', `The ${a.toLowerCase()} checksum of part ${r.partNumber} does not match the uploaded part.`, invalid);
        }
      }
      const last = i + j === requested.length - 1;
      if (!last && p.size < MIN_PART_BYTES) {
        throw new S3Error('EntityTooSmall', undefined, { ProposedSize: p.size, MinSizeAllowed: MIN_PART_BYTES, PartNumber: r.partNumber, ETag: r.etag });
      }
      if (alg) {
        const c = p.checksums[alg];
        if (!c) throw new S3Error('InvalidPart', `Part ${r.partNumber} has no ${alg.toLowerCase()} checksum.`, invalid);
        composite?.add(c);
        combined?.add(c, p.size);
      }
      md5s.update(Buffer.from(p.etag, 'hex'));
      const e: PartIndexEntry = { ordinal: i + j + 1, partNumber: r.partNumber, offset, size: p.size };
      if (p.blobId) Object.assign(e, { blobId: p.blobId, node: p.node });
      index.push(e);
      offset += p.size;
    }
  }
  const checksums: ChecksumSet = {};
  if (alg) checksums[alg] = composite ? composite.value() : combined!.digestBase64();
  // a whole-object checksum the client sent must be the one we computed
  if (alg) {
    const sent = header(ctx.headers, checksumHeaderName(alg))?.trim();
    if (sent && sent !== checksums[alg] && !(composite && `${sent}-${requested.length}` === checksums[alg])) {
      throw new S3Error('BadDigest', `The ${alg.toLowerCase()} you specified did not match the calculated checksum.`);
    }
  }
  const pending: PendingObject = { size: offset, etag: `${md5s.digest('hex')}-${requested.length}`, checksums, partCount: requested.length };
  return { pending, index };
}

function result(ctx: OpContext, done: CompletedRecord, versioned: boolean): OpResult {
  const host = header(ctx.headers, 'host') ?? 'localhost';
  const checksumXml: Record<string, string> = {};
  for (const [a, v] of Object.entries(done.checksums)) if (v) checksumXml['Checksum' + a] = v;
  if (done.checksumType && Object.keys(checksumXml).length) checksumXml.ChecksumType = done.checksumType;
  return {
    headers: versioned ? { 'x-amz-version-id': done.versionId } : {},
    xml: {
      root: 'CompleteMultipartUploadResult',
      value: {
        Location: `http://${host}/${ctx.bucket}/${ctx.key.split('/').map(encodeURIComponent).join('/')}`,
        Bucket: ctx.bucket,
        Key: ctx.key,
        ETag: `"${done.etag}"`,
        ...checksumXml,
      },
    },
  };
}

export async function completeMultipartUpload(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const versioned = bucket.versioning !== 'Unversioned';
  const uploadId = ctx.query.get('uploadId') ?? '';
  const cond = writeConditions(ctx.headers);
  const mp = ctx.svc.multipart;

  // the upload is found before its (up to 4 MB) body is read: a made-up upload id costs nothing
  let up: UploadRecord | undefined;
  let retried: CompletedRecord | undefined;
  try {
    up = await mp.getUpload(ctx.bucket, ctx.key, uploadId);
  } catch (err) {
    // a retry of a completion that already went through gets the same answer
    retried = err instanceof MetadataError && err.code === 'NoSuchUpload' ? await mp.getCompleted(uploadId) : undefined;
    if (!(retried && retried.bucket === ctx.bucket && retried.key === ctx.key)) throw err;
  }
  const requested = parseCompleteXml(await readXmlBody(ctx));
  if (retried || !up) return result(ctx, retried!, versioned);
  const tags = up.tagging !== undefined ? parseTaggingHeader(up.tagging) : undefined;
  up = await mp.beginCompletion(ctx.bucket, ctx.key, uploadId, randomBytes(12).toString('hex'));
  const token = up.token!;
  let pending: PendingObject;
  let current: ObjectVersion | undefined;
  if (up.state === 'committing') {
    pending = up.pending!;
    current = await ctx.svc.layer.getObject(ctx.bucket, ctx.key).catch(() => undefined);
    if (!(current?.body?.kind === 'parts' && current.body.uploadId === uploadId)) current = undefined;
  } else {
    let index: PartIndexEntry[];
    try {
      ({ pending, index } = await validate(ctx, up, token, requested));
    } catch (err) {
      await mp.abandonCompletion(ctx.bucket, ctx.key, uploadId, token);
      throw err;
    }
    for (let i = 0; i < index.length; i += WRITE_BATCH) {
      await mp.writeIndex(ctx.bucket, ctx.key, uploadId, token, index.slice(i, i + WRITE_BATCH));
    }
    await mp.markCommitting(ctx.bucket, ctx.key, uploadId, token, pending);
  }

  let version = current;
  // a bucket with a regions list: the parts' bytes are placed there as one object, the parts released
  const where = !version && ctx.svc.placement ? await bucketLocations(ctx.svc, ctx.bucket) : undefined;
  if (where?.type === 'regions') {
    try {
      version = await placedCompletion(ctx, ctx.svc.placement!, bucket, where.regions, up, pending, tags, cond);
    } catch (err) {
      if (err instanceof MetadataError || err instanceof S3Error) await mp.abandonCompletion(ctx.bucket, ctx.key, uploadId, token).catch(() => undefined);
      throw err;
    }
  }
  if (!version) {
    try {
      version = await ctx.svc.layer.putObject(
        {
          bucket: ctx.bucket,
          key: ctx.key,
          size: pending.size,
          etag: pending.etag,
          owner: up.owner,
          headers: up.headers,
          userMetadata: up.userMetadata,
          checksums: pending.checksums,
          body: { kind: 'parts', uploadId, partCount: pending.partCount },
          ...(tags ? { tags } : {}),
        },
        cond,
      );
    } catch (err) {
      // the version was not written (a condition, or the bucket is gone): parts stay usable
      if (err instanceof MetadataError) await mp.abandonCompletion(ctx.bucket, ctx.key, uploadId, token);
      throw err;
    }
  }
  const done: CompletedRecord = {
    bucket: ctx.bucket,
    key: ctx.key,
    etag: version.etag,
    versionId: s3VersionId(version),
    checksums: version.checksums,
    ...(up.checksumType ? { checksumType: up.checksumType } : {}),
  };
  await mp.finishCompletion(ctx.bucket, ctx.key, uploadId, done);
  if (where?.type === 'regions') {
    // the parts' files go now (a janitor pass), not at the next timed pass: the bytes rest in the listed regions only
    await mp.releaseUpload(uploadId);
    await ctx.svc.upkeep?.().catch(() => undefined);
  }
  return result(ctx, done, versioned);
}
