/**
 * A listing of a shadow bucket: this bucket's page and the source's page, merged by name (what
 * is here wins on the same key). Each side is read one page of max-keys, so memory stays
 * bounded; when a side was cut short, nothing beyond its last name is given (the other side's
 * names there may interleave with names of its next page), and the continuation token is the
 * last name given, as for a listing of this bucket alone.
 */
import type { ObjectVersion } from '../../metadata/types.js';
import type { ShadowSource } from './source.js';

/** what a listing entry needs from a version (rendered by gateway/ops/list.ts) */
export type Listed = Pick<ObjectVersion, 'key' | 'lastModified' | 'etag' | 'size' | 'checksums' | 'owner'>;

export interface MergedPage {
  contents: Listed[];
  commonPrefixes: string[];
  isTruncated: boolean;
  last?: string;
}

export interface Side {
  contents: Listed[];
  commonPrefixes: string[];
  isTruncated: boolean;
}

type Entry = { name: string; item?: Listed; here: boolean };

function byName(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function entries(side: Side, here: boolean): Entry[] {
  return [...side.contents.map((item) => ({ name: item.key, item, here })), ...side.commonPrefixes.map((name) => ({ name, here }))];
}

/** pure: two pages (each sorted, each names > after) merged into one page of at most maxKeys */
export function mergePages(here: Side, source: Side, maxKeys: number): MergedPage {
  const all = [...entries(here, true), ...entries(source, false)].sort((a, b) => byName(a.name, b.name) || (a.here ? -1 : 1));
  // beyond the last name of a side that was cut short, that side's next page may hold names
  const bounds = [here, source].filter((s) => s.isTruncated).map((s) => entries(s, true).map((e) => e.name).sort(byName).pop()).filter((n): n is string => n !== undefined);
  const bound = bounds.sort(byName)[0];
  const out: MergedPage = { contents: [], commonPrefixes: [], isTruncated: false };
  let taken = 0;
  let lastName: string | undefined;
  for (const e of all) {
    if (e.name === lastName) continue; // the same name on both sides: here's came first
    if (bound !== undefined && byName(e.name, bound) > 0) {
      out.isTruncated = true;
      break;
    }
    if (taken === maxKeys) {
      out.isTruncated = true;
      break;
    }
    if (e.item) out.contents.push(e.item);
    else out.commonPrefixes.push(e.name);
    lastName = e.name;
    taken++;
  }
  // a side cut short at exactly the bound still has more after it
  if (!out.isTruncated && bound !== undefined) out.isTruncated = true;
  if (lastName !== undefined) out.last = lastName;
  return out;
}

/**
 * The source's page of names after `after`: S3 servers differ on whether start-after skips a
 * common prefix equal to it, so names not after it are dropped and, when that left nothing of
 * a page cut short, the next page is read.
 */
export async function sourcePage(source: ShadowSource, q: { prefix?: string; delimiter?: string; after?: string; maxKeys: number }, owner: string): Promise<Side> {
  let token: string | undefined;
  for (;;) {
    const page = await source.list({
      maxKeys: q.maxKeys,
      ...(q.prefix ? { prefix: q.prefix } : {}),
      ...(q.delimiter ? { delimiter: q.delimiter } : {}),
      ...(token ? { continuationToken: token } : q.after ? { startAfter: q.after } : {}),
    });
    const after = (name: string) => q.after === undefined || byName(name, q.after) > 0;
    const side: Side = {
      contents: page.contents.filter((c) => after(c.key)).map((c) => ({ key: c.key, lastModified: c.lastModified, etag: c.etag, size: c.size, checksums: {}, owner })),
      commonPrefixes: page.commonPrefixes.filter(after),
      isTruncated: page.isTruncated,
    };
    if (side.contents.length + side.commonPrefixes.length > 0 || !page.isTruncated || !page.nextContinuationToken) return side;
    token = page.nextContinuationToken;
  }
}
