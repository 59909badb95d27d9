/**
 * The merge of a shadow bucket's listing (gateway/shadow/list-merge.ts), pure: whatever the two
 * sides hold and whatever the page size, paging through merged pages (each side read one page
 * after the last name given) yields every name of either side once, in order, and on a name
 * both hold, this bucket's entry.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergePages, type Listed, type Side } from '../../gateway/shadow/list-merge.js';

const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** one side's listing page after `after`, as a server gives it (names rolled up at the delimiter) */
function pageOf(keys: string[], owner: string, after: string | undefined, maxKeys: number, delimiter: string): Side {
  const names = new Map<string, boolean>();
  for (const k of keys) {
    const i = delimiter ? k.indexOf(delimiter) : -1;
    names.set(i >= 0 ? k.slice(0, i + 1) : k, i >= 0);
  }
  const sorted = [...names.entries()].filter(([n]) => after === undefined || cmp(n, after) > 0).sort(([a], [b]) => cmp(a, b));
  const page = sorted.slice(0, maxKeys);
  const item = (key: string): Listed => ({ key, owner, etag: owner, size: 0, lastModified: 0, checksums: {} });
  return { contents: page.filter(([, p]) => !p).map(([n]) => item(n)), commonPrefixes: page.filter(([, p]) => p).map(([n]) => n), isTruncated: sorted.length > maxKeys };
}

describe('mergePages', () => {
  it('the table: same key on both sides, a side cut short, prefixes', () => {
    const here = pageOf(['a', 'c', 'd'], 'here', undefined, 2, '');
    const source = pageOf(['b', 'c', 'e'], 'source', undefined, 2, '');
    const p = mergePages(here, source, 2);
    // here stops at c (cut short), source at c: a, b given; c waits for the next page only if beyond max
    expect(p.contents.map((c) => c.key)).toEqual(['a', 'b']);
    expect(p).toMatchObject({ isTruncated: true, last: 'b' });
    const next = mergePages(pageOf(['a', 'c', 'd'], 'here', 'b', 2, ''), pageOf(['b', 'c', 'e'], 'source', 'b', 2, ''), 2);
    expect(next.contents.map((c) => [c.key, c.owner])).toEqual([['c', 'here'], ['d', 'here']]);
    const dirs = mergePages(pageOf(['x/1', 'y'], 'here', undefined, 10, '/'), pageOf(['x/2', 'w/1'], 'source', undefined, 10, '/'), 10);
    expect(dirs).toMatchObject({ commonPrefixes: ['w/', 'x/'], isTruncated: false });
    expect(dirs.contents.map((c) => c.key)).toEqual(['y']);
  });

  it('paging through gives the union, once each, in order, this bucket winning', () => {
    const key = fc.stringMatching(/^[ab/]{1,4}$/);
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 12 }), fc.uniqueArray(key, { maxLength: 12 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom('', '/'), (here, source, maxKeys, delimiter) => {
        const want = pageOf([...here, ...source], '', undefined, 1000, delimiter);
        const wantNames = [...want.contents.map((c) => c.key), ...want.commonPrefixes].sort(cmp);
        const got: string[] = [];
        let after: string | undefined;
        for (let i = 0; i < 100; i++) {
          const p = mergePages(pageOf(here, 'here', after, maxKeys, delimiter), pageOf(source, 'source', after, maxKeys, delimiter), maxKeys);
          expect(p.contents.length + p.commonPrefixes.length).toBeLessThanOrEqual(maxKeys);
          for (const c of p.contents) expect(c.owner).toBe(here.includes(c.key) ? 'here' : 'source');
          got.push(...[...p.contents.map((c) => c.key), ...p.commonPrefixes].sort(cmp));
          if (!p.isTruncated) break;
          expect(p.last).toBeDefined();
          after = p.last;
        }
        expect(got).toEqual(wantNames);
      }),
      { numRuns: 300 },
    );
  });
});
