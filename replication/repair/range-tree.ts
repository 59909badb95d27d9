/**
 * Anti-entropy between two regions, decided here without I/O: two sides of one ordered index
 * (a bucket's version index, say) are compared by the hashes of key ranges, descending only
 * into the ranges whose hashes differ, until a range is small enough to exchange its entries.
 * What one side lacks (or holds differently) is handed to `onDiff`; the caller fetches and
 * applies it through the idempotent apply path, so running the walk again is harmless.
 *
 * No tree is stored: a side computes a range's summary (entry count and the XOR of its
 * entries' hashes) by scanning it. XOR makes summaries combine in any grouping, so a side can
 * cut a range into parts of similar size in ONE pass (splitEntries) while it hashes them, and
 * memory stays bounded by the fan-out, never by the size of the index. Regions that agree cost
 * one scan of the index on each side; a difference costs about log_fanout(n / leafSize) more
 * scans of the ranges around it.
 *
 * Keys are lowercase hex strings of the index's byte keys: their string order is byte order.
 */
/** one entry of the index: its key and a digest of what both sides must agree on */
export interface Entry {
  key: string;
  digest: string;
}

/** keys k with lo <= k < hi (hi undefined: to the end of the index) */
export interface KeyRange {
  lo: string;
  hi?: string;
}

export interface Summary {
  count: number;
  /** hex XOR of the entries' hashes; '' for none */
  hash: string;
}

/** One side of the comparison: this region's store, or a peer asked over the network. */
export interface IndexSide {
  /** the summaries of the parts of `range` cut at `cuts` (ascending, inside the range): cuts.length + 1 of them */
  summarize(range: KeyRange, cuts: string[]): Promise<Summary[]>;
  /** cuts `range` into about `parts` parts of similar entry count, with their summaries, in one pass */
  split(range: KeyRange, parts: number): Promise<{ cuts: string[]; summaries: Summary[] }>;
  /** the first `limit` entries of `range`, in order */
  entries(range: KeyRange, limit: number): Promise<Entry[]>;
}

export interface WalkOptions {
  /** parts a differing range is cut into */
  fanout: number;
  /** a range with at most this many entries on both sides is compared entry by entry */
  leafSize: number;
}

/** entries that `a` lacks or holds differently (to fetch from b), and the same for `b` */
export interface Diff {
  aLacks: Entry[];
  bLacks: Entry[];
}

export interface WalkStats {
  /** ranges whose summaries were compared */
  ranges: number;
  /** ranges compared entry by entry */
  leaves: number;
  /** entries each side lacked (or held differently) */
  aLacks: number;
  bLacks: number;
  /** entries each side holds in total (from the first summaries) */
  countA: number;
  countB: number;
}

export const DEFAULT_WALK: WalkOptions = { fanout: 16, leafSize: 256 };

const EMPTY: Summary = { count: 0, hash: '' };

/**
 * The hash an entry adds to its range's summary: 128 bits from four multiply-xorshift lanes
 * over the key and the digest. Not cryptographic — only regions holding the cluster secret
 * take part, so nobody crafts collisions; what matters is that two different ranges almost
 * never sum alike (2^-128 by chance) and that hashing a million entries takes well under a
 * second (a SHA-256 object per entry cost several times more than the scan itself).
 */
export function entryHash(e: Entry): Uint32Array {
  let h0 = 0x9e3779b1;
  let h1 = 0x85ebca77;
  let h2 = 0xc2b2ae3d;
  let h3 = 0x27d4eb2f;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h0 = Math.imul(h0 ^ c, 0x01000193);
      h1 = Math.imul(h1 ^ c, 0x5bd1e995);
      h2 = Math.imul(h2 ^ c, 0x1b873593);
      h3 = Math.imul(h3 ^ c, 0xcc9e2d51);
    }
  };
  mix(e.key);
  mix('\0');
  mix(e.digest);
  const out = new Uint32Array(4);
  // final avalanche of each lane, crossed with the others so every input bit reaches all 128
  const fin = (h: number, k: number) => {
    h ^= k;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  out[0] = fin(h0, h3);
  out[1] = fin(h1, h0);
  out[2] = fin(h2, h1);
  out[3] = fin(h3, h2);
  return out;
}

/** a summary being accumulated */
export class Accumulator {
  count = 0;
  private readonly acc = new Uint32Array(4);

  add(e: Entry): void {
    const h = entryHash(e);
    for (let i = 0; i < 4; i++) this.acc[i]! ^= h[i]!;
    this.count++;
  }

  merge(o: Accumulator): void {
    for (let i = 0; i < 4; i++) this.acc[i]! ^= o.acc[i]!;
    this.count += o.count;
  }

  summary(): Summary {
    return this.count === 0 ? EMPTY : { count: this.count, hash: [...this.acc].map((x) => x.toString(16).padStart(8, '0')).join('') };
  }
}

export function sameSummary(a: Summary, b: Summary): boolean {
  return a.count === b.count && a.hash === b.hash;
}

export function inRange(r: KeyRange, key: string): boolean {
  return key >= r.lo && (r.hi === undefined || key < r.hi);
}

/** the smallest key after `key` (hex of its bytes followed by a zero byte) */
export function keyAfterHex(key: string): string {
  return key + '00';
}

/** summaries of the parts of a range cut at `cuts`, from its entries in order */
export async function summarizeEntries(entries: AsyncIterable<Entry> | Iterable<Entry>, cuts: string[]): Promise<Summary[]> {
  const parts = cuts.map(() => new Accumulator());
  parts.push(new Accumulator());
  let i = 0;
  for await (const e of entries) {
    while (i < cuts.length && e.key >= cuts[i]!) i++;
    parts[i]!.add(e);
  }
  return parts.map((p) => p.summary());
}

/**
 * Cuts a range into between `parts` and 2·`parts` parts of equal entry count (the last may be
 * smaller) in one pass: parts hold `step` entries each, and when there are too many, neighbours
 * merge and `step` doubles. Memory: 2·`parts` accumulators, whatever the range holds.
 */
export async function splitEntries(entries: AsyncIterable<Entry> | Iterable<Entry>, parts: number): Promise<{ cuts: string[]; summaries: Summary[] }> {
  const want = Math.max(2, parts);
  let step = 1;
  let segs: { first: string; acc: Accumulator }[] = [];
  let cur: { first: string; acc: Accumulator } | undefined;
  for await (const e of entries) {
    if (!cur) cur = { first: e.key, acc: new Accumulator() };
    cur.acc.add(e);
    if (cur.acc.count < step) continue;
    segs.push(cur);
    cur = undefined;
    if (segs.length < 2 * want) continue;
    const merged: typeof segs = [];
    for (let i = 0; i < segs.length; i += 2) {
      const s = segs[i]!;
      if (segs[i + 1]) s.acc.merge(segs[i + 1]!.acc);
      merged.push(s);
    }
    segs = merged;
    step *= 2;
  }
  if (cur) segs.push(cur);
  if (segs.length === 0) return { cuts: [], summaries: [EMPTY] };
  return { cuts: segs.slice(1).map((s) => s.first), summaries: segs.map((s) => s.acc.summary()) };
}

/** the parts of `range` cut at `cuts` */
export function partsOf(range: KeyRange, cuts: string[]): KeyRange[] {
  const out: KeyRange[] = [];
  let lo = range.lo;
  for (const c of cuts) {
    out.push({ lo, hi: c });
    lo = c;
  }
  out.push(range.hi === undefined ? { lo } : { lo, hi: range.hi });
  return out;
}

/**
 * Compares `a` and `b` over `range` and reports every difference to `onDiff` (called once
 * per differing leaf, in key order). Depth first: what is held at once is one path of the
 * tree, each level `fanout` summaries, plus one leaf's entries.
 */
export async function walk(a: IndexSide, b: IndexSide, range: KeyRange, opts: WalkOptions, onDiff: (d: Diff) => Promise<void>): Promise<WalkStats> {
  const stats: WalkStats = { ranges: 0, leaves: 0, aLacks: 0, bLacks: 0, countA: 0, countB: 0 };
  const top = await a.split(range, opts.fanout);
  const topB = await b.summarize(range, top.cuts);
  for (const s of top.summaries) stats.countA += s.count;
  for (const s of topB) stats.countB += s.count;
  const parts = partsOf(range, top.cuts);

  const visit = async (r: KeyRange, sa: Summary, sb: Summary): Promise<void> => {
    stats.ranges++;
    if (sameSummary(sa, sb)) return;
    if (sa.count === 0 || sb.count === 0 || (sa.count <= opts.leafSize && sb.count <= opts.leafSize)) return compareLeaf(r);
    // the side with more entries cuts: its parts are the ones that shrink
    const [cutter, other, aCuts] = sa.count >= sb.count ? [a, b, true] : [b, a, false];
    const mine = await cutter.split(r, opts.fanout);
    if (mine.cuts.length === 0) return compareLeaf(r);
    const theirs = await other.summarize(r, mine.cuts);
    const subs = partsOf(r, mine.cuts);
    for (let i = 0; i < subs.length; i++) {
      const [x, y] = aCuts ? [mine.summaries[i]!, theirs[i]!] : [theirs[i]!, mine.summaries[i]!];
      await visit(subs[i]!, x, y);
    }
  };

  /** both sides' entries of a range, a page at a time (a range one side lacks whole may be large) */
  const compareLeaf = async (r: KeyRange): Promise<void> => {
    stats.leaves++;
    const page = Math.max(opts.leafSize, 1);
    let lo = r.lo;
    for (;;) {
      const sub: KeyRange = r.hi === undefined ? { lo } : { lo, hi: r.hi };
      const [ea, eb] = await Promise.all([a.entries(sub, page), b.entries(sub, page)]);
      // compare only up to the end of the shorter full page: beyond it the other side's page says nothing yet
      const fullA = ea.length === page;
      const fullB = eb.length === page;
      let end: string | undefined;
      if (fullA && fullB) end = ea[page - 1]!.key < eb[page - 1]!.key ? ea[page - 1]!.key : eb[page - 1]!.key;
      else if (fullA) end = ea[page - 1]!.key;
      else if (fullB) end = eb[page - 1]!.key;
      const upTo = (e: Entry) => end === undefined || e.key <= end;
      const diff = diffEntries(ea.filter(upTo), eb.filter(upTo));
      if (diff.aLacks.length + diff.bLacks.length > 0) {
        stats.aLacks += diff.aLacks.length;
        stats.bLacks += diff.bLacks.length;
        await onDiff(diff);
      }
      if (end === undefined) return;
      lo = keyAfterHex(end);
    }
  };

  for (let i = 0; i < parts.length; i++) await visit(parts[i]!, top.summaries[i]!, topB[i]!);
  return stats;
}

/** what each of two sorted entry lists lacks from the other (a different digest counts both ways) */
export function diffEntries(ea: Entry[], eb: Entry[]): Diff {
  const aLacks: Entry[] = [];
  const bLacks: Entry[] = [];
  let i = 0;
  let j = 0;
  while (i < ea.length || j < eb.length) {
    const x = ea[i];
    const y = eb[j];
    if (y === undefined || (x !== undefined && x.key < y.key)) {
      bLacks.push(x!);
      i++;
    } else if (x === undefined || y.key < x.key) {
      aLacks.push(y);
      j++;
    } else {
      if (x.digest !== y.digest) {
        aLacks.push(y);
        bLacks.push(x);
      }
      i++;
      j++;
    }
  }
  return { aLacks, bLacks };
}
