/**
 * A request's condition keys, as the policy evaluator reads them (lower-cased names). Keys
 * a request does not carry are absent, which IAM's operators treat in their own way.
 */

type Headers = Record<string, string | string[] | undefined>;

export interface ContextInput {
  op: string;
  query: URLSearchParams;
  headers: Headers;
  /** the TCP peer (no proxy header is trusted) */
  sourceIp?: string;
  /** TLS connection */
  secure: boolean;
  signed: boolean;
  presigned: boolean;
  now: number;
}

/** aws:SourceIp and aws:SecureTransport of a request, from its connection */
export function connectionOf(socket: { remoteAddress?: string; encrypted?: boolean }): { sourceIp?: string; secure: boolean } {
  return { sourceIp: socket.remoteAddress, secure: socket.encrypted === true };
}

const LISTINGS = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions']);
const HEADER_KEYS = ['x-amz-acl', 'x-amz-copy-source', 'x-amz-metadata-directive', 'x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-content-sha256'];

const one = (h: Headers, n: string) => {
  const v = h[n];
  return Array.isArray(v) ? v.join(',') : v;
};

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d: their IPv4 address is the one policies name */
export function plainIp(ip: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  return m ? m[1]! : ip;
}

export function requestContext(r: ContextInput): Map<string, string[]> {
  const ctx = new Map<string, string[]>();
  const set = (k: string, v: string | undefined | null) => {
    if (v !== undefined && v !== null) ctx.set(k, [v]);
  };
  if (r.sourceIp) set('aws:sourceip', plainIp(r.sourceIp));
  set('aws:securetransport', String(r.secure));
  set('aws:currenttime', new Date(r.now).toISOString());
  set('aws:epochtime', String(Math.floor(r.now / 1000)));
  set('aws:principaltype', r.signed ? 'User' : 'Anonymous');
  set('aws:useragent', one(r.headers, 'user-agent'));
  set('aws:referer', one(r.headers, 'referer'));
  if (r.signed) {
    set('s3:authtype', r.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER');
    set('s3:signatureversion', 'AWS4-HMAC-SHA256');
  }
  if (LISTINGS.has(r.op)) {
    set('s3:prefix', r.query.get('prefix'));
    set('s3:delimiter', r.query.get('delimiter'));
    set('s3:max-keys', r.query.get('max-keys'));
  }
  set('s3:versionid', r.query.get('versionId'));
  for (const h of HEADER_KEYS) set(`s3:${h}`, one(r.headers, h));
  return ctx;
}
