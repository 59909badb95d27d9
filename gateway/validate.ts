import { S3Error } from './errors.js';
import { header, type Headers } from './context.js';
import type { ObjectHeaders } from '../metadata/types.js';

/** S3's limits on names, keys and metadata, with S3's error codes. */

export const MAX_KEY_BYTES = 1024;
export const MAX_USER_METADATA_BYTES = 2048;
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The general-purpose bucket naming rules from the S3 user guide. */
export function checkBucketName(name: string): void {
  const bad =
    !BUCKET_NAME.test(name) ||
    name.includes('..') ||
    name.includes('.-') ||
    name.includes('-.') ||
    IPV4.test(name) ||
    name.startsWith('xn--') ||
    name.startsWith('sthree-') ||
    name.startsWith('amzn-s3-demo-') ||
    name.endsWith('-s3alias') ||
    name.endsWith('--ol-s3') ||
    name.endsWith('.mrap') ||
    name.endsWith('--x-s3') ||
    name.endsWith('--table-s3');
  if (bad) throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
}

export function checkKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError', undefined, { Size: Buffer.byteLength(key), MaxSizeAllowed: MAX_KEY_BYTES });
}

/**
 * Stored values come back as response headers: one that no header can carry (presigned
 * query parameters and POST form fields can hold CR/LF or non-Latin-1) is refused up front.
 */
export function headerSafe(name: string, v: string): string {
  if (/[^\t\x20-\x7e\x80-\xff]/.test(v)) throw new S3Error('InvalidArgument', `Invalid value for ${name}`, { ArgumentName: name });
  return v;
}

/** x-amz-meta-* headers → user metadata (names lower-case, without the prefix). */
export function userMetadata(h: Headers): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const name of Object.keys(h)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const k = name.slice('x-amz-meta-'.length);
    const v = headerSafe(name, header(h, name) ?? '');
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(k)) throw new S3Error('InvalidArgument', 'Invalid metadata name', { ArgumentName: name });
    meta[k] = v;
    // v holds the bytes sent, one latin-1 character each (gateway/header-text.ts)
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v, 'latin1');
  }
  if (bytes > MAX_USER_METADATA_BYTES) throw new S3Error('MetadataTooLarge', undefined, { Size: bytes, MaxSizeAllowed: MAX_USER_METADATA_BYTES });
  return meta;
}

/** The standard headers S3 stores with an object and returns on GET/HEAD. */
export function objectHeaders(h: Headers): ObjectHeaders {
  const out: ObjectHeaders = {};
  for (const n of ['content-type', 'content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires']) headerSafe(n, header(h, n) ?? '');
  const ct = header(h, 'content-type');
  if (ct) out.contentType = ct;
  const ce = header(h, 'content-encoding');
  // aws-chunked is a transfer framing, not a property of the object
  const encodings = ce?.split(',').map((s) => s.trim()).filter((s) => s && s.toLowerCase() !== 'aws-chunked');
  if (encodings && encodings.length) out.contentEncoding = encodings.join(', ');
  const cd = header(h, 'content-disposition');
  if (cd) out.contentDisposition = cd;
  const cl = header(h, 'content-language');
  if (cl) out.contentLanguage = cl;
  const cc = header(h, 'cache-control');
  if (cc) out.cacheControl = cc;
  const ex = header(h, 'expires');
  if (ex) out.expires = ex;
  return out;
}

const STORAGE_CLASSES = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'GLACIER_IR', 'OUTPOSTS', 'SNOW', 'EXPRESS_ONEZONE']);

/** Options of a new object that Erne accepts or refuses before reading any body. */
export function checkNewObjectOptions(h: Headers): void {
  const storageClass = header(h, 'x-amz-storage-class');
  if (storageClass && !STORAGE_CLASSES.has(storageClass)) throw new S3Error('InvalidStorageClass');
  refuseSseC(h);
}

/** SSE-C (customer-provided keys) on any request that carries one: not offered, never ignored. */
export function refuseSseC(h: Headers): void {
  if (header(h, 'x-amz-server-side-encryption-customer-algorithm')) {
    throw new S3Error('NotImplemented', 'Server-side encryption with customer keys is not supported.');
  }
}
