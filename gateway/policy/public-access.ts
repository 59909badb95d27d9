import { S3Error } from '../errors.js';

/**
 * PublicAccessBlockConfiguration: its document, and what counts as a public ACL (a canned
 * ACL or a grant that gives something to AllUsers or AuthenticatedUsers, as S3 counts it).
 */

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export const PAB_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** parsed XML of PutPublicAccessBlock → the configuration (absent fields are false) */
export function parsePublicAccessBlock(doc: Record<string, unknown>): PublicAccessBlock {
  const root = doc['PublicAccessBlockConfiguration'];
  if (root === undefined || (root !== '' && (typeof root !== 'object' || root === null || Array.isArray(root)))) throw new S3Error('MalformedXML');
  const fields = (typeof root === 'object' ? root : {}) as Record<string, unknown>;
  const out: PublicAccessBlock = { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false };
  for (const [name, value] of Object.entries(fields)) {
    if (!(PAB_FIELDS as readonly string[]).includes(name)) throw new S3Error('MalformedXML');
    const v = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (v !== 'true' && v !== 'false') throw new S3Error('MalformedXML');
    out[name as keyof PublicAccessBlock] = v === 'true';
  }
  return out;
}

export function publicAccessBlockXml(p: PublicAccessBlock): Record<string, unknown> {
  return Object.fromEntries(PAB_FIELDS.map((f) => [f, p[f]]));
}

const PUBLIC_CANNED = new Set(['public-read', 'public-read-write', 'authenticated-read']);
const PUBLIC_GROUPS = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/i;
const GRANT_HEADERS = ['x-amz-grant-read', 'x-amz-grant-write', 'x-amz-grant-read-acp', 'x-amz-grant-write-acp', 'x-amz-grant-full-control'];

export function isPublicCannedAcl(acl: string | undefined): boolean {
  return acl !== undefined && PUBLIC_CANNED.has(acl.trim().toLowerCase());
}

type Headers = Record<string, string | string[] | undefined>;
const one = (h: Headers, n: string) => {
  const v = h[n];
  return Array.isArray(v) ? v.join(',') : v;
};

/** x-amz-acl or an x-amz-grant-* header of the request makes something public */
export function requestsPublicAcl(headers: Headers): boolean {
  return isPublicCannedAcl(one(headers, 'x-amz-acl')) || GRANT_HEADERS.some((g) => PUBLIC_GROUPS.test(one(headers, g) ?? ''));
}
