/**
 * Signature Version 2 query authentication (a v2 presigned URL):
 * ?AWSAccessKeyId=…&Expires=<seconds since epoch>&Signature=<url-encoded base64>.
 * Expires takes the Date line's place. x-amz-* query parameters stand for headers (the gateway
 * applies them as such), so they are signed as headers; other query parameters are not signed
 * unless they are sub-resources, as on S3.
 */
import { S3Error } from '../errors.js';
import type { AuthContext, KeyLookup } from './types.js';
import { parseQuery } from './uri-encode.js';
import { checkV2Signature, requestStringToSign, v2Payload, type V2Request } from './v2-verify.js';

/** true when the query asks for v2 query authentication */
export function isV2Presigned(params: ReadonlyMap<string, string>): boolean {
  return params.has('AWSAccessKeyId') || params.has('Signature');
}

/**
 * x-amz-* query parameters by lower-case name, the last one winning, exactly as the gateway
 * applies them as headers (gateway/app.ts hoistPresignedHeaders), so what is applied is what was signed.
 */
function amzQueryParams(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of parseQuery(rawQuery)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-amz-')) out.set(lower, value.trim());
  }
  return out;
}

export async function verifyV2Presigned(r: V2Request, params: ReadonlyMap<string, string>, keys: KeyLookup, now: number): Promise<AuthContext> {
  const accessKeyId = params.get('AWSAccessKeyId');
  const signature = params.get('Signature');
  const expires = params.get('Expires');
  if (accessKeyId === undefined || signature === undefined || expires === undefined) {
    throw new S3Error('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^\d+$/.test(expires)) throw new S3Error('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`);
  const expiresMs = Number(expires) * 1000;
  if (now > expiresMs) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      Expires: new Date(expiresMs).toISOString(),
      ServerTime: new Date(now).toISOString(),
    });
  }
  const payload = v2Payload(r.req);
  const { root } = await checkV2Signature(accessKeyId, signature, requestStringToSign(r, expires, amzQueryParams(r.req.rawQuery)), keys);
  return { accessKeyId, root, payload, presigned: true };
}
