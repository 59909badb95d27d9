/**
 * Applying changes from another region to this region's metadata: the merge's plan
 * (metadata/merge.ts) carried out in one KV transaction per batch, through the same steps a
 * local write takes (metadata/key-merge.ts, version-registers.ts, bucket-registers.ts,
 * access-keys.ts). Idempotent and order-free: a duplicate, a replay or a change older than
 * what its target already has changes nothing it should not. The region's clock moves past
 * every remote time it sees, so its next write sorts after what it has just learnt.
 *
 * Buckets: an object or setting change names the incarnation of its bucket (its creation
 * time). It applies to that incarnation, waits (NotReadyError) while the incarnation has not
 * arrived, and is dropped when the incarnation is gone (deleted, or replaced by a newer one).
 * An incarnation created before the tombstone horizon that this region does not hold is gone
 * too, marker or not: its creation reached every region before the horizon, so not holding it
 * means it was deleted here (this is what lets gone markers be collected: bucket-drop.ts).
 */
import { applyAccessKey } from '../metadata/access-keys.js';
import { dropBucketBatch, finishDrop, goneUpTo, isDropping, markBucketGone } from '../metadata/bucket-drop.js';
import { readHorizon } from '../metadata/tombstone-horizon.js';
import { applyBucketRegister } from '../metadata/bucket-registers.js';
import { clearClosing } from '../metadata/bucket-closing.js';
import type { Change, ReplicatedVersion } from '../metadata/changes.js';
import { fromReplicated, stampOf } from '../metadata/changes.js';
import { carryOut, factsFor } from '../metadata/key-merge.js';
import type { KvReader, KvStore, KvTransaction } from '../metadata/kv.js';
import { planPurge, planVersion } from '../metadata/merge.js';
import { decodeBucket, encodeBucket } from '../metadata/records.js';
import type { BucketRecord, Hlc } from '../metadata/types.js';
import { parseVersionId } from '../metadata/version-id.js';
import { adoptRegisters, applyVersionRegister } from '../metadata/version-registers.js';
import { kBucket, storeVersion } from '../metadata/version-store.js';

/** why a change cannot be applied yet: the sender retries it later */
export class NotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotReadyError';
  }
}

export interface ApplyOptions {
  /** the region's clock: told of every remote time (ObjectLayer.observeClock) */
  observe?: (hlc: Hlc) => void;
}

/**
 * Applies a batch in one transaction (the caller keeps batches small). A change that must
 * wait does not hold back the others: they commit, then NotReadyError names what waits, and
 * the sender retries the batch (what was applied is a no-op the second time).
 */
export async function applyChanges(kv: KvStore, changes: Change[], opts: ApplyOptions = {}): Promise<void> {
  const { drops, waiting } = await kv.transact(async (tx) => {
    const drops = new Set<string>();
    const waiting: NotReadyError[] = [];
    for (const c of changes) {
      try {
        if (await applyOne(tx, c)) drops.add((c as Extract<Change, { kind: 'bucket-deleted' }>).name);
      } catch (e) {
        if (!(e instanceof NotReadyError)) throw e;
        waiting.push(e);
      }
    }
    return { drops, waiting };
  });
  // a deleted bucket's records go in bounded transactions after the one that deleted it (a
  // crash in between leaves the drop marker, and the janitor finishes)
  for (const name of drops) await finishDrop(kv, name);
  if (opts.observe) for (const c of changes) observeStamp(c, opts.observe);
  if (waiting.length > 0) throw new NotReadyError(waiting.map((e) => e.message).join('; '));
}

function observeStamp(c: Change, observe: (hlc: Hlc) => void): void {
  const parsed = parseVersionId(stampOf(c));
  if (parsed) observe(parsed.hlc);
}

/** true: a bucket was deleted and more of its records remain to clear */
async function applyOne(tx: KvTransaction, c: Change): Promise<boolean> {
  switch (c.kind) {
    case 'version':
      if (await bucketMatches(tx, c.version.bucket, c.bucketCreatedAt)) await applyVersion(tx, c.version, c.bucketCreatedAt, !!c.erase);
      return false;
    case 'purge':
      if (await bucketMatches(tx, c.bucket, c.bucketCreatedAt)) await carryOut(tx, c.bucket, c.key, planPurge(await factsFor(tx, c.bucket, c.key, c.versionId), c.versionId));
      return false;
    case 'version-register':
      if (await bucketMatches(tx, c.bucket, c.bucketCreatedAt)) await applyVersionRegister(tx, c);
      return false;
    case 'bucket-register':
      if (await bucketMatches(tx, c.bucket, c.bucketCreatedAt)) await applyBucketRegister(tx, c);
      return false;
    case 'access-key':
      await applyAccessKey(tx, c);
      return false;
    case 'bucket-created':
      await applyBucketCreated(tx, c.record);
      return false;
    case 'bucket-deleted':
      return applyBucketDeleted(tx, c.name, c.createdAt, parseVersionId(c.stamp)?.hlc);
    default:
      throw new NotReadyError(`change kind ${(c as Change).kind} is not applied by this version of Erne`);
  }
}

/** false: the change belongs to a bucket deleted since (drop it); throws while the bucket has not arrived */
export async function bucketMatches(tx: KvReader, bucket: string, createdAt: number): Promise<boolean> {
  const local = await localCreatedAt(tx, bucket);
  if (local === createdAt) return true;
  const gone = await goneUpTo(tx, bucket);
  if (gone !== undefined && gone >= createdAt) return false;
  if (await underHorizon(tx, createdAt)) return false;
  if (local === undefined || local < createdAt) throw new NotReadyError(`bucket ${bucket} (created ${createdAt}) has not reached this region yet`);
  return false;
}

/** an incarnation created before the horizon reached every region (see the head comment) */
async function underHorizon(tx: KvReader, createdAt: number): Promise<boolean> {
  const h = await readHorizon(tx);
  return h !== undefined && createdAt < h;
}

async function localCreatedAt(tx: KvReader, bucket: string): Promise<number | undefined> {
  const raw = await tx.get(kBucket(bucket));
  return raw && decodeBucket(raw).createdAt;
}

async function applyVersion(tx: KvTransaction, rv: ReplicatedVersion, bucketCreatedAt: number, erase: boolean): Promise<void> {
  const plan = planVersion(await factsFor(tx, rv.bucket, rv.key, rv.versionId), { id: rv.versionId, isNull: !!rv.isNull, erase });
  await carryOut(tx, rv.bucket, rv.key, plan);
  if (!plan.store) return;
  const v = fromReplicated(rv);
  await adoptRegisters(tx, v, bucketCreatedAt);
  await storeVersion(tx, v);
}

/**
 * A bucket the control region made: created here unless this incarnation (or a newer one) is
 * known; an older incarnation still here, or still being cleared, must go first.
 */
async function applyBucketCreated(tx: KvTransaction, rec: BucketRecord): Promise<void> {
  const local = await localCreatedAt(tx, rec.name);
  const gone = await goneUpTo(tx, rec.name);
  if (local === rec.createdAt || (local !== undefined && local > rec.createdAt)) return;
  if (gone !== undefined && gone >= rec.createdAt) return;
  // a late copy of a creation this region applied, and deleted since (its marker collected)
  if (local === undefined && (await underHorizon(tx, rec.createdAt))) return;
  if (local !== undefined || (await isDropping(tx, rec.name))) {
    throw new NotReadyError(`bucket ${rec.name}: an older bucket of that name is still here; its deletion has not arrived`);
  }
  tx.set(kBucket(rec.name), encodeBucket(rec));
}

/**
 * The incarnation created at `createdAt` was deleted (so was any older one still here): its
 * record goes now, its other records in bounded batches (bucket-drop.ts). True: more remain.
 */
async function applyBucketDeleted(tx: KvTransaction, name: string, createdAt: number, deletedAt: Hlc | undefined): Promise<boolean> {
  const local = await localCreatedAt(tx, name);
  // a late copy of a deletion done here whose marker was collected: nothing to mark again
  if ((local === undefined || local > createdAt) && (await goneUpTo(tx, name)) === undefined && (await underHorizon(tx, createdAt))) return false;
  await markBucketGone(tx, name, createdAt, deletedAt);
  if (local === undefined || local > createdAt) return false;
  tx.clear(kBucket(name));
  clearClosing(tx, name);
  return dropBucketBatch(tx, name);
}
