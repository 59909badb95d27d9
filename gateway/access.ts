import type { BucketRecord } from '../metadata/types.js';
import type { AuthContext } from './auth/types.js';
import { S3Error } from './errors.js';

/**
 * Who may touch a bucket: root keys everything, other keys only the buckets they created.
 * Anonymous requests are refused (public buckets come with canned ACLs).
 */
export function requireSigned(auth: AuthContext): string {
  if (!auth.accessKeyId) throw new S3Error('AccessDenied');
  return auth.accessKeyId;
}

export function mayAccessBucket(auth: AuthContext, bucket: BucketRecord): boolean {
  return auth.root || (auth.accessKeyId !== null && auth.accessKeyId === bucket.owner);
}

export function requireBucketAccess(auth: AuthContext, bucket: BucketRecord): void {
  requireSigned(auth);
  if (!mayAccessBucket(auth, bucket)) throw new S3Error('AccessDenied');
}
