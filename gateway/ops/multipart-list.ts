import type { OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { isoDate } from '../xml.js';
import { ownerNames, ownersOf } from '../acl/owners.js';
import { RegionUnreachable } from '../../replication/cluster-call.js';
import { checksumElements, requireUpload, uploadChecksumElements } from './multipart-common.js';

/** ListParts and ListMultipartUploads, each one bounded metadata read per page. */

const MAX_PAGE = 1000;

/** a non-negative integer query parameter (InvalidArgument otherwise) */
function intParam(ctx: OpContext, name: string, dflt: number): number {
  const v = ctx.query.get(name);
  if (v === null || v === '') return dflt;
  if (!/^\d{1,10}$/.test(v)) throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { ArgumentName: name, ArgumentValue: v });
  return Number(v);
}

export async function listParts(ctx: OpContext): Promise<OpResult> {
  const { upload, uploadId } = await requireUpload(ctx);
  const maxParts = Math.min(intParam(ctx, 'max-parts', MAX_PAGE), MAX_PAGE);
  const marker = intParam(ctx, 'part-number-marker', 0);
  const parts = maxParts > 0 ? await ctx.svc.multipart.listParts(uploadId, marker, maxParts + 1) : [];
  const truncated = parts.length > maxParts;
  const owner = await ownerNames(ctx.svc)(upload.owner);
  const page = parts.slice(0, maxParts);
  const value: Record<string, unknown> = {
    Bucket: ctx.bucket,
    Key: ctx.key,
    UploadId: uploadId,
    Initiator: owner,
    Owner: owner,
    StorageClass: upload.storageClass ?? 'STANDARD',
    PartNumberMarker: marker,
    ...(page.length ? { NextPartNumberMarker: page[page.length - 1]!.partNumber } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    ...uploadChecksumElements(upload),
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: isoDate(p.lastModified),
      ETag: `"${p.etag}"`,
      Size: p.size,
      ...checksumElements(p.checksums, upload.checksumAlgorithm),
    })),
  };
  return { xml: { root: 'ListPartsResult', value } };
}

export async function listMultipartUploads(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const maxUploads = Math.min(intParam(ctx, 'max-uploads', MAX_PAGE), MAX_PAGE);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const keyMarker = ctx.query.get('key-marker') ?? '';
  // an upload-id-marker means nothing without a key-marker (S3 ignores it)
  const uploadIdMarker = keyMarker ? (ctx.query.get('upload-id-marker') ?? '') : '';
  const encode = ctx.query.get('encoding-type') === 'url';
  if (ctx.query.has('encoding-type') && !encode) throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type' });
  const enc = (s: string) => (encode ? encodeURIComponent(s) : s);
  const input = {
    bucket: ctx.bucket,
    prefix,
    delimiter,
    maxUploads,
    ...(keyMarker ? { keyMarker } : {}),
    ...(uploadIdMarker ? { uploadIdMarker } : {}),
  };
  // in a cluster: every region's uploads (each upload's records stay in the region that created it)
  const page = ctx.svc.clusterUploads ? await clusterPage(ctx.svc.clusterUploads, input) : await ctx.svc.multipart.listUploads(input);
  const owners = await ownersOf(ownerNames(ctx.svc), page.uploads.map((u) => u.owner));
  const value: Record<string, unknown> = {
    Bucket: ctx.bucket,
    KeyMarker: enc(keyMarker),
    UploadIdMarker: uploadIdMarker,
    ...(page.isTruncated ? { NextKeyMarker: enc(page.nextKeyMarker ?? ''), NextUploadIdMarker: page.nextUploadIdMarker ?? '' } : {}),
    ...(encode ? { EncodingType: 'url' } : {}),
    Prefix: enc(prefix),
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    MaxUploads: maxUploads,
    IsTruncated: page.isTruncated,
    Upload: page.uploads.map((u) => ({
      Key: enc(u.key),
      UploadId: u.uploadId,
      Initiator: owners.get(u.owner),
      Owner: owners.get(u.owner),
      StorageClass: u.storageClass ?? 'STANDARD',
      Initiated: isoDate(u.initiated),
      ...uploadChecksumElements(u),
    })),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  };
  return { xml: { root: 'ListMultipartUploadsResult', value } };
}

/** the cluster-wide page; a region that cannot be reached fails the listing (never a partial one) */
async function clusterPage(lister: NonNullable<OpContext['svc']['clusterUploads']>, input: Parameters<typeof lister.list>[0]) {
  try {
    return await lister.list(input);
  } catch (err) {
    if (err instanceof RegionUnreachable) {
      throw new S3Error('ServiceUnavailable', `The bucket's multipart uploads begun in region ${err.region} cannot be listed: region ${err.region} cannot be reached now.`, { Region: err.region });
    }
    throw err;
  }
}
