import { S3Error } from './errors.js';

/** Where a request points: bucket and key from virtual-host or path-style addressing. */
export interface Address {
  bucket?: string;
  key?: string;
  /** the path as sent, still percent-encoded, without the query */
  rawPath: string;
  rawQuery: string;
  /** the virtual-host bucket, when the Host header named one */
  virtualHost: boolean;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/**
 * `domain` (e.g. "s3.example.com") turns on virtual-host style: a Host of
 * "<bucket>.s3.example.com" names the bucket and the whole path is the key.
 * Any other Host is path style: "/<bucket>/<key>".
 */
export function resolveAddress(url: string, host: string | undefined, domain: string | undefined): Address {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI');
  if (domain && host) {
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    const suffix = '.' + domain.toLowerCase();
    if (hostname.endsWith(suffix) && hostname.length > suffix.length) {
      const bucket = hostname.slice(0, -suffix.length);
      const key = rawPath.length > 1 ? decode(rawPath.slice(1)) : undefined;
      return { bucket, key, rawPath, rawQuery, virtualHost: true };
    }
  }
  const slash = rawPath.indexOf('/', 1);
  if (slash < 0) {
    const bucket = rawPath.length > 1 ? decode(rawPath.slice(1)) : undefined;
    return { bucket, rawPath, rawQuery, virtualHost: false };
  }
  const bucket = decode(rawPath.slice(1, slash));
  const rest = rawPath.slice(slash + 1);
  return { bucket, key: rest === '' ? undefined : decode(rest), rawPath, rawQuery, virtualHost: false };
}
