import type { MultipartLayer } from '../../metadata/multipart.js';
import type { ChecksumAlgorithm, ObjectVersion } from '../../metadata/types.js';
import { s3VersionId } from '../../metadata/version-order.js';
import { requireBucketAccess } from '../access.js';
import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { checkKey } from '../validate.js';
import { checksumElements } from './multipart-common.js';
import { checksumHeaders } from './object-headers.js';
import { versionIdParam } from './version-param.js';

/**
 * GetObjectAttributes: what HeadObject and ListParts would say of a stored object, in one
 * XML document, limited to the attributes named in x-amz-object-attributes. The parts of a
 * multipart object come from its part index (sizes, part numbers) and the part records
 * completion kept (checksums), one bounded page at a time.
 */

const ATTRIBUTES = new Set(['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']);
const MAX_PARTS = 1000;

function invalid(name: string, value: string, message: string): S3Error {
  return new S3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
}

/** x-amz-object-attributes: a comma-separated list of S3's attribute names */
function wantedAttributes(raw: string | undefined): Set<string> {
  if (raw === undefined || raw.trim() === '') throw invalid('x-amz-object-attributes', raw ?? '', 'Missing required header for this request: x-amz-object-attributes');
  const wanted = new Set<string>();
  for (const name of raw.split(',').map((s) => s.trim())) {
    if (!ATTRIBUTES.has(name)) throw invalid('x-amz-object-attributes', name, 'Invalid attribute name specified.');
    wanted.add(name);
  }
  return wanted;
}

function intHeader(ctx: OpContext, name: string, dflt: number, max: number): number {
  const v = header(ctx.headers, name)?.trim();
  if (v === undefined || v === '') return dflt;
  const n = /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  if (!(n <= max)) throw invalid(name, v, `Provided ${name} not an integer or within integer range`);
  return n;
}

/** the first ordinal whose part number is above `marker` (part numbers ascend with ordinals) */
async function firstOrdinalAfter(mp: MultipartLayer, uploadId: string, partCount: number, marker: number): Promise<number> {
  let lo = 1;
  let hi = partCount + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const e = await mp.indexEntry(uploadId, mid);
    if (!e) throw new Error(`part index of upload ${uploadId} is missing ordinal ${mid}`);
    if (e.partNumber > marker) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

async function objectParts(ctx: OpContext, v: ObjectVersion): Promise<Record<string, unknown> | undefined> {
  if (v.body?.kind !== 'parts') return undefined;
  const { uploadId, partCount } = v.body;
  const maxParts = intHeader(ctx, 'x-amz-max-parts', MAX_PARTS, MAX_PARTS);
  const marker = intHeader(ctx, 'x-amz-part-number-marker', 0, 10_000);
  const out: Record<string, unknown> = { PartsCount: partCount, PartNumberMarker: marker, MaxParts: maxParts };
  const from = await firstOrdinalAfter(ctx.svc.multipart, uploadId, partCount, marker);
  const entries = maxParts > 0 && from <= partCount ? await ctx.svc.multipart.indexFrom(uploadId, from, maxParts + 1) : [];
  const page = entries.slice(0, maxParts);
  out['IsTruncated'] = entries.length > maxParts;
  if (page.length) out['NextPartNumberMarker'] = page[page.length - 1]!.partNumber;
  // as S3: parts are listed only for an object with a checksum, each with its part's own
  const algs = Object.keys(v.checksums) as ChecksumAlgorithm[];
  if (algs.length && page.length) {
    const records = await ctx.svc.multipart.getParts(uploadId, page.map((e) => e.partNumber));
    out['Part'] = page.map((e) => {
      const sums = records.get(e.partNumber)?.checksums ?? {};
      const own = Object.assign({}, ...algs.map((a) => checksumElements(sums, a))) as Record<string, string>;
      return { PartNumber: e.partNumber, Size: e.size, ...own };
    });
  }
  return out;
}

async function getObjectAttributes(ctx: OpContext): Promise<OpResult> {
  checkKey(ctx.key);
  const wanted = wantedAttributes(header(ctx.headers, 'x-amz-object-attributes'));
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  // a delete marker: 404 (current) or 405 (by id), with its headers (gateway/errors.ts)
  const v = await ctx.svc.layer.getObject(ctx.bucket, ctx.key, versionIdParam(ctx.query));
  const value: Record<string, unknown> = {};
  if (wanted.has('ETag')) value['ETag'] = v.etag;
  if (wanted.has('Checksum') && Object.keys(v.checksums).length) {
    const type = checksumHeaders(v.checksums)['x-amz-checksum-type'];
    // S3 gives a composite checksum here without the "-<parts>" suffix HeadObject shows
    const bare = Object.fromEntries(Object.entries(checksumElements(v.checksums)).map(([k, c]) => [k, c.replace(/-\d+$/, '')]));
    value['Checksum'] = { ...bare, ...(type ? { ChecksumType: type } : {}) };
  }
  if (wanted.has('ObjectParts')) {
    const parts = await objectParts(ctx, v);
    if (parts) value['ObjectParts'] = parts;
  }
  if (wanted.has('StorageClass')) value['StorageClass'] = 'STANDARD';
  if (wanted.has('ObjectSize')) value['ObjectSize'] = v.size;
  const headers: Record<string, string> = { 'last-modified': new Date(v.lastModified).toUTCString() };
  if (bucket.versioning !== 'Unversioned') headers['x-amz-version-id'] = s3VersionId(v);
  return { headers, xml: { root: 'GetObjectAttributesResponse', value } };
}

export const objectAttributesHandlers: HandlerTable = { GetObjectAttributes: getObjectAttributes };
