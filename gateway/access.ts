import type { AccessKeyRecord, BucketRecord, BucketRole } from '../metadata/types.js';
import type { CannedAcl } from '../metadata/bucket-config.js';
import type { AuthContext } from './auth/types.js';
import { header, type Headers, type Services } from './context.js';
import { S3Error } from './errors.js';
import { parseCopySource } from './ops/copy-object.js';
import { checkBucketPolicies, publicAclsIgnored, type CopySourceRef } from './policy/gate.js';

/**
 * Who may do what, decided once per request by `authorize` (app.ts calls it before any
 * handler runs) from the one table PERMISSIONS:
 * - root keys: everything;
 * - the bucket's owner (the key that created it): everything on it;
 * - a key with a role on the bucket (AccessKeyRecord.grants): ReadOnly reads and lists,
 *   Editor also writes and deletes objects; bucket settings and deleting the bucket stay
 *   with owner and root;
 * - anonymous requests: only the operations whose `anonymous` rule allows them.
 * The handlers' `requireBucketAccess` then lets through exactly the buckets granted here.
 */

type Need =
  /** any signed key (ListBuckets shows each key its own and granted buckets) */
  | 'signed'
  /** read objects and listings */
  | 'read'
  /** write or delete objects, multipart uploads */
  | 'write'
  /** bucket configuration, object ACLs, deleting the bucket: owner or root */
  | 'owner'
  /** the handler authenticates the request itself (a POST form carries a signed policy) */
  | 'self';

type AnonymousRule =
  /** the bucket's canned ACL is public-read */
  | 'bucket-read'
  /** the bucket is public-read, or the object version read is */
  | 'object-read';

interface Rule {
  need: Need;
  anonymous?: AnonymousRule;
}

const R = (need: Need, anonymous?: AnonymousRule): Rule => ({ need, anonymous });

/** The one table: operation → what it needs. An operation not listed needs 'owner'. */
export const PERMISSIONS: Readonly<Record<string, Rule>> = {
  ListBuckets: R('signed'),
  CreateBucket: R('signed'),
  HeadBucket: R('read', 'bucket-read'),
  GetBucketLocation: R('read'),
  ListObjects: R('read', 'bucket-read'),
  ListObjectsV2: R('read', 'bucket-read'),
  ListObjectVersions: R('read'),
  ListMultipartUploads: R('read'),
  ListParts: R('read'),
  GetObject: R('read', 'object-read'),
  HeadObject: R('read', 'object-read'),
  GetObjectTagging: R('read'),
  GetObjectAcl: R('read'),
  PutObject: R('write'),
  CopyObject: R('write'),
  DeleteObject: R('write'),
  DeleteObjects: R('write'),
  PutObjectTagging: R('write'),
  DeleteObjectTagging: R('write'),
  CreateMultipartUpload: R('write'),
  UploadPart: R('write'),
  UploadPartCopy: R('write'),
  CompleteMultipartUpload: R('write'),
  AbortMultipartUpload: R('write'),
  PostObject: R('self'),
  DeleteBucket: R('owner'),
  PutObjectAcl: R('owner'),
  GetBucketAcl: R('owner'),
  PutBucketAcl: R('owner'),
  GetBucketVersioning: R('owner'),
  PutBucketVersioning: R('owner'),
  GetBucketCors: R('owner'),
  PutBucketCors: R('owner'),
  DeleteBucketCors: R('owner'),
  GetBucketTagging: R('owner'),
  PutBucketTagging: R('owner'),
  DeleteBucketTagging: R('owner'),
  GetBucketLifecycleConfiguration: R('owner'),
  PutBucketLifecycleConfiguration: R('owner'),
  DeleteBucketLifecycle: R('owner'),
  PutBucketPolicy: R('owner'),
  GetBucketPolicy: R('owner'),
  DeleteBucketPolicy: R('owner'),
  GetBucketPolicyStatus: R('owner'),
  PutPublicAccessBlock: R('owner'),
  GetPublicAccessBlock: R('owner'),
  DeletePublicAccessBlock: R('owner'),
};

/** what each role allows beyond nothing */
const ROLE_ALLOWS: Record<BucketRole, ReadonlySet<Need>> = {
  ReadOnly: new Set<Need>(['read']),
  Editor: new Set<Need>(['read', 'write']),
};

/** request → the buckets `authorize` let it touch */
const granted = new WeakMap<AuthContext, Set<string>>();
/** signed request → its key's roles (ListBuckets shows granted buckets too) */
const roles = new WeakMap<AuthContext, Record<string, BucketRole>>();

function grant(auth: AuthContext, bucket: string): void {
  let s = granted.get(auth);
  if (!s) granted.set(auth, (s = new Set()));
  s.add(bucket);
}

export function requireSigned(auth: AuthContext): string {
  if (!auth.accessKeyId) throw new S3Error('AccessDenied');
  return auth.accessKeyId;
}

/** root, owner, or any role on the bucket (what ListBuckets shows) */
export function mayAccessBucket(auth: AuthContext, bucket: BucketRecord): boolean {
  if (auth.root || (auth.accessKeyId !== null && auth.accessKeyId === bucket.owner)) return true;
  return auth.accessKeyId !== null && roles.get(auth)?.[bucket.name] !== undefined;
}

export function requireBucketAccess(auth: AuthContext, bucket: BucketRecord): void {
  if (granted.get(auth)?.has(bucket.name)) return;
  requireSigned(auth);
  if (!(auth.root || auth.accessKeyId === bucket.owner)) throw new S3Error('AccessDenied');
}

/** The bucket's canned ACL: PutBucketAcl's, else the one it was created with. */
export async function bucketAcl(svc: Services, bucket: BucketRecord): Promise<CannedAcl> {
  return (await svc.configs.get<CannedAcl>(bucket.name, 'acl')) ?? bucket.acl;
}

export interface AccessRequest {
  op: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers: Headers;
  /** the TCP peer's address (aws:SourceIp) */
  sourceIp?: string;
  /** a TLS connection (aws:SecureTransport) */
  secure?: boolean;
}

/**
 * The one access check, run for every S3 request before its handler. `key` is the signing
 * key's record (undefined for anonymous requests). Throws AccessDenied (or NoSuchBucket).
 */
export async function authorize(svc: Services, auth: AuthContext, key: AccessKeyRecord | undefined, r: AccessRequest): Promise<void> {
  const rule = PERMISSIONS[r.op] ?? R('owner');
  const src = r.op === 'CopyObject' || r.op === 'UploadPartCopy' ? copySourceOf(r.headers) : undefined;
  // bucket policies (gateway/policy): an explicit Deny has thrown here, whatever ACLs and
  // roles allow; what a policy allows needs no ACL or role below
  const policy = await checkBucketPolicies(svc, auth, key, r, src);
  if (!auth.accessKeyId) {
    if (!policy.request || (src && !policy.source)) return authorizeAnonymous(svc, auth, rule, r);
    for (const b of [r.bucket, src?.bucket]) if (b) grant(auth, b);
    return;
  }
  if (key?.grants) roles.set(auth, key.grants);
  if (auth.root || rule.need === 'signed' || rule.need === 'self' || !r.bucket) return;
  let need = rule.need;
  // making an object public is the owner's decision, also when done while writing it
  if (need === 'write' && header(r.headers, 'x-amz-acl') !== undefined && header(r.headers, 'x-amz-acl') !== 'private') need = 'owner';
  if (policy.request) grant(auth, r.bucket);
  else await requireNeed(svc, auth, key, r.bucket, need);
  if (src && policy.source) grant(auth, src.bucket);
  else if (src && (src.bucket !== r.bucket || policy.request)) await requireNeed(svc, auth, key, src.bucket, 'read');
}

/** a malformed source is the handler's error to report */
function copySourceOf(headers: Headers): CopySourceRef | undefined {
  const raw = header(headers, 'x-amz-copy-source');
  try {
    return raw ? parseCopySource(raw) : undefined;
  } catch {
    return undefined;
  }
}

async function requireNeed(svc: Services, auth: AuthContext, key: AccessKeyRecord | undefined, bucketName: string, need: Need): Promise<void> {
  const bucket = await svc.layer.getBucket(bucketName);
  const role = key?.grants?.[bucketName];
  const ok = bucket.owner === auth.accessKeyId || (role !== undefined && ROLE_ALLOWS[role]?.has(need) === true);
  if (!ok) throw new S3Error('AccessDenied');
  grant(auth, bucket.name);
}

/** Anonymous: only what the operation's `anonymous` rule allows; anything else is AccessDenied. */
async function authorizeAnonymous(svc: Services, auth: AuthContext, rule: Rule, r: AccessRequest): Promise<void> {
  if (rule.need === 'self') return;
  if (!rule.anonymous || !r.bucket) throw new S3Error('AccessDenied');
  const bucket = await svc.layer.getBucket(r.bucket);
  // PublicAccessBlock IgnorePublicAcls: public grants count for nothing
  if (await publicAclsIgnored(svc, bucket.name)) throw new S3Error('AccessDenied');
  if ((await bucketAcl(svc, bucket)) === 'public-read') {
    grant(auth, bucket.name);
    return;
  }
  if (rule.anonymous === 'object-read' && r.key) {
    const versionId = r.query.get('versionId') ?? undefined;
    // a missing object on a private bucket is AccessDenied, as on S3 (no ListBucket right)
    const v = await svc.layer.getObject(bucket.name, r.key, versionId === 'null' ? undefined : versionId).catch(() => undefined);
    if (v && (await svc.configs.getObjectAcl(bucket.name, r.key, v.versionId)) === 'public-read') {
      grant(auth, bucket.name);
      return;
    }
  }
  throw new S3Error('AccessDenied');
}
