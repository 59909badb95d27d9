/**
 * Signature Version 2 in the Authorization header: "AWS AccessKeyId:Signature". The body is
 * not signed (an unsigned payload: Content-MD5 and checksums are still verified when sent);
 * every x-amz-* header is, through the CanonicalizedAmzHeaders.
 */
import { S3Error } from '../errors.js';
import { MAX_SKEW_MS, parseHttpDate } from './amz-date.js';
import { contentSha256Mode, headerValue } from './payload-mode.js';
import type { AuthContext, KeyLookup, PayloadMode, SignedRequest } from './types.js';
import { canonicalizedResource, stringToSignBytes, v2Signature, v2StringToSign, wireText } from './v2-string-to-sign.js';
import { signaturesEqual } from './verify-signature.js';

/** What a server that takes only SigV4 answers to any v2 request (as S3 does). */
export function sigV2Unsupported(): S3Error {
  return new S3Error('InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
}

/** true for an Authorization header of Signature Version 2 */
export function isV2Authorization(value: string): boolean {
  return /^AWS\s/.test(value);
}

/** "AWS AKID:signature" → its two parts; InvalidArgument when it has no colon */
export function parseV2Authorization(value: string): { accessKeyId: string; signature: string } {
  const rest = value.replace(/^AWS\s+/, '');
  const colon = rest.lastIndexOf(':');
  if (colon <= 0 || colon === rest.length - 1) {
    throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
      ArgumentValue: value,
    });
  }
  return { accessKeyId: rest.slice(0, colon).trim(), signature: rest.slice(colon + 1).trim() };
}

export interface V2Request {
  req: SignedRequest;
  /** the bucket named by the Host header (virtual-host style), which S3 puts in front of the path */
  virtualHostBucket?: string;
}

/** The StringToSign of a request, with `date` on the Date line and extra x-amz-* values (a presigned query's). */
export function requestStringToSign(r: V2Request, date: string, extraAmz?: ReadonlyMap<string, string>): string {
  const amz = new Map<string, string>();
  for (const [raw, value] of Object.entries(r.req.headers)) {
    const name = raw.toLowerCase();
    if (!name.startsWith('x-amz-') || value === undefined) continue;
    amz.set(name, (Array.isArray(value) ? value : [value]).map((v) => wireText(v).trim()).join(','));
  }
  for (const [name, value] of extraAmz ?? []) if (!amz.has(name)) amz.set(name, value);
  const header = (name: string) => wireText(headerValue(r.req.headers, name) ?? '').trim();
  return v2StringToSign({
    method: r.req.method,
    contentMd5: header('content-md5'),
    contentType: header('content-type'),
    date,
    amzHeaders: amz,
    resource: canonicalizedResource(r.req.rawPath, r.req.rawQuery, r.virtualHostBucket),
  });
}

/** Looks the key up and compares signatures (constant time); throws as S3 does, with what was signed. */
export async function checkV2Signature(accessKeyId: string, provided: string, stringToSign: string, keys: KeyLookup): Promise<{ root: boolean }> {
  const found = await keys(accessKeyId);
  if (!found) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKeyId });
  if (!signaturesEqual(v2Signature(found.secretAccessKey, stringToSign), provided)) {
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      AWSAccessKeyId: accessKeyId,
      // characters XML cannot carry (a decoded %01 in a sub-resource) are shown as U+FFFD; the bytes follow exactly
      StringToSign: stringToSign.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '\ufffd'),
      SignatureProvided: provided,
      StringToSignBytes: stringToSignBytes(stringToSign),
    });
  }
  return { root: found.root };
}

/** x-amz-content-sha256 is optional with v2 (and signed as any x-amz-* header); the chunk-signed framing needs SigV4. */
export function v2Payload(req: SignedRequest): PayloadMode {
  const mode = contentSha256Mode(req.headers) ?? { kind: 'unsigned' };
  if (mode.kind === 'streaming-signed') throw new S3Error('AccessDenied', 'A signed streaming payload needs a SigV4-signed request.');
  return mode;
}

/** x-amz-date wins over Date; with it, the Date line is empty (x-amz-date is signed among the amz headers). */
function requestTime(req: SignedRequest): { line: string; sent: string; time: number } {
  const xAmzDate = headerValue(req.headers, 'x-amz-date')?.trim();
  const date = headerValue(req.headers, 'date')?.trim();
  const sent = xAmzDate ?? date;
  const time = sent === undefined ? undefined : parseHttpDate(sent);
  if (sent === undefined || time === undefined) {
    throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  return { line: xAmzDate !== undefined ? '' : sent, sent, time };
}

export async function verifyV2Header(r: V2Request, authorization: string, keys: KeyLookup, now: number): Promise<AuthContext> {
  const { accessKeyId, signature } = parseV2Authorization(authorization);
  const { line, sent, time } = requestTime(r.req);
  if (Math.abs(now - time) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', undefined, {
      RequestTime: sent,
      ServerTime: new Date(now).toISOString(),
      MaxAllowedSkewMilliseconds: MAX_SKEW_MS,
    });
  }
  const payload = v2Payload(r.req);
  const { root } = await checkV2Signature(accessKeyId, signature, requestStringToSign(r, line), keys);
  return { accessKeyId, root, payload, presigned: false };
}
