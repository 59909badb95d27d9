/** The SigV4 canonical request (method, URI, query, headers, signed header list, payload hash). */
import { headerText, textAsHeader } from '../header-text.js';
import { canonicalQuery, canonicalUri } from './uri-encode.js';

type Headers = Record<string, string | string[] | undefined>;

/** Trim and collapse inner whitespace runs to one space, as SigV4's Trimall. */
function trimAll(v: string): string {
  return v.trim().replace(/\s+/g, ' ');
}

/**
 * How a header value's bytes (one latin-1 character each, as Node delivers them) enter the
 * canonical request, which is hashed as latin-1:
 * - 'bytes': as sent, what S3 signs. Signers trim a value as text, so UTF-8 is trimmed as text.
 * - 'latin1-text': each byte a character, signed in UTF-8. Node's http client (so the JS SDK)
 *   sends characters below U+0100 as one latin-1 byte each unless the body is a string, while
 *   the SDK signs their UTF-8 form; Erne has always accepted those, S3 does not.
 */
export type HeaderReading = 'bytes' | 'latin1-text';

function canonicalValue(v: string, reading: HeaderReading): string {
  if (!/[^\x00-\x7f]/.test(v)) return trimAll(v);
  // beyond latin-1: text already, not bytes from Node (a request built in a test)
  if (reading === 'latin1-text' || /[^\x00-\xff]/.test(v)) return textAsHeader(trimAll(v));
  const text = headerText(v);
  return text !== v ? textAsHeader(trimAll(text)) : v.replace(/^[ \t]+|[ \t]+$/g, '').replace(/[ \t]+/g, ' ');
}

/** "name:value\n" for each signed header, in the order the client listed them. */
export function canonicalHeaders(headers: Headers, signedHeaders: readonly string[], reading: HeaderReading = 'bytes'): string {
  let out = '';
  for (const name of signedHeaders) {
    const v = headers[name];
    const value = Array.isArray(v) ? v.map((x) => canonicalValue(x, reading)).join(',') : canonicalValue(v ?? '', reading);
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

/** true when a signed header value has a byte beyond ASCII, so its two readings differ */
export function signsNonAscii(r: CanonicalInput): boolean {
  return r.signedHeaders.some((name) => /[^\x00-\x7f]/.test(String(r.headers[name] ?? '')));
}

export function canonicalRequest(r: CanonicalInput, reading: HeaderReading = 'bytes'): string {
  return [
    r.method.toUpperCase(),
    canonicalUri(r.rawPath),
    canonicalQuery(r.rawQuery, r.excludeQuery),
    canonicalHeaders(r.headers, r.signedHeaders, reading),
    r.signedHeaders.join(';'),
    r.payloadHash,
  ].join('\n');
}
