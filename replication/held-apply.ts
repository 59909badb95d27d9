/**
 * Applying a version whose bytes were pushed to this region before the version was committed
 * (a bucket with a regions list, replication/placement.ts): the version is stored with this
 * region's own blob as its body, so it is served here at once and from here on. The same
 * version may already have arrived through normal replication, naming the region that
 * committed it as the holder of its bytes: its body is then switched to the local blob.
 * Idempotent, like every apply.
 */
import type { ReplicatedVersion } from '../metadata/changes.js';
import { fromReplicated } from '../metadata/changes.js';
import { carryOut, factsFor } from '../metadata/key-merge.js';
import type { KvStore } from '../metadata/kv.js';
import { planVersion } from '../metadata/merge.js';
import type { Hlc, ObjectVersion } from '../metadata/types.js';
import { parseVersionId } from '../metadata/version-id.js';
import { adoptRegisters } from '../metadata/version-registers.js';
import { findVersion, rewriteVersion, storeVersion } from '../metadata/version-store.js';
import { bucketMatches } from './apply.js';

/** a blob on one of this region's nodes */
export interface HeldBlob {
  blobId: string;
  node: string;
}

/**
 * Stores `rv` here with `blob` as its body (no blob: the version's own body, an empty object).
 * NotReadyError while the bucket has not arrived; nothing happens for a bucket deleted since.
 */
export async function applyHeldVersion(kv: KvStore, bucketCreatedAt: number, rv: ReplicatedVersion, blob: HeldBlob | undefined, observe?: (hlc: Hlc) => void): Promise<void> {
  const v: ObjectVersion = fromReplicated(rv);
  if (blob) v.body = { kind: 'blob', blobId: blob.blobId, node: blob.node };
  await kv.transact(async (tx) => {
    if (!(await bucketMatches(tx, v.bucket, bucketCreatedAt))) return;
    const plan = planVersion(await factsFor(tx, v.bucket, v.key, v.versionId), { id: v.versionId, isNull: !!v.isNull, erase: false });
    await carryOut(tx, v.bucket, v.key, plan);
    if (plan.store) {
      await adoptRegisters(tx, v, bucketCreatedAt);
      await storeVersion(tx, v);
      return;
    }
    // already here through replication, pointing at another region: hold the bytes here
    const known = await findVersion(tx, v.bucket, v.key, v.versionId);
    if (!blob || known?.version.body?.kind !== 'remote') return;
    const held = { ...known.version, body: v.body };
    await storeVersion(tx, held);
    await rewriteVersion(tx, held);
  });
  const parsed = parseVersionId(v.versionId);
  if (parsed && observe) observe(parsed.hlc);
}
