/**
 * Access control lists as stored: on a bucket (its configuration kind 'acl', else the canned
 * ACL it was created with) and on an object version (metadata/bucket-config.ts). A stored ACL
 * is a canned name, as every record written before grant lists holds, or an explicit list.
 * Grantees name access keys by their id; clients see a key's canonical id (canonicalId).
 */
import { createHash } from 'node:crypto';

export const BUCKET_CANNED_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read'] as const;
/** objects also take the bucket-owner ones (the bucket's owner may do everything anyway) */
export const OBJECT_CANNED_ACLS = [...BUCKET_CANNED_ACLS, 'bucket-owner-read', 'bucket-owner-full-control'] as const;
export type CannedAcl = (typeof OBJECT_CANNED_ACLS)[number];

/** S3's permission names, in the order S3 documents them */
export const ACL_PERMISSIONS = ['FULL_CONTROL', 'WRITE', 'WRITE_ACP', 'READ', 'READ_ACP'] as const;
export type AclPermission = (typeof ACL_PERMISSIONS)[number];

export type AclGrantee =
  /** http://acs.amazonaws.com/groups/global/AllUsers: anyone, signed or not */
  | { kind: 'AllUsers' }
  /** http://acs.amazonaws.com/groups/global/AuthenticatedUsers: any signed request */
  | { kind: 'AuthenticatedUsers' }
  /** one access key of this region */
  | { kind: 'Key'; accessKeyId: string };

export interface AclGrant {
  grantee: AclGrantee;
  permission: AclPermission;
}

export type StoredAcl = CannedAcl | { grants: AclGrant[] };

/** A key's canonical user id, as ACLs and listings show it: SHA-256 of its access key id, hex. */
export function canonicalId(accessKeyId: string): string {
  return createHash('sha256').update(accessKeyId, 'utf8').digest('hex');
}

/**
 * The grants a stored ACL stands for. `owner` is the resource's owner (the bucket's, or the
 * object version's writer); `bucketOwner` is named by the bucket-owner-* canned ACLs.
 */
export function expandAcl(acl: StoredAcl, owner: string, bucketOwner: string): AclGrant[] {
  if (typeof acl !== 'string') return acl.grants;
  const key = (accessKeyId: string): AclGrantee => ({ kind: 'Key', accessKeyId });
  const grants: AclGrant[] = [{ grantee: key(owner), permission: 'FULL_CONTROL' }];
  switch (acl) {
    case 'public-read':
      grants.push({ grantee: { kind: 'AllUsers' }, permission: 'READ' });
      break;
    case 'public-read-write':
      grants.push({ grantee: { kind: 'AllUsers' }, permission: 'READ' }, { grantee: { kind: 'AllUsers' }, permission: 'WRITE' });
      break;
    case 'authenticated-read':
      grants.push({ grantee: { kind: 'AuthenticatedUsers' }, permission: 'READ' });
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) grants.push({ grantee: key(bucketOwner), permission: 'READ' });
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) grants.push({ grantee: key(bucketOwner), permission: 'FULL_CONTROL' });
      break;
    case 'private':
      break;
  }
  return grants;
}

/** Who asks: anonymous (null) or a signed key. */
export type AclCaller = string | null;

/**
 * Whether the grants give `caller` the permission (FULL_CONTROL gives every one). A grant to
 * the resource's own owner adds nothing here: what the owner (or an object's writer) may do
 * follows the bucket's owner and role rules, not the ACL that merely lists them.
 */
export function grantsAllow(grants: readonly AclGrant[], caller: AclCaller, permission: AclPermission, owner: string): boolean {
  return grants.some((g) => {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
    switch (g.grantee.kind) {
      case 'AllUsers':
        return true;
      case 'AuthenticatedUsers':
        return caller !== null;
      case 'Key':
        return caller !== null && g.grantee.accessKeyId === caller && g.grantee.accessKeyId !== owner;
    }
  });
}
