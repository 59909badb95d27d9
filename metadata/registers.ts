/**
 * Last-writer-wins registers: a value and the stamp of the write that set it, so a late,
 * older write from another region loses (metadata/merge.ts takesRegister). Rows:
 *
 *   ('vr', bucket, key, versionId, name) → { s: stamp, v: value }  a version's tags or ACL
 *                                           (version-store.ts keeps the key; cleared with the version)
 *   ('br', bucket, name)                 → stamp  the last write of a bucket setting (bucket-config.ts
 *                                           kinds, or 'versioning'); kept when the setting is removed
 *   ('ks', accessKeyId)                  → stamp  the last write of an access key; kept after its
 *                                           deletion, as its tombstone
 *
 * The values of bucket settings and access keys stay in their own records ('bc', 'b', 'k');
 * only their stamps live here.
 */
import type { KvReader, KvTransaction } from './kv.js';
import { takesRegister } from './merge.js';
import { decode, encode } from './records.js';
import { pack } from './tuple.js';
import { kVersionRegister } from './version-store.js';

export const kBucketStamp = (bucket: string, name: string) => pack(['br', bucket, name]);
export const kKeyStamp = (accessKeyId: string) => pack(['ks', accessKeyId]);

export interface StoredRegister {
  /** stamp */
  s: string;
  /** value */
  v: unknown;
}

export async function readVersionRegister(tx: KvReader, bucket: string, key: string, vid: string, name: string): Promise<StoredRegister | undefined> {
  const raw = await tx.get(kVersionRegister(bucket, key, vid, name));
  return raw && decode<StoredRegister>(raw);
}

export function writeVersionRegister(tx: KvTransaction, bucket: string, key: string, vid: string, name: string, reg: StoredRegister): void {
  tx.set(kVersionRegister(bucket, key, vid, name), encode(reg));
}

export async function readStamp(tx: KvReader, key: Uint8Array): Promise<string | undefined> {
  const raw = await tx.get(key);
  return raw && decode<string>(raw);
}

/**
 * In `tx`: records `stamp` at `key` when it is newer than the stamp there, and says so (the
 * caller then writes the value); false: the write is older than what is known, and changes nothing.
 */
export async function claimStamp(tx: KvTransaction, key: Uint8Array, stamp: string): Promise<boolean> {
  if (!takesRegister(await readStamp(tx, key), stamp)) return false;
  tx.set(key, encode(stamp));
  return true;
}
