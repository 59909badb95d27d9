import {
  ACL_PERMISSIONS,
  BUCKET_CANNED_ACLS,
  OBJECT_CANNED_ACLS,
  canonicalId,
  type AclGrant,
  type AclGrantee,
  type AclPermission,
  type CannedAcl,
  type StoredAcl,
} from '../../metadata/acl.js';
import { header, type Headers, type Services } from '../context.js';
import { S3Error } from '../errors.js';

/**
 * The ACL a request asks for, in any of S3's three spellings: a canned `x-amz-acl`, the
 * `x-amz-grant-*` headers, or an AccessControlPolicy body (PutBucketAcl/PutObjectAcl). Grantees
 * Erne knows: the AllUsers and AuthenticatedUsers groups and the canonical id of one of this
 * region's keys; any other is InvalidArgument, as S3 answers a grantee it cannot resolve.
 */

export const ALL_USERS_URI = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS_URI = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** x-amz-grant-* header → permission, in the order grants from headers are listed */
const GRANT_HEADERS: ReadonlyMap<string, AclPermission> = new Map([
  ['x-amz-grant-full-control', 'FULL_CONTROL'],
  ['x-amz-grant-write', 'WRITE'],
  ['x-amz-grant-write-acp', 'WRITE_ACP'],
  ['x-amz-grant-read', 'READ'],
  ['x-amz-grant-read-acp', 'READ_ACP'],
]);

const PERMISSIONS: ReadonlySet<string> = new Set(ACL_PERMISSIONS);
/** S3 refuses ACLs of more grants */
const MAX_GRANTS = 100;

export type AclTarget = 'bucket' | 'object';

/** canonical id → access key id, built once per request that names keys */
export type KeyResolver = (canonical: string) => Promise<string | undefined>;

export function keyResolver(svc: Services): KeyResolver {
  let byCanonical: Promise<Map<string, string>> | undefined;
  return async (canonical) => {
    byCanonical ??= svc.layer.listAccessKeys().then((keys) => new Map(keys.map((k) => [canonicalId(k.accessKeyId), k.accessKeyId])));
    return (await byCanonical).get(canonical.toLowerCase());
  };
}

/** x-amz-acl → a canned ACL this target takes, or undefined; others are NotImplemented */
export function cannedAcl(h: Headers, target: AclTarget): CannedAcl | undefined {
  const acl = header(h, 'x-amz-acl');
  if (acl === undefined) return undefined;
  const known: readonly string[] = target === 'bucket' ? BUCKET_CANNED_ACLS : OBJECT_CANNED_ACLS;
  if (!known.includes(acl)) throw new S3Error('NotImplemented', `The canned ACL ${acl} is not supported.`);
  return acl as CannedAcl;
}

/** whether the request carries any x-amz-grant-* header */
export function hasGrantHeaders(h: Headers): boolean {
  return [...GRANT_HEADERS.keys()].some((name) => header(h, name) !== undefined);
}

/**
 * x-amz-acl or x-amz-grant-* → the ACL to store, or undefined when the request names none.
 * Both at once is InvalidRequest, as on S3.
 */
export async function aclFromHeaders(h: Headers, target: AclTarget, resolve: KeyResolver): Promise<StoredAcl | undefined> {
  const canned = cannedAcl(h, target);
  if (!hasGrantHeaders(h)) return canned;
  if (canned !== undefined) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  const grants: AclGrant[] = [];
  for (const [name, permission] of GRANT_HEADERS) {
    const value = header(h, name);
    if (value === undefined) continue;
    for (const [type, id] of grantHeaderItems(name, value)) grants.push({ grantee: await granteeOf(type, id, resolve), permission });
  }
  return { grants: checkCount(grants) };
}

/** `id="…", uri="…"` → [type, value] pairs; malformed lists are InvalidArgument */
function grantHeaderItems(name: string, value: string): [string, string][] {
  const items: [string, string][] = [];
  const item = /\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^",\s]+))\s*(,|$)/y;
  while (item.lastIndex < value.length) {
    const m = item.exec(value);
    if (!m) throw new S3Error('InvalidArgument', `Invalid grant header ${name}`, { ArgumentName: name, ArgumentValue: value });
    items.push([m[1]!, m[2] ?? m[3]!]);
    if (m[4] === '') break;
  }
  if (items.length === 0) throw new S3Error('InvalidArgument', `Invalid grant header ${name}`, { ArgumentName: name, ArgumentValue: value });
  return items;
}

/** a grantee by its type (header spelling: id, uri, emailAddress) and value */
async function granteeOf(type: string, value: string, resolve: KeyResolver): Promise<AclGrantee> {
  switch (type.toLowerCase()) {
    case 'uri':
      if (value === ALL_USERS_URI) return { kind: 'AllUsers' };
      if (value === AUTHENTICATED_USERS_URI) return { kind: 'AuthenticatedUsers' };
      throw new S3Error('InvalidArgument', 'Invalid group uri', { ArgumentName: 'Group/URI', ArgumentValue: value });
    case 'id': {
      const accessKeyId = /^[0-9a-fA-F]{64}$/.test(value) ? await resolve(value) : undefined;
      if (accessKeyId === undefined) throw new S3Error('InvalidArgument', 'Invalid id', { ArgumentName: 'CanonicalUser/ID', ArgumentValue: value });
      return { kind: 'Key', accessKeyId };
    }
    case 'emailaddress':
      throw new S3Error('InvalidArgument', 'Erne keys have no email address: grant to a canonical id', { ArgumentName: 'AmazonCustomerByEmail/EmailAddress', ArgumentValue: value });
    default:
      throw new S3Error('InvalidArgument', `Invalid grantee type ${type}`, { ArgumentName: 'Grantee', ArgumentValue: type });
  }
}

function checkCount(grants: AclGrant[]): AclGrant[] {
  if (grants.length > MAX_GRANTS) throw new S3Error('MalformedACLError', `An ACL holds at most ${MAX_GRANTS} grants.`);
  return grants;
}

const asList = (v: unknown): unknown[] => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]);
const isElement = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An AccessControlPolicy document (parsed XML) → its grants; an empty list revokes all. */
export async function aclFromPolicy(doc: Record<string, unknown>, resolve: KeyResolver): Promise<StoredAcl> {
  const policy = doc['AccessControlPolicy'];
  const list = isElement(policy) ? policy['AccessControlList'] : undefined;
  // an empty <AccessControlList/> parses as ''
  if (list === undefined || (list !== '' && !isElement(list))) throw new S3Error('MalformedACLError');
  const grants: AclGrant[] = [];
  for (const g of asList(isElement(list) ? list['Grant'] : undefined)) {
    const grantee = isElement(g) ? g['Grantee'] : undefined;
    const permission = isElement(g) ? g['Permission'] : undefined;
    if (!isElement(grantee) || typeof permission !== 'string' || !PERMISSIONS.has(permission)) throw new S3Error('MalformedACLError');
    const fields = (['ID', 'URI', 'EmailAddress'] as const).filter((f) => typeof grantee[f] === 'string');
    if (fields.length !== 1) throw new S3Error('MalformedACLError');
    const field = fields[0]!;
    const type = field === 'ID' ? 'id' : field === 'URI' ? 'uri' : 'emailAddress';
    grants.push({ grantee: await granteeOf(type, (grantee[field] as string).trim(), resolve), permission: permission as AclPermission });
  }
  return { grants: checkCount(grants) };
}
