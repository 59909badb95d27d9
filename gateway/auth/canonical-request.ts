/** The SigV4 canonical request (method, URI, query, headers, signed header list, payload hash). */
import { canonicalQuery, canonicalUri } from './uri-encode.js';

type Headers = Record<string, string | string[] | undefined>;

/** Trim and collapse inner whitespace runs to one space, as SigV4's Trimall. */
function trimAll(v: string): string {
  return v.trim().replace(/\s+/g, ' ');
}

/** "name:value\n" for each signed header, in the order the client listed them. */
export function canonicalHeaders(headers: Headers, signedHeaders: readonly string[]): string {
  let out = '';
  for (const name of signedHeaders) {
    const v = headers[name];
    const value = Array.isArray(v) ? v.map(trimAll).join(',') : trimAll(v ?? '');
    out += `${name}:${value}\n`;
  }
  return out;
}

export interface CanonicalInput {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Headers;
  signedHeaders: readonly string[];
  payloadHash: string;
  /** presigned URLs: the signature parameter is not part of what was signed */
  excludeQuery?: string;
}

export function canonicalRequest(r: CanonicalInput): string {
  return [
    r.method.toUpperCase(),
    canonicalUri(r.rawPath),
    canonicalQuery(r.rawQuery, r.excludeQuery),
    canonicalHeaders(r.headers, r.signedHeaders),
    r.signedHeaders.join(';'),
    r.payloadHash,
  ].join('\n');
}
