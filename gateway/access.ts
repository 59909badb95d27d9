import type { BucketRecord } from '../metadata/types.js';
import type { CannedAcl } from '../metadata/bucket-config.js';
import type { AuthContext } from './auth/types.js';
import type { Services } from './context.js';
import { S3Error } from './errors.js';

/**
 * Who may touch a bucket: root keys everything, other keys only the buckets they created.
 * Anonymous requests may do only what ANONYMOUS allows, decided once per request by
 * `authorizeAnonymous` before the handler runs; the handlers' `requireBucketAccess` then
 * lets through exactly the bucket that was granted.
 */

type AnonymousRule =
  /** the bucket's canned ACL is public-read */
  | 'bucket-read'
  /** the bucket is public-read, or the object version read is */
  | 'object-read'
  /** the handler authenticates the request itself (a POST form carries a signed policy) */
  | 'self';

/** The one table of what anonymous requests may do; anything else is AccessDenied. */
const ANONYMOUS: Partial<Record<string, AnonymousRule>> = {
  ListObjects: 'bucket-read',
  ListObjectsV2: 'bucket-read',
  HeadBucket: 'bucket-read',
  GetObject: 'object-read',
  HeadObject: 'object-read',
  PostObject: 'self',
};

/** anonymous request → the bucket it was granted */
const granted = new WeakMap<AuthContext, string>();

export function requireSigned(auth: AuthContext): string {
  if (!auth.accessKeyId) throw new S3Error('AccessDenied');
  return auth.accessKeyId;
}

export function mayAccessBucket(auth: AuthContext, bucket: BucketRecord): boolean {
  return auth.root || (auth.accessKeyId !== null && auth.accessKeyId === bucket.owner);
}

export function requireBucketAccess(auth: AuthContext, bucket: BucketRecord): void {
  if (!auth.accessKeyId && granted.get(auth) === bucket.name) return;
  requireSigned(auth);
  if (!mayAccessBucket(auth, bucket)) throw new S3Error('AccessDenied');
}

/** The bucket's canned ACL: PutBucketAcl's, else the one it was created with. */
export async function bucketAcl(svc: Services, bucket: BucketRecord): Promise<CannedAcl> {
  return (await svc.configs.get<CannedAcl>(bucket.name, 'acl')) ?? bucket.acl;
}

/** Throws AccessDenied unless ANONYMOUS lets this anonymous request through. */
export async function authorizeAnonymous(svc: Services, auth: AuthContext, opName: string, bucketName: string | undefined, key: string | undefined, query: URLSearchParams): Promise<void> {
  const rule = ANONYMOUS[opName];
  if (rule === 'self') return;
  if (!rule || !bucketName) throw new S3Error('AccessDenied');
  const bucket = await svc.layer.getBucket(bucketName);
  if ((await bucketAcl(svc, bucket)) === 'public-read') {
    granted.set(auth, bucket.name);
    return;
  }
  if (rule === 'object-read' && key) {
    const versionId = query.get('versionId') ?? undefined;
    // a missing object on a private bucket is AccessDenied, as on S3 (no ListBucket right)
    const v = await svc.layer.getObject(bucket.name, key, versionId === 'null' ? undefined : versionId).catch(() => undefined);
    if (v && (await svc.configs.getObjectAcl(bucket.name, key, v.versionId)) === 'public-read') {
      granted.set(auth, bucket.name);
      return;
    }
  }
  throw new S3Error('AccessDenied');
}
