/**
 * The one rule for which version of a key is current, and how version ids look to S3 clients.
 *
 * Versions of a key are ordered newest first by (HLC, region), greatest first — the same order
 * as their version-id strings (metadata/version-id.ts), which is why a range read over a key's
 * versions meets the current one first. The current version is the greatest; it may be a
 * delete marker, in which case the key reads as absent. Multi-region replication applies the
 * same rule, so every region agrees whatever order versions arrive in.
 */
import { compareHlc } from './hlc.js';
import type { Hlc, ObjectVersion } from './types.js';

export interface Ordered {
  hlc: Hlc;
  region: string;
}

/** < 0 when a is newer than b (sorts first), 0 when the same (HLC, region) */
export function newestFirst(a: Ordered, b: Ordered): number {
  const c = compareHlc(b.hlc, a.hlc);
  if (c !== 0) return c;
  // region bytes, greater first (as the inverted bytes of the id)
  return Buffer.compare(Buffer.from(b.region, 'utf8'), Buffer.from(a.region, 'utf8'));
}

/** the current version among some versions of one key (undefined for none) */
export function currentOf<T extends Ordered>(versions: Iterable<T>): T | undefined {
  let best: T | undefined;
  for (const v of versions) if (best === undefined || newestFirst(v, best) < 0) best = v;
  return best;
}

/** what the current-version index ('c') holds for a key whose newest version is `newest` */
export function indexEntryFor<T extends { deleteMarker: boolean }>(newest: T | undefined): T | undefined {
  return newest && !newest.deleteMarker ? newest : undefined;
}

/** the version id S3 clients see: 'null' for the null version */
export function s3VersionId(v: Pick<ObjectVersion, 'versionId' | 'isNull'>): string {
  return v.isNull ? 'null' : v.versionId;
}
