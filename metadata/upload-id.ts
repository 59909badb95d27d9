/**
 * Multipart upload ids. An upload's records stay in the region that created it (only the
 * completed object replicates), so the id names that region: a request for the upload that
 * reaches another region is forwarded there (gateway/forward/).
 *
 *   <creation ms, base36, 9 chars> '.' <region> '.' <18 random bytes, base64url>
 *
 * URL-safe ('.' is unreserved and appears neither in base64url nor in a region name), and ids
 * still sort by creation time first (S3 lists one key's uploads oldest first). Ids made before
 * regions were named (33 characters, no '.') belong to the region that holds them.
 */
import { randomBytes } from 'node:crypto';

/** region names as the topology allows them (replication/topology.ts) */
const REGION = /^[a-z0-9][a-z0-9-]{0,31}$/;
const TIME_CHARS = 9;

export function newUploadId(region?: string, now = Date.now()): string {
  const time = now.toString(36).padStart(TIME_CHARS, '0');
  const random = randomBytes(18).toString('base64url');
  // a single region may be named anything; only cluster regions (topology names) need a tag
  if (region === undefined || !REGION.test(region)) return time + random;
  return `${time}.${region}.${random}`;
}

/** the region an upload id names; undefined for an id that names none (an older one, or not ours) */
export function uploadIdRegion(uploadId: string): string | undefined {
  const parts = uploadId.split('.');
  if (parts.length !== 3 || parts[0]!.length !== TIME_CHARS) return undefined;
  return REGION.test(parts[1]!) ? parts[1] : undefined;
}
