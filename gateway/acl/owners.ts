import { canonicalId } from '../../metadata/acl.js';
import type { Services } from '../context.js';

/**
 * How S3 documents name a key (ListBuckets and listing Owner, Initiator, ACLs): its canonical
 * id (metadata/acl.ts) and, as DisplayName, the key's name, else its access key id.
 */
export interface OwnerXml {
  ID: string;
  DisplayName: string;
}

export function ownerXml(accessKeyId: string, name?: string): OwnerXml {
  return { ID: canonicalId(accessKeyId), DisplayName: name ?? accessKeyId };
}

/** One request's owner names: each key's record is read once, however often it is named. */
export type OwnerNames = (accessKeyId: string) => Promise<OwnerXml>;

export function ownerNames(svc: Services): OwnerNames {
  const seen = new Map<string, Promise<OwnerXml>>();
  return (id) => {
    let found = seen.get(id);
    if (!found) {
      // a deleted key is still named, by its id
      found = svc.layer.getAccessKey(id).then((k) => ownerXml(id, k?.name));
      seen.set(id, found);
    }
    return found;
  };
}

/** the Owner element of each distinct id, for rendering a page synchronously */
export async function ownersOf(names: OwnerNames, ids: Iterable<string>): Promise<Map<string, OwnerXml>> {
  const distinct = [...new Set(ids)];
  const owners = await Promise.all(distinct.map(names));
  return new Map(distinct.map((id, i) => [id, owners[i]!]));
}
