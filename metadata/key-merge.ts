/**
 * The merge (merge.ts) carried out on one key inside a KV transaction: the facts a plan needs
 * are read here and its steps written here, for local writes and replicated ones alike, so a
 * region applies exactly what the region that wrote did.
 */
import type { KvReader, KvTransaction } from './kv.js';
import type { KeyFacts, Plan } from './merge.js';
import { encode } from './records.js';
import { belowHorizon, readHorizon } from './tombstone-horizon.js';
import { clearVersionRegisters, findVersion, kNull, kTombstone, kVersion, nullMarkOf, removeVersion } from './version-store.js';

/** the merge's facts about one key, read for the ids a plan about `id` can name */
export async function factsFor(tx: KvReader, bucket: string, key: string, id: string): Promise<KeyFacts> {
  const nullMark = await nullMarkOf(tx, bucket, key);
  const ids = nullMark === undefined || nullMark === id ? [id] : [id, nullMark];
  const stored = new Set<string>();
  for (const x of ids) if ((await tx.get(kVersion(bucket, key, x))) !== undefined) stored.add(x);
  // below the tombstone horizon every version not stored counts as deleted for good: its
  // tombstone may have been collected (tombstone-horizon.ts)
  const tomb = (await tx.get(kTombstone(bucket, key, id))) !== undefined || belowHorizon(id, await readHorizon(tx));
  return { stored: (x) => stored.has(x), tombstoned: (x) => x === id && tomb, nullMark };
}

/** everything a plan says except storing the new version (the caller knows how it stores) */
export async function carryOut(tx: KvTransaction, bucket: string, key: string, plan: Plan): Promise<void> {
  if (plan.remove !== undefined) {
    const found = await findVersion(tx, bucket, key, plan.remove);
    if (found) await removeVersion(tx, found.version);
  }
  if (plan.nullMark !== undefined) tx.set(kNull(bucket, key), encode(plan.nullMark));
  if (plan.tombstone !== undefined) {
    tx.set(kTombstone(bucket, key, plan.tombstone), encode(1));
    // registers written to it before it arrived here would wait for nothing
    clearVersionRegisters(tx, bucket, key, plan.tombstone);
  }
}
