/**
 * Signature Version 2 (AWS "Signing and authenticating REST requests"): the StringToSign
 *   Method \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
 * and its HMAC-SHA1. Pure: the callers choose what goes on the Date line (a header's date,
 * '' when x-amz-date is sent, or a presigned URL's Expires).
 */
import { createHmac } from 'node:crypto';
import { percentDecode } from './uri-encode.js';

/** Query parameters S3 includes in the CanonicalizedResource; every other one is unsigned. */
export const V2_SUBRESOURCES: ReadonlySet<string> = new Set([
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy',
  'requestPayment', 'restore', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning',
  'versions', 'website',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'response-content-language', 'response-content-type', 'response-expires',
]);

export interface V2Parts {
  method: string;
  contentMd5: string;
  contentType: string;
  /** the Date line: Date header, '' when x-amz-date is sent, Expires for a presigned URL */
  date: string;
  /** lower-case x-amz-* name → value */
  amzHeaders: ReadonlyMap<string, string>;
  resource: string;
}

/**
 * Node hands header values over as latin-1 (one char per byte). A client signs the UTF-8
 * text it sent, so bytes that form valid UTF-8 are read back as such; anything else (or a
 * value already decoded upstream) is kept as it is.
 */
export function wireText(value: string): string {
  if (!/[\x80-\xff]/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  const bytes = Buffer.from(value, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : value;
}

/**
 * "/bucket/key?sub&resources": the path as sent (with the virtual-host bucket in front), then
 * the sub-resources of the query, sorted by name, values decoded, as clients sign them.
 * A path-style path that names only a bucket is signed with a trailing '/' ("/bucket/"), as S3
 * expects (botocore and s3cmd sign it so).
 */
export function canonicalizedResource(rawPath: string, rawQuery: string, virtualHostBucket?: string): string {
  const path = virtualHostBucket === undefined && /^\/[^/]+$/.test(rawPath) ? rawPath + '/' : rawPath;
  let out = (virtualHostBucket !== undefined ? '/' + virtualHostBucket : '') + wireText(path);
  const subs: Array<[string, string | undefined]> = [];
  for (const part of rawQuery === '' ? [] : rawQuery.split('&')) {
    const eq = part.indexOf('=');
    // decoded as the router decodes it, so '%61cl' cannot slip an unsigned ?acl past the signature
    const name = percentDecode(eq < 0 ? part : part.slice(0, eq), true).toString('utf8');
    if (!V2_SUBRESOURCES.has(name)) continue;
    subs.push([name, eq < 0 ? undefined : percentDecode(part.slice(eq + 1), false).toString('utf8')]);
  }
  if (subs.length === 0) return out;
  // a stable sort on the name alone: repeated names keep their order
  subs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  out += '?' + subs.map(([n, v]) => (v === undefined ? n : `${n}=${v}`)).join('&');
  return out;
}

/** "name:value\n" per x-amz-* header, sorted by name; folded whitespace becomes one space. */
export function canonicalizedAmzHeaders(amz: ReadonlyMap<string, string>): string {
  return [...amz.keys()]
    .sort()
    .map((name) => `${name}:${amz.get(name)!.replace(/\s*\r?\n\s*/g, ' ').trim()}\n`)
    .join('');
}

export function v2StringToSign(p: V2Parts): string {
  return `${p.method}\n${p.contentMd5}\n${p.contentType}\n${p.date}\n${canonicalizedAmzHeaders(p.amzHeaders)}${p.resource}`;
}

/** base64 HMAC-SHA1 of the UTF-8 text: a request's or a POST policy's v2 signature */
export function v2Signature(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/** S3's StringToSignBytes: the bytes signed, as space-separated hex pairs */
export function stringToSignBytes(stringToSign: string): string {
  return [...Buffer.from(stringToSign, 'utf8')].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
