/**
 * Where the tombstone horizon comes from. Each region knows, per destination, its outbox
 * low-water mark: a time before which every change it committed has been applied there —
 * the time of its oldest entry still pending for that destination, or, with none pending,
 * its clock less `inflightMs` (a transaction that took its time before that and has not
 * committed yet would otherwise slip under the mark; a transaction lives ≤ 5 s). Marks only
 * grow: an entry committed later carries a later time. A region asks every other for its
 * marks; the minimum over every pair of regions is a time before which every change anywhere
 * has been applied everywhere. Less a grace period (the window in which `erne replication
 * repair` can still bring back what a LOST message left out: the horizon refuses older
 * versions), it is the horizon (metadata/tombstone-horizon.ts). If any region does not answer,
 * nothing is collected.
 */
import type { KvStore } from '../../metadata/kv.js';
import type { Collected } from '../../metadata/tombstone-collect.js';
import { collectTombstones } from '../../metadata/tombstone-collect.js';

/** per destination region: wall ms before which everything sent there was applied */
export type LowWaterMarks = Record<string, number>;

export interface MarkSource {
  /** ids of up to `limit` entries pending for `dest`, oldest first */
  pendingIds(dest: string, after: string | undefined, limit: number): Promise<string[]>;
}

export const DEFAULT_INFLIGHT_MS = 30_000;

/** the wall ms an outbox id starts with (metadata/outbox.ts outboxId) */
export function outboxIdWall(id: string): number {
  return parseInt(id.slice(0, 12), 16);
}

export async function lowWaterMarks(outbox: MarkSource, dests: readonly string[], nowMs: number, inflightMs: number): Promise<LowWaterMarks> {
  const out: LowWaterMarks = {};
  for (const d of dests) {
    const [first] = await outbox.pendingIds(d, undefined, 1);
    const floor = nowMs - inflightMs;
    out[d] = first === undefined ? floor : Math.min(floor, outboxIdWall(first));
  }
  return out;
}

/**
 * The minimum over every ordered pair of regions, or undefined when some region's marks are
 * missing (it did not answer) or lack a destination.
 */
export function globalMark(regions: readonly string[], marks: Map<string, LowWaterMarks | undefined>): number | undefined {
  let min = Infinity;
  for (const from of regions) {
    const m = marks.get(from);
    if (!m) return undefined;
    for (const to of regions) {
      if (to === from) continue;
      const v = m[to];
      if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
      min = Math.min(min, v);
    }
  }
  return min === Infinity ? undefined : min;
}

export interface CollectRound {
  /** undefined: some region did not answer; nothing was collected */
  horizon?: number;
  collected?: Collected;
  missing: string[];
}

/** one collection: every region's marks (`ask` a peer's; undefined when it cannot be reached), then the collection here */
export async function collectRound(o: {
  kv: KvStore;
  self: string;
  regions: readonly string[];
  own: () => Promise<LowWaterMarks>;
  ask: (region: string) => Promise<LowWaterMarks | undefined>;
  graceMs: number;
  /** the region's clock (wall ms): gives a deletion time to gone markers stored without one */
  now?: () => number;
}): Promise<CollectRound> {
  const marks = new Map<string, LowWaterMarks | undefined>();
  marks.set(o.self, await o.own());
  await Promise.all(o.regions.filter((r) => r !== o.self).map(async (r) => marks.set(r, await o.ask(r).catch(() => undefined))));
  const missing = o.regions.filter((r) => !marks.get(r));
  const g = globalMark(o.regions, marks);
  if (g === undefined) return { missing };
  const collected = await collectTombstones(o.kv, g - o.graceMs, undefined, o.now?.());
  return { horizon: collected.horizon, collected, missing };
}
