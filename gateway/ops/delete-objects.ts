import type { OpContext, OpResult } from '../context.js';
import { header } from '../context.js';
import { mayDeleteVersions, requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { readXmlBody } from '../small-body.js';
import type { XmlDoc } from '../xml-reader.js';
import { MAX_KEY_BYTES } from '../validate.js';
import { parseVersionId } from '../../metadata/version-id.js';
import { connectionOf } from '../policy/context.js';
import { deniedDeletes } from '../policy/gate.js';

export const MAX_DELETE_KEYS = 1000;

interface Item {
  key: string;
  versionId?: string;
}

/** The <Delete> document: Object[] with Key (and VersionId), optional Quiet. */
export function parseDeleteRequest(doc: XmlDoc): { items: Item[]; quiet: boolean } {
  const del = doc['Delete'];
  if (typeof del !== 'object' || del === null) throw new S3Error('MalformedXML');
  const d = del as Record<string, unknown>;
  const objects = d['Object'];
  if (!Array.isArray(objects) || objects.length === 0) throw new S3Error('MalformedXML');
  if (objects.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML', `The request may not contain more than ${MAX_DELETE_KEYS} keys.`);
  const items = objects.map((o): Item => {
    if (typeof o !== 'object' || o === null) throw new S3Error('MalformedXML');
    const rec = o as Record<string, unknown>;
    const key = rec['Key'];
    if (typeof key !== 'string' || key === '') throw new S3Error('MalformedXML');
    const vid = rec['VersionId'];
    return typeof vid === 'string' && vid !== '' ? { key, versionId: vid } : { key };
  });
  const quiet = String(d['Quiet'] ?? 'false').toLowerCase() === 'true';
  return { items, quiet };
}

const INTEGRITY_HEADERS = ['content-md5', 'x-amz-checksum-crc32', 'x-amz-checksum-crc32c', 'x-amz-checksum-crc64nvme', 'x-amz-checksum-sha1', 'x-amz-checksum-sha256', 'x-amz-sdk-checksum-algorithm', 'x-amz-trailer'];

export async function deleteObjects(ctx: OpContext): Promise<OpResult> {
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  // S3 requires an integrity check on this body; today's SDKs send a checksum, older ones MD5
  if (!INTEGRITY_HEADERS.some((h) => header(ctx.headers, h) !== undefined)) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const { items, quiet } = parseDeleteRequest(await readXmlBody(ctx));
  const valid: Item[] = [];
  const errors: Record<string, unknown>[] = [];
  const versionsToo = mayDeleteVersions(ctx.auth, bucket);
  const denied = await deniedDeletes(ctx.svc, ctx.auth, { op: 'DeleteObjects', bucket: ctx.bucket, query: ctx.query, headers: ctx.headers, ...connectionOf(ctx.req.socket) }, items);
  for (const [i, it] of items.entries()) {
    if (denied[i]) errors.push({ Key: it.key, ...(it.versionId ? { VersionId: it.versionId } : {}), Code: 'AccessDenied', Message: 'Access Denied' });
    else if (Buffer.byteLength(it.key) > MAX_KEY_BYTES) errors.push({ Key: it.key, Code: 'KeyTooLongError', Message: 'Your key is too long.' });
    else if (it.versionId !== undefined && !versionsToo) errors.push({ Key: it.key, VersionId: it.versionId, Code: 'AccessDenied', Message: 'Access Denied' });
    else if (it.versionId !== undefined && it.versionId !== 'null' && !parseVersionId(it.versionId)) {
      errors.push({ Key: it.key, VersionId: it.versionId, Code: 'NoSuchVersion', Message: 'The specified version does not exist.' });
    } else valid.push(it);
  }
  const results = await ctx.svc.layer.deleteObjects(ctx.bucket, valid);
  const deleted: Record<string, unknown>[] = [];
  results.forEach((r, i) => {
    const asked = valid[i]!.versionId;
    if ('error' in r) {
      errors.push({ Key: r.key, ...(r.versionId ? { VersionId: r.versionId } : {}), Code: r.error.code, Message: r.error.message });
      return;
    }
    if (quiet) return;
    // as S3: the version asked for; DeleteMarker when a marker was removed or made
    const el: Record<string, unknown> = { Key: r.key };
    if (asked !== undefined) el['VersionId'] = asked;
    if (r.deleteMarker) {
      el['DeleteMarker'] = true;
      if (r.versionId) el['DeleteMarkerVersionId'] = r.versionId;
    }
    deleted.push(el);
  });
  return { xml: { root: 'DeleteResult', value: { Deleted: deleted, Error: errors } } };
}
