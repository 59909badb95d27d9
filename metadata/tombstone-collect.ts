/**
 * Collecting tombstones under the horizon (tombstone-horizon.ts says why that is safe):
 *
 *   ('t', bucket, key, id)  a version deleted for good, older than the horizon;
 *   ('nv', bucket, key)     a null mark naming no stored version (an unversioned DELETE, or a
 *                           null version since deleted for good), older than the horizon;
 *   ('bx', bucket)          a deleted bucket's gone marker whose incarnation was created and
 *                           deleted before the horizon (bucket-drop.ts says why that is safe),
 *                           its records all cleared. A marker stored without its deletion time
 *                           is given `nowMs` as one (the deletion happened before now) and goes
 *                           once the horizon passes that.
 *
 * The horizon is raised first, in its own transaction; then both subspaces are walked a page
 * per transaction (bounded, as on FDB), so the collection never holds the whole index.
 */
import type { KvStore } from './kv.js';
import { decodeGone, encodeGone, isDropping, kBucketGone } from './bucket-drop.js';
import { decode } from './records.js';
import { keyAfter, pack, subspaceRange, unpack } from './tuple.js';
import { belowHorizon, raiseHorizon } from './tombstone-horizon.js';

export interface Collected {
  /** the horizon in force (it may have been later than the one asked for) */
  horizon: number;
  tombstones: number;
  nullMarks: number;
  /** gone markers of deleted buckets */
  bucketMarks: number;
  /** what was left: tombstones, null marks naming no stored version, gone markers, at or above the horizon */
  kept: { tombstones: number; nullMarks: number; bucketMarks: number };
}

export const COLLECT_PAGE = 500;

/** `nowMs`: the region's clock, given to gone markers stored without a deletion time (none given: they stay) */
export async function collectTombstones(kv: KvStore, horizonMs: number, page = COLLECT_PAGE, nowMs?: number): Promise<Collected> {
  const horizon = await kv.transact((tx) => raiseHorizon(tx, horizonMs));
  const out: Collected = { horizon, tombstones: 0, nullMarks: 0, bucketMarks: 0, kept: { tombstones: 0, nullMarks: 0, bucketMarks: 0 } };
  for (const space of ['t', 'nv'] as const) {
    const r = subspaceRange([space]);
    let begin = r.begin;
    for (;;) {
      const { n, kept, next } = await kv.transact(async (tx) => {
        const rows = await tx.getRange(begin, r.end, { limit: page });
        let n = 0;
        let kept = 0;
        for (const row of rows) {
          const t = unpack(row.key) as string[];
          if (space === 't') {
            if (!belowHorizon(t[3]!, horizon)) {
              kept++;
              continue;
            }
          } else {
            const mark = decode<string>(row.value);
            // a mark naming a stored version is that version's pointer, not a tombstone
            if ((await tx.get(pack(['v', t[1]!, t[2]!, mark]))) !== undefined) continue;
            if (!belowHorizon(mark, horizon)) {
              kept++;
              continue;
            }
          }
          tx.clear(row.key);
          n++;
        }
        return { n, kept, next: rows.length < page ? undefined : keyAfter(rows[rows.length - 1]!.key) };
      });
      if (space === 't') {
        out.tombstones += n;
        out.kept.tombstones += kept;
      } else {
        out.nullMarks += n;
        out.kept.nullMarks += kept;
      }
      if (!next) break;
      begin = next;
    }
  }
  const marks = await collectGoneMarkers(kv, horizon, page, nowMs);
  out.bucketMarks = marks.n;
  out.kept.bucketMarks = marks.kept;
  return out;
}

async function collectGoneMarkers(kv: KvStore, horizon: number, page: number, nowMs: number | undefined): Promise<{ n: number; kept: number }> {
  const r = subspaceRange(['bx']);
  const out = { n: 0, kept: 0 };
  let begin = r.begin;
  for (;;) {
    const next = await kv.transact(async (tx) => {
      const rows = await tx.getRange(begin, r.end, { limit: page });
      for (const row of rows) {
        const bucket = unpack(row.key)[1] as string;
        const m = decodeGone(row.value);
        if (!m.deletedAt && nowMs !== undefined) tx.set(kBucketGone(bucket), encodeGone({ ...m, deletedAt: { wall: nowMs, logical: 0 } }));
        // a drop still under way keeps its marker: no bucket of the name may be created meanwhile
        if (!m.deletedAt || m.deletedAt.wall >= horizon || m.createdAt >= horizon || (await isDropping(tx, bucket))) out.kept++;
        else {
          tx.clear(row.key);
          out.n++;
        }
      }
      return rows.length < page ? undefined : keyAfter(rows[rows.length - 1]!.key);
    });
    if (!next) return out;
    begin = next;
  }
}

/** how many gone markers of deleted buckets a region holds (tests, status) */
export async function countGoneMarkers(kv: KvStore): Promise<number> {
  const r = subspaceRange(['bx']);
  let n = 0;
  let begin = r.begin;
  for (;;) {
    const rows = await kv.read((tx) => tx.getRange(begin, r.end, { limit: 5000 }));
    n += rows.length;
    if (rows.length < 5000) return n;
    begin = keyAfter(rows[rows.length - 1]!.key);
  }
}

/** how many tombstones and null marks naming no stored version a region holds (tests, status) */
export async function countTombstones(kv: KvStore, page = 5000): Promise<{ tombstones: number; erasedMarks: number }> {
  const out = { tombstones: 0, erasedMarks: 0 };
  for (const space of ['t', 'nv'] as const) {
    const r = subspaceRange([space]);
    let begin = r.begin;
    for (;;) {
      const { n, next } = await kv.read(async (tx) => {
        const rows = await tx.getRange(begin, r.end, { limit: page });
        let n = 0;
        for (const row of rows) {
          if (space === 't') n++;
          else {
            const t = unpack(row.key) as string[];
            if ((await tx.get(pack(['v', t[1]!, t[2]!, decode<string>(row.value)]))) === undefined) n++;
          }
        }
        return { n, next: rows.length < page ? undefined : keyAfter(rows[rows.length - 1]!.key) };
      });
      if (space === 't') out.tombstones += n;
      else out.erasedMarks += n;
      if (!next) break;
      begin = next;
    }
  }
  return out;
}
