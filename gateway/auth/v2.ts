/** Signature Version 2 as one entry point: header or presigned URL, or a refusal when v2 is turned off. */
import type { AuthContext, KeyLookup, SignedRequest } from './types.js';
import { verifyV2Presigned } from './v2-presign.js';
import { sigV2Unsupported, verifyV2Header } from './v2-verify.js';

export { isV2Presigned } from './v2-presign.js';
export { isV2Authorization } from './v2-verify.js';

export interface V2Options {
  /** false: the operator takes SigV4 only (erne serve --no-sigv2) */
  enabled: boolean;
  /** the bucket the Host header named (virtual-host style) */
  virtualHostBucket?: string;
}

/**
 * Sub-resources that name an operation but that SigV2 does not sign (newer than v2). A v2
 * request carrying one is refused: otherwise anyone holding a captured or presigned v2 request
 * could turn it into another operation on the same resource (DELETE /b into
 * DELETE /b?publicAccessBlock). Every sub-resource gateway/router.ts knows is either signed
 * (V2_SUBRESOURCES) or listed here (test/gateway/auth/v2-verify.test.ts checks).
 */
export const V2_REFUSED_SUBRESOURCES: ReadonlySet<string> = new Set([
  'accelerate', 'analytics', 'attributes', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold',
  'metadataTable', 'metrics', 'object-lock', 'ownershipControls', 'policyStatus', 'publicAccessBlock',
  'renameObject', 'replication', 'retention', 'select', 'session',
]);

/** `authorization` is the v2 header, or undefined for a v2 presigned URL (its query in `params`). */
export async function verifyV2(
  req: SignedRequest,
  authorization: string | undefined,
  params: ReadonlyMap<string, string>,
  keys: KeyLookup,
  now: number,
  opts: V2Options,
): Promise<AuthContext> {
  if (!opts.enabled) throw sigV2Unsupported();
  for (const name of params.keys()) if (V2_REFUSED_SUBRESOURCES.has(name)) throw sigV2Unsupported();
  const r = { req, ...(opts.virtualHostBucket !== undefined ? { virtualHostBucket: opts.virtualHostBucket } : {}) };
  return authorization !== undefined ? verifyV2Header(r, authorization, keys, now) : verifyV2Presigned(r, params, keys, now);
}
