/**
 * The range-hash walk (replication/repair/range-tree.ts) over two in-memory indexes: whatever
 * the two hold, the differences it reports are exactly the symmetric difference, and applying
 * them (a merge that keeps the greater digest, as the real merge keeps one answer) leaves the
 * two equal, with nothing reported on a second walk.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WALK, splitEntries, summarizeEntries, walk, type Entry, type IndexSide, type KeyRange } from '../../../replication/repair/range-tree.js';

/** a side over a sorted in-memory map, counting the entries it read */
class MemorySide implements IndexSide {
  read = 0;
  constructor(readonly map: Map<string, string>) {}

  private *scan(r: KeyRange): Iterable<Entry> {
    for (const key of [...this.map.keys()].sort()) {
      if (key < r.lo || (r.hi !== undefined && key >= r.hi)) continue;
      this.read++;
      yield { key, digest: this.map.get(key)! };
    }
  }

  summarize(r: KeyRange, cuts: string[]) {
    return summarizeEntries(this.scan(r), cuts);
  }
  split(r: KeyRange, parts: number) {
    return splitEntries(this.scan(r), parts);
  }
  async entries(r: KeyRange, limit: number) {
    return [...this.scan(r)].slice(0, limit);
  }
}

const hexKey = fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b).toString('hex'));
const index = fc.dictionary(hexKey, fc.constantFrom('a', 'b', 'c'), { maxKeys: 300 });

async function repair(a: MemorySide, b: MemorySide, opts = { fanout: 3, leafSize: 4 }) {
  const seen = { aLacks: new Set<string>(), bLacks: new Set<string>() };
  const stats = await walk(a, b, { lo: '' }, opts, async (d) => {
    for (const e of d.aLacks) seen.aLacks.add(e.key);
    for (const e of d.bLacks) seen.bLacks.add(e.key);
    // the merge: the greater digest wins on both sides
    for (const e of [...d.aLacks, ...d.bLacks]) {
      const win = [a.map.get(e.key), b.map.get(e.key), e.digest].filter((x): x is string => x !== undefined).sort().at(-1)!;
      a.map.set(e.key, win);
      b.map.set(e.key, win);
    }
  });
  return { stats, seen };
}

describe('range-hash walk', () => {
  it('reports exactly what each side lacks, and two arbitrary indexes converge after one repair', async () => {
    await fc.assert(
      fc.asyncProperty(index, index, fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 20 }), async (ra, rb, fanout, leafSize) => {
        const a = new MemorySide(new Map(Object.entries(ra)));
        const b = new MemorySide(new Map(Object.entries(rb)));
        const wantALacks = Object.keys(rb).filter((k) => ra[k] !== rb[k]).sort();
        const wantBLacks = Object.keys(ra).filter((k) => ra[k] !== rb[k]).sort();
        const { seen } = await repair(a, b, { fanout, leafSize });
        expect([...seen.aLacks].sort()).toEqual(wantALacks);
        expect([...seen.bLacks].sort()).toEqual(wantBLacks);
        expect(new Map([...a.map].sort())).toEqual(new Map([...b.map].sort()));
        const again = await repair(a, b, { fanout, leafSize });
        expect(again.stats.aLacks + again.stats.bLacks).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('equal indexes cost one scan of each side', async () => {
    const m = new Map(Array.from({ length: 5000 }, (_, i) => [i.toString(16).padStart(6, '0'), 'x'] as [string, string]));
    const a = new MemorySide(new Map(m));
    const b = new MemorySide(new Map(m));
    const { stats } = await repair(a, b, DEFAULT_WALK);
    expect(stats.aLacks + stats.bLacks).toBe(0);
    expect(a.read).toBe(5000);
    expect(b.read).toBe(5000);
  });

  it('one differing entry among many is found by scanning little more than the index once', async () => {
    const m = new Map(Array.from({ length: 20_000 }, (_, i) => [i.toString(16).padStart(6, '0'), 'x'] as [string, string]));
    const a = new MemorySide(new Map(m));
    const b = new MemorySide(new Map(m));
    b.map.delete('001234');
    const { stats, seen } = await repair(a, b, DEFAULT_WALK);
    expect([...seen.bLacks]).toEqual(['001234']);
    expect(stats.aLacks).toBe(0);
    // each level below the first rescans one 1/16..1/32 part: far less than a second full scan
    expect(a.read).toBeLessThan(20_000 * 1.2);
  });

  it('splitEntries keeps between n and 2n parts of equal size, whatever the count', async () => {
    for (const n of [0, 1, 5, 31, 32, 33, 1000, 4097]) {
      const entries = Array.from({ length: n }, (_, i) => ({ key: i.toString(16).padStart(4, '0'), digest: '' }));
      const { cuts, summaries } = await splitEntries(entries, 16);
      expect(summaries.reduce((s, x) => s + x.count, 0)).toBe(n);
      expect(summaries.length).toBe(cuts.length + 1);
      if (n >= 32) expect(summaries.length).toBeGreaterThanOrEqual(16);
      expect(summaries.length).toBeLessThanOrEqual(32);
    }
  });
});
