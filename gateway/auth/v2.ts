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

/** `authorization` is the v2 header, or undefined for a v2 presigned URL (its query in `params`). */
export function verifyV2(
  req: SignedRequest,
  authorization: string | undefined,
  params: ReadonlyMap<string, string>,
  keys: KeyLookup,
  now: number,
  opts: V2Options,
): Promise<AuthContext> {
  if (!opts.enabled) throw sigV2Unsupported();
  const r = { req, ...(opts.virtualHostBucket !== undefined ? { virtualHostBucket: opts.virtualHostBucket } : {}) };
  return authorization !== undefined ? verifyV2Header(r, authorization, keys, now) : verifyV2Presigned(r, params, keys, now);
}
