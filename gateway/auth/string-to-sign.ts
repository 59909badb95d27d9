/** SigV4 strings to sign: the request's, each aws-chunked chunk's, and the trailer's. */
import { createHash, createHmac } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacHex(key: Uint8Array, data: string): string {
  return createHmac('sha256', key).update(data).digest('hex');
}

/** date/region/s3/aws4_request */
export function credentialScope(date: string, region: string, service = 's3'): string {
  return `${date}/${region}/${service}/aws4_request`;
}

/** `canonicalRequest` holds header values as bytes, one latin-1 character each (canonical-request.ts). */
export function requestStringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(Buffer.from(canonicalRequest, 'latin1'))}`;
}

/** aws-chunked: each chunk's signature chains from the previous one (the seed first). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256Hex: string): string {
  return `${ALGORITHM}-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
}

/** aws-chunked trailer: chains from the final (empty) chunk's signature. */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, trailerText: string): string {
  // trailer lines are read as latin-1 (chunked.ts): hashed back to the bytes received
  return `${ALGORITHM}-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${sha256Hex(Buffer.from(trailerText, 'latin1'))}`;
}
