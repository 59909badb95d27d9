/**
 * Where a bucket's bytes live and who serves it (issue 11), stored as the bucket config
 * document of kind LOCATIONS_KIND (replicated like every bucket config register):
 *
 *   global            metadata everywhere, bytes where written, pulled and cached on read (default)
 *   regions iad,fra   a PUT is acknowledged once bytes and version are durable in every listed
 *                     region; other regions stream the bytes from a listed one without storing them
 *   home fra          every request, in any region, is served by the home region (forwarded)
 *
 * Text form, as users write it (`--locations`, `X-Tigris-Regions`, `x-erne-regions`):
 * `global`, `iad,fra` (one or more regions), `home:fra`. The kind CONSISTENT_KIND holds `true`
 * when the bucket is strongly consistent by default (as if every request sent
 * `X-Tigris-Consistent: true`).
 */
export type BucketLocations =
  | { type: 'global' }
  | { type: 'regions'; regions: string[] }
  | { type: 'home'; region: string };

export const LOCATIONS_KIND = 'locations';
export const CONSISTENT_KIND = 'consistent';

export const GLOBAL: BucketLocations = { type: 'global' };

const REGION = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Parses the text form; `known` (the cluster's regions) refuses a region the cluster has not.
 * Returns an error message (a sentence naming the bad part) instead of throwing.
 */
export function parseLocations(text: string, known?: readonly string[]): BucketLocations | { error: string } {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'global') return GLOBAL;
  const check = (r: string): string | undefined => {
    if (!REGION.test(r)) return `"${r}" is not a region name`;
    if (known && !known.includes(r)) return `region "${r}" is not one of this cluster's regions (${known.join(', ')})`;
    return undefined;
  };
  if (t.startsWith('home:')) {
    const region = t.slice(5).trim();
    const bad = check(region);
    return bad ? { error: bad } : { type: 'home', region };
  }
  const regions = [...new Set(t.split(',').map((r) => r.trim()).filter((r) => r !== ''))];
  if (regions.length === 0) return { error: `"${text}" names no region` };
  for (const r of regions) {
    const bad = check(r);
    if (bad) return { error: bad };
  }
  return { type: 'regions', regions: regions.sort() };
}

export function formatLocations(l: BucketLocations): string {
  switch (l.type) {
    case 'global':
      return 'global';
    case 'regions':
      return l.regions.join(',');
    case 'home':
      return `home:${l.region}`;
  }
}

/** a stored setting (its text form, or the value itself), global when none or unreadable */
export function storedLocations(doc: unknown): BucketLocations {
  if (typeof doc === 'string') {
    const parsed = parseLocations(doc);
    return 'error' in parsed ? GLOBAL : parsed;
  }
  if (doc && typeof doc === 'object' && typeof (doc as { type?: unknown }).type === 'string') return doc as BucketLocations;
  return GLOBAL;
}
