import type { ChecksumSet, ObjectVersion } from '../../metadata/types.js';

/** Response headers that describe a stored object (GET, HEAD, and parts of PUT). */

export function checksumHeaders(c: ChecksumSet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [alg, value] of Object.entries(c)) if (value) out['x-amz-checksum-' + alg.toLowerCase()] = value;
  // a multipart upload's composite checksum reads "<base64>-<parts>"
  if (Object.keys(out).length) out['x-amz-checksum-type'] = Object.values(out).some((v) => v.includes('-')) ? 'COMPOSITE' : 'FULL_OBJECT';
  return out;
}

export function objectResponseHeaders(v: ObjectVersion): Record<string, string | number | undefined> {
  const h: Record<string, string | number | undefined> = {
    etag: `"${v.etag}"`,
    'last-modified': new Date(v.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
    'content-type': v.headers.contentType ?? 'binary/octet-stream',
    'content-encoding': v.headers.contentEncoding,
    'content-disposition': v.headers.contentDisposition,
    'content-language': v.headers.contentLanguage,
    'cache-control': v.headers.cacheControl,
    expires: v.headers.expires,
  };
  for (const [k, val] of Object.entries(v.userMetadata)) h['x-amz-meta-' + k] = val;
  return h;
}

/** response-* query parameters a signed GET may use to override stored headers */
export const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};
