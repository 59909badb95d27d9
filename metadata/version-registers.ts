/**
 * A version's registers — its tags and its ACL — written here or in another region: the write
 * with the newest stamp wins everywhere. A version's own id is the stamp of the tags it was
 * written with. A register may arrive before its version (both travel separately): it waits
 * in its row ('vr', metadata/registers.ts) and the version takes it when it arrives.
 */
import type { StoredAcl } from './acl.js';
import type { VersionRegisterChange } from './changes.js';
import type { KvTransaction } from './kv.js';
import { takesRegister } from './merge.js';
import { encode } from './records.js';
import { belowHorizon, readHorizon } from './tombstone-horizon.js';
import { readVersionRegister, writeVersionRegister } from './registers.js';
import type { ObjectVersion } from './types.js';
import { findVersion, kObjectAcl, kTombstone, kVersionRegister, rewriteVersion } from './version-store.js';

const NAMES = ['tags', 'acl'] as const;

/** in `tx`, for the bucket incarnation the caller checked */
export async function applyVersionRegister(tx: KvTransaction, c: VersionRegisterChange): Promise<void> {
  if ((await tx.get(kTombstone(c.bucket, c.key, c.versionId))) !== undefined) return;
  const cur = await readVersionRegister(tx, c.bucket, c.key, c.versionId, c.name);
  const found = await findVersion(tx, c.bucket, c.key, c.versionId);
  // a version below the tombstone horizon that is not here never will be: its register would wait for nothing
  if (!found && belowHorizon(c.versionId, await readHorizon(tx))) return;
  if (!takesRegister(cur?.s ?? found?.version.versionId, c.stamp)) return;
  writeVersionRegister(tx, c.bucket, c.key, c.versionId, c.name, { s: c.stamp, v: c.value });
  if (!found) return;
  if (c.name === 'tags') {
    setTags(found.version, c.value);
    await rewriteVersion(tx, found.version);
  } else setAcl(tx, found.version, c.bucketCreatedAt, c.value);
}

/**
 * In `tx`, for a version about to be stored here: registers written to it before it arrived
 * are taken when newer than the version itself, dropped otherwise.
 */
export async function adoptRegisters(tx: KvTransaction, v: ObjectVersion, bucketCreatedAt: number): Promise<void> {
  for (const name of NAMES) {
    const reg = await readVersionRegister(tx, v.bucket, v.key, v.versionId, name);
    if (!reg) continue;
    if (!takesRegister(v.versionId, reg.s)) tx.clear(kVersionRegister(v.bucket, v.key, v.versionId, name));
    else if (name === 'tags') setTags(v, reg.v as Record<string, string>);
    else setAcl(tx, v, bucketCreatedAt, reg.v as StoredAcl);
  }
}

export function setTags(v: ObjectVersion, tags: Record<string, string>): void {
  if (Object.keys(tags).length > 0) v.tags = tags;
  else delete v.tags;
}

/** the record bucket-config.ts reads ('private' is what no record means) */
function setAcl(tx: KvTransaction, v: ObjectVersion, bucketCreatedAt: number, acl: StoredAcl): void {
  if (acl === 'private') tx.clear(kObjectAcl(v.bucket, v.key, v.versionId));
  else tx.set(kObjectAcl(v.bucket, v.key, v.versionId), encode({ c: bucketCreatedAt, a: acl }));
}
