/**
 * Collecting tombstones under the horizon (tombstone-horizon.ts says why that is safe):
 *
 *   ('t', bucket, key, id)  a version deleted for good, older than the horizon;
 *   ('nv', bucket, key)     a null mark naming no stored version (an unversioned DELETE, or a
 *                           null version since deleted for good), older than the horizon.
 *
 * The horizon is raised first, in its own transaction; then both subspaces are walked a page
 * per transaction (bounded, as on FDB), so the collection never holds the whole index.
 */
import type { KvStore } from './kv.js';
import { decode } from './records.js';
import { keyAfter, pack, subspaceRange, unpack } from './tuple.js';
import { belowHorizon, raiseHorizon } from './tombstone-horizon.js';

export interface Collected {
  /** the horizon in force (it may have been later than the one asked for) */
  horizon: number;
  tombstones: number;
  nullMarks: number;
  /** what was left: tombstones, and null marks naming no stored version, at or above the horizon */
  kept: { tombstones: number; nullMarks: number };
}

export const COLLECT_PAGE = 500;

export async function collectTombstones(kv: KvStore, horizonMs: number, page = COLLECT_PAGE): Promise<Collected> {
  const horizon = await kv.transact((tx) => raiseHorizon(tx, horizonMs));
  const out: Collected = { horizon, tombstones: 0, nullMarks: 0, kept: { tombstones: 0, nullMarks: 0 } };
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
  return out;
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
