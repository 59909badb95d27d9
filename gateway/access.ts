import type { AccessKeyRecord, BucketRecord, BucketRole } from '../metadata/types.js';
import { expandAcl, grantsAllow, type AclCaller, type AclGrant, type AclPermission, type StoredAcl } from '../metadata/acl.js';
import { PUBLIC_BUCKET_KIND } from '../metadata/bucket-config.js';
import { MetadataError } from '../metadata/errors.js';
import type { AuthContext } from './auth/types.js';
import { header, type Headers, type Services } from './context.js';
import { S3Error } from './errors.js';
import { parseCopySource } from './ops/copy-object.js';
import { versionIdParam } from './ops/version-param.js';
import { checkBucketPolicies, publicAclsIgnored, type CopySourceRef } from './policy/gate.js';

/**
 * Who may do what, decided once per request by `authorize` (app.ts calls it before any
 * handler runs) from the one table PERMISSIONS:
 * - root keys: everything;
 * - the bucket's owner (the key that created it): everything on it;
 * - a key with a role on the bucket (AccessKeyRecord.grants): ReadOnly reads and lists,
 *   Editor also writes and deletes objects; bucket settings and deleting the bucket stay
 *   with owner and root;
 * - anyone else, anonymous or signed: what an ACL grants (`aclAllows`): the bucket's ACL for
 *   listings and writes, the exact object version's ACL for reads, as on S3; Erne's own
 *   public-bucket setting makes every object of a bucket readable.
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

/** the ACL permission that lets a caller without a role in: on the bucket, or on the object version */
export interface AclNeed {
  on: 'bucket' | 'object';
  permission: AclPermission;
}

interface Rule {
  need: Need;
  acl?: AclNeed;
}

const R = (need: Need, acl?: AclNeed): Rule => ({ need, acl });
const bucketAclNeed = (permission: AclPermission): AclNeed => ({ on: 'bucket', permission });
const objectAclNeed = (permission: AclPermission): AclNeed => ({ on: 'object', permission });

/** The one table: operation → what it needs. An operation not listed needs 'owner'. */
export const PERMISSIONS: Readonly<Record<string, Rule>> = Object.assign(Object.create(null) as Record<string, Rule>, {
  ListBuckets: R('signed'),
  CreateBucket: R('signed'),
  HeadBucket: R('read', bucketAclNeed('READ')),
  GetBucketLocation: R('read'),
  ListObjects: R('read', bucketAclNeed('READ')),
  ListObjectsV2: R('read', bucketAclNeed('READ')),
  ListObjectVersions: R('read', bucketAclNeed('READ')),
  ListMultipartUploads: R('read', bucketAclNeed('READ')),
  ListParts: R('read'),
  GetObject: R('read', objectAclNeed('READ')),
  HeadObject: R('read', objectAclNeed('READ')),
  GetObjectAttributes: R('read', objectAclNeed('READ')),
  GetObjectTagging: R('read'),
  GetObjectAcl: R('read', objectAclNeed('READ_ACP')),
  PutObject: R('write', bucketAclNeed('WRITE')),
  CopyObject: R('write', bucketAclNeed('WRITE')),
  DeleteObject: R('write', bucketAclNeed('WRITE')),
  DeleteObjects: R('write', bucketAclNeed('WRITE')),
  PutObjectTagging: R('write'),
  DeleteObjectTagging: R('write'),
  CreateMultipartUpload: R('write', bucketAclNeed('WRITE')),
  UploadPart: R('write', bucketAclNeed('WRITE')),
  UploadPartCopy: R('write', bucketAclNeed('WRITE')),
  CompleteMultipartUpload: R('write', bucketAclNeed('WRITE')),
  AbortMultipartUpload: R('write', bucketAclNeed('WRITE')),
  PostObject: R('self'),
  DeleteBucket: R('owner'),
  PutObjectAcl: R('owner', objectAclNeed('WRITE_ACP')),
  GetBucketAcl: R('owner', bucketAclNeed('READ_ACP')),
  PutBucketAcl: R('owner', bucketAclNeed('WRITE_ACP')),
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
});

/** what each role allows beyond nothing */
const ROLE_ALLOWS: ReadonlyMap<BucketRole, ReadonlySet<Need>> = new Map([
  ['ReadOnly', new Set<Need>(['read'])],
  ['Editor', new Set<Need>(['read', 'write'])],
]);

/** request → the buckets `authorize` let it touch */
const granted = new WeakMap<AuthContext, Set<string>>();
/** request → the buckets of those it was let into by an ACL alone (no owner, root or role) */
const byAclOnly = new WeakMap<AuthContext, Set<string>>();
/** signed request → its key's roles (ListBuckets shows granted buckets too) */
const roles = new WeakMap<AuthContext, ReadonlyMap<string, BucketRole>>();

/** a key's roles as a Map: its record is a plain object, where `constructor` would be found on the prototype */
function rolesOf(key: AccessKeyRecord | undefined): ReadonlyMap<string, BucketRole> {
  return new Map(Object.entries(key?.grants ?? {}));
}

function grant(auth: AuthContext, bucket: string, viaAcl = false): void {
  for (const [map, add] of [[granted, true], [byAclOnly, viaAcl]] as const) {
    if (!add) continue;
    let s = map.get(auth);
    if (!s) map.set(auth, (s = new Set()));
    s.add(bucket);
  }
}

/**
 * Removing a version for good (DeleteObject or DeleteObjects naming a version id) is S3's
 * DeleteObjectVersion, which no ACL grants: only the owner, root and roles that write. Asked
 * by handlers after requireBucketAccess.
 */
export function mayDeleteVersions(auth: AuthContext, bucket: BucketRecord): boolean {
  return byAclOnly.get(auth)?.has(bucket.name) !== true;
}

export function requireSigned(auth: AuthContext): string {
  if (!auth.accessKeyId) throw new S3Error('AccessDenied');
  return auth.accessKeyId;
}

/** root, owner, or any role on the bucket (what ListBuckets shows) */
export function mayAccessBucket(auth: AuthContext, bucket: BucketRecord): boolean {
  if (auth.root || (auth.accessKeyId !== null && auth.accessKeyId === bucket.owner)) return true;
  return auth.accessKeyId !== null && roles.get(auth)?.has(bucket.name) === true;
}

export function requireBucketAccess(auth: AuthContext, bucket: BucketRecord): void {
  if (granted.get(auth)?.has(bucket.name)) return;
  requireSigned(auth);
  if (!(auth.root || auth.accessKeyId === bucket.owner)) throw new S3Error('AccessDenied');
}

/** who a write is recorded as: the signing key, or for an anonymous write (an ACL let it in) the bucket's owner */
export function writerOf(auth: AuthContext, bucket: BucketRecord): string {
  return auth.accessKeyId ?? bucket.owner;
}

/** The bucket's ACL: PutBucketAcl's, else the canned one it was created with. */
export async function bucketAcl(svc: Services, bucket: BucketRecord): Promise<StoredAcl> {
  return (await svc.configs.get<StoredAcl>(bucket.name, 'acl')) ?? bucket.acl;
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
  if (key?.grants) roles.set(auth, rolesOf(key));
  if (rule.need === 'self') return;
  if (key?.scoped && !auth.root) refuseOutsideScope(key, r);
  if (rule.need === 'signed' || !r.bucket) {
    requireSigned(auth);
    return;
  }
  const src = r.op === 'CopyObject' || r.op === 'UploadPartCopy' ? copySourceOf(r.headers) : undefined;
  // bucket policies (gateway/policy): an explicit Deny has thrown here, whatever ACLs and
  // roles allow; what a policy allows needs no ACL or role below
  const policy = await checkBucketPolicies(svc, auth, key, r, src);
  if (auth.root) return;
  // a missing bucket is NoSuchBucket for every caller, anonymous ones too (as on S3)
  const bucket = await svc.layer.getBucket(r.bucket);
  // opening access while writing is the owner's decision (PutObjectAcl is, too)
  const need = rule.need === 'write' && opensAccess(r.headers) ? 'owner' : rule.need;
  const target = { key: r.key, versionId: rule.acl?.on === 'object' ? versionIdParam(r.query) : undefined };
  // a policy's Allow of DeleteObject with a version id was an Allow of s3:DeleteObjectVersion
  if (policy.request) grant(auth, bucket.name, !(r.op === 'DeleteObject' && r.query.has('versionId')));
  else if (roleAllows(auth, key, bucket, need)) grant(auth, bucket.name);
  else if (need === rule.need && rule.acl !== undefined && (await aclAllows(svc, auth.accessKeyId, bucket, rule.acl, target))) grant(auth, bucket.name, true);
  else throw new S3Error('AccessDenied');
  if (src && policy.source) grant(auth, src.bucket, true);
  else if (src) await authorizeCopySource(svc, auth, key, src);
}

/** whether a key has a role on `bucket` (its record is a plain object: `constructor` is no grant) */
export function hasGrant(key: AccessKeyRecord, bucket: string): boolean {
  return key.grants !== undefined && Object.hasOwn(key.grants, bucket);
}

/**
 * A scoped key (AccessKeyRecord.scoped) is refused before policies and ACLs are asked: on
 * every bucket it has no role on, as a copy source too, and for CreateBucket.
 */
function refuseOutsideScope(key: AccessKeyRecord, r: AccessRequest): void {
  if (r.op === 'CreateBucket') throw new S3Error('AccessDenied', 'This access key is scoped to its buckets: it cannot create buckets.');
  if (r.bucket !== undefined && !hasGrant(key, r.bucket)) throw new S3Error('AccessDenied');
  const src = r.op === 'CopyObject' || r.op === 'UploadPartCopy' ? copySourceOf(r.headers) : undefined;
  if (src && !hasGrant(key, src.bucket)) throw new S3Error('AccessDenied');
}

/** canned ACLs that give someone other than the bucket's owner access, and any x-amz-grant-* header */
const OPENING_CANNED = new Set(['public-read', 'public-read-write', 'authenticated-read']);
function opensAccess(h: Headers): boolean {
  const canned = header(h, 'x-amz-acl');
  if (canned !== undefined && OPENING_CANNED.has(canned)) return true;
  return Object.keys(h).some((name) => name.startsWith('x-amz-grant-'));
}

/** the owner, root, or a role that allows `need` on the bucket */
function roleAllows(auth: AuthContext, key: AccessKeyRecord | undefined, bucket: BucketRecord, need: Need): boolean {
  if (auth.accessKeyId === null) return false;
  if (auth.root || bucket.owner === auth.accessKeyId) return true;
  const role = rolesOf(key).get(bucket.name);
  return role !== undefined && ROLE_ALLOWS.get(role)?.has(need) === true;
}

/**
 * Whether an ACL lets `caller` (null: anonymous) in: the bucket's ACL, or the ACL of the exact
 * object version `target` names (`versionId` 'null' is the null version, never the current
 * one). Objects of a bucket with Erne's public setting are readable by anyone. Reading a
 * missing object is let through (to its NoSuchKey) only for those who may list the bucket.
 * With the bucket's PublicAccessBlock IgnorePublicAcls, grants to AllUsers and
 * AuthenticatedUsers count for nothing.
 */
export async function aclAllows(svc: Services, caller: AclCaller, bucket: BucketRecord, need: AclNeed, target: { key?: string; versionId?: string }): Promise<boolean> {
  const ignorePublic = await publicAclsIgnored(svc, bucket.name);
  const counted = (grants: AclGrant[]) => (ignorePublic ? grants.filter((g) => g.grantee.kind === 'Key') : grants);
  if (need.on === 'bucket') return grantsAllow(counted(expandAcl(await bucketAcl(svc, bucket), bucket.owner, bucket.owner)), caller, need.permission, bucket.owner);
  if (need.permission === 'READ' && (await svc.configs.get<boolean>(bucket.name, PUBLIC_BUCKET_KIND)) === true) return true;
  const v = target.key ? await svc.layer.getObject(bucket.name, target.key, target.versionId).catch(noVersion) : undefined;
  if (!v) return need.permission === 'READ' && aclAllows(svc, caller, bucket, bucketAclNeed('READ'), {});
  const acl = (await svc.configs.getObjectAcl(bucket.name, v.key, v.versionId)) ?? 'private';
  return grantsAllow(counted(expandAcl(acl, v.owner, bucket.owner)), caller, need.permission, v.owner);
}

function noVersion(err: unknown): undefined {
  if (err instanceof MetadataError) return undefined;
  throw err;
}

/** a copy also reads its source: a role that reads the source bucket, or READ on the source version */
async function authorizeCopySource(svc: Services, auth: AuthContext, key: AccessKeyRecord | undefined, src: CopySourceRef): Promise<void> {
  const bucket = await svc.layer.getBucket(src.bucket);
  if (roleAllows(auth, key, bucket, 'read')) grant(auth, bucket.name);
  else if (await aclAllows(svc, auth.accessKeyId, bucket, objectAclNeed('READ'), src)) grant(auth, bucket.name, true);
  else throw new S3Error('AccessDenied');
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
