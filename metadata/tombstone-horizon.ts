/**
 * The tombstone horizon: one row per region, ('th') → wall ms H. Every change committed
 * anywhere with a time before H has been applied by every region (replication/repair/horizon.ts
 * computes it from the outbox low-water marks of all regions, less a grace period), so a copy
 * of a version older than H that arrives now is a late duplicate: the region already had it,
 * and if it no longer does, the version was deleted for good or replaced. H therefore stands
 * for every tombstone older than it, and those are collected (tombstone-collect.ts).
 *
 * Why a late copy cannot resurrect a collected version: a tombstone for version X is removed
 * only once X's time is below H, and H is raised (in its own committed transaction) BEFORE any
 * tombstone under it is removed. From then on the merge treats every version older than H that
 * is not stored as tombstoned (key-merge.ts factsFor), so a late copy of X — a delayed
 * duplicate of its apply request, a retry, a repair from a region that has not yet applied the
 * purge — is refused exactly as the tombstone would have refused it. H only grows.
 */
import type { KvReader, KvTransaction } from './kv.js';
import { decode, encode } from './records.js';
import { pack } from './tuple.js';
import { parseVersionId } from './version-id.js';

export const kHorizon = pack(['th']);

export async function readHorizon(tx: KvReader): Promise<number | undefined> {
  const raw = await tx.get(kHorizon);
  return raw && decode<number>(raw);
}

/** in `tx`: the horizon becomes `ms` unless it is already later; returns the horizon in force */
export async function raiseHorizon(tx: KvTransaction, ms: number): Promise<number> {
  const cur = await readHorizon(tx);
  if (cur !== undefined && cur >= ms) return cur;
  tx.set(kHorizon, encode(ms));
  return ms;
}

/** true when version id `id` is older than the horizon (an id that does not parse never is) */
export function belowHorizon(id: string, horizon: number | undefined): boolean {
  if (horizon === undefined) return false;
  const p = parseVersionId(id);
  return p !== undefined && p.hlc.wall < horizon;
}
