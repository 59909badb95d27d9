/**
 * Access keys in the object layer's store, replicated to every region:
 *
 *   ('k', accessKeyId)   → access key record
 *   ('ks', accessKeyId)  → stamp of its last write, kept after a delete (metadata/registers.ts)
 *
 * A write here is stamped after the stamp already stored, so it wins over what this region has
 * seen; a replicated write applies only when its stamp is newer (last writer wins).
 */
import type { Change } from './changes.js';
import type { KvTransaction } from './kv.js';
import { encodeAccessKey } from './records.js';
import type { RegionWriter } from './region-writer.js';
import { claimStamp, kKeyStamp, readStamp } from './registers.js';
import { pack } from './tuple.js';
import type { AccessKeyRecord } from './types.js';

export const kAccessKey = (id: string) => pack(['k', id]);

export async function putAccessKeyIn(tx: KvTransaction, w: RegionWriter, rec: AccessKeyRecord): Promise<void> {
  const stamp = w.stampAfter(await readStamp(tx, kKeyStamp(rec.accessKeyId)));
  await applyAccessKey(tx, { kind: 'access-key', accessKeyId: rec.accessKeyId, record: rec, stamp });
  w.emit(tx, { kind: 'access-key', accessKeyId: rec.accessKeyId, record: rec, stamp });
}

/** false when it did not exist */
export async function deleteAccessKeyIn(tx: KvTransaction, w: RegionWriter, accessKeyId: string): Promise<boolean> {
  if ((await tx.get(kAccessKey(accessKeyId))) === undefined) return false;
  const stamp = w.stampAfter(await readStamp(tx, kKeyStamp(accessKeyId)));
  await applyAccessKey(tx, { kind: 'access-key', accessKeyId, record: null, stamp });
  w.emit(tx, { kind: 'access-key', accessKeyId, record: null, stamp });
  return true;
}

/** a key written anywhere: kept when its stamp is the newest seen for the key */
export async function applyAccessKey(tx: KvTransaction, c: Extract<Change, { kind: 'access-key' }>): Promise<void> {
  if (!(await claimStamp(tx, kKeyStamp(c.accessKeyId), c.stamp))) return;
  if (c.record === null) tx.clear(kAccessKey(c.accessKeyId));
  else tx.set(kAccessKey(c.accessKeyId), encodeAccessKey(c.record));
}
