import type { AclGrant } from '../../metadata/acl.js';
import { ALL_USERS_URI, AUTHENTICATED_USERS_URI } from './parse.js';
import type { OwnerNames } from './owners.js';

/** GetBucketAcl / GetObjectAcl: the AccessControlPolicy document, keys named by canonical id and name. */

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';

async function granteeXml(g: AclGrant, names: OwnerNames): Promise<Record<string, unknown>> {
  const xsi = { '@_xmlns:xsi': XSI };
  switch (g.grantee.kind) {
    case 'AllUsers':
      return { ...xsi, '@_xsi:type': 'Group', URI: ALL_USERS_URI };
    case 'AuthenticatedUsers':
      return { ...xsi, '@_xsi:type': 'Group', URI: AUTHENTICATED_USERS_URI };
    case 'Key':
      return { ...xsi, '@_xsi:type': 'CanonicalUser', ...(await names(g.grantee.accessKeyId)) };
  }
}

/** `owner` is the resource's owner (access key id); grants are listed in the order stored */
export async function aclPolicyXml(owner: string, grants: readonly AclGrant[], names: OwnerNames): Promise<Record<string, unknown>> {
  const rendered = await Promise.all(grants.map(async (g) => ({ Grantee: await granteeXml(g, names), Permission: g.permission })));
  return { Owner: await names(owner), AccessControlList: rendered.length ? { Grant: rendered } : '' };
}
