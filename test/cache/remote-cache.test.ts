import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { ByteRange } from '../../cache/types.js';
import { RemoteCache, TAIL_SLACK, type CacheRef } from '../../cache/remote-cache.js';

const read = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

/** resolves with the first chunk a stream gives (the stream stays readable) */
const firstChunk = (s: Readable) => new Promise<Buffer>((resolve, reject) => {
  s.once('error', reject);
  s.once('readable', () => resolve(s.read() as Buffer));
});

/** a gate a fetch stalls at until the test opens it */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

const CHUNK = 64 * 1024;

interface RemoteOptions {
  /** whole fetches stop after their first chunk until this opens */
  stall?: Promise<void>;
  /** whole fetches end (cleanly) after this many bytes */
  shortAt?: number;
  /** whole fetches fail after this many bytes */
  failAt?: number;
}

/** a "remote" that hands out sources in 64 KiB chunks, honours ranges and records each fetch */
function remote(blobs: Map<string, Buffer>, opts: RemoteOptions = {}) {
  const fetched: { id: string; range?: ByteRange }[] = [];
  const fetcher = async (ref: CacheRef<string>, range?: ByteRange) => {
    fetched.push({ id: ref.id, ...(range ? { range } : {}) });
    const b = blobs.get(ref.id);
    if (!b) throw new Error(`no blob ${ref.id}`);
    const body = range ? b.subarray(range.start, range.end + 1) : b;
    return Readable.from((async function* () {
      for (let i = 0; i < body.length; i += CHUNK) {
        if (!range && opts.shortAt !== undefined && i >= opts.shortAt) return;
        if (!range && opts.failAt !== undefined && i >= opts.failAt) throw new Error('connection cut');
        yield body.subarray(i, i + CHUNK);
        if (!range && i === 0 && opts.stall) await opts.stall;
      }
    })());
  };
  return { fetcher, fetched, wholeFetches: () => fetched.filter((f) => !f.range).length };
}

describe('RemoteCache', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const ref = (id: string, size?: number): CacheRef<string> => ({ id, source: 'n1', ...(size !== undefined ? { size } : {}) });

  it('evicts least recently used entries to stay within its budget, and keeps its index across restarts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const blobs = new Map(['a', 'b', 'c'].map((id) => [id, randomBytes(100 * 1024)] as const));
    const r = remote(blobs);
    const cache = await RemoteCache.open(dir, r.fetcher, { budgetBytes: 250 * 1024 });
    expect((await read(await cache.open(ref('a')))).equals(blobs.get('a')!)).toBe(true);
    expect((await read(await cache.open(ref('b')))).equals(blobs.get('b')!)).toBe(true);
    await read(await cache.open(ref('a'))); // a is now the most recently used
    await read(await cache.open(ref('c'))); // room for c: b goes
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 200 * 1024, fetches: 3, hits: 1 });
    expect(r.fetched.map((f) => f.id)).toEqual(['a', 'b', 'c']);
    expect((await readdir(join(dir, 'entries'))).sort()).toEqual(['a', 'c']);

    const again = await RemoteCache.open(dir, r.fetcher, { budgetBytes: 250 * 1024 });
    const part = await read(await again.open(ref('c'), { start: 5, end: 9 }));
    expect(part).toEqual(blobs.get('c')!.subarray(5, 10));
    expect(r.fetched).toHaveLength(3);
  });

  it('a failed fetch fails the open, leaves nothing behind, and the next read tries again', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const blobs = new Map<string, Buffer>();
    const r = remote(blobs);
    const cache = await RemoteCache.open(dir, r.fetcher);
    await expect(cache.open(ref('x'))).rejects.toThrow('no blob x');
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(cache.has('x')).toBe(false);
    blobs.set('x', Buffer.from('now it exists'));
    expect((await read(await cache.open(ref('x')))).toString()).toBe('now it exists');
    expect(r.fetched.map((f) => f.id)).toEqual(['x', 'x']);
  });

  it('concurrent misses share one fetch and each streams from it before it is complete', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const body = randomBytes(3 * 1024 * 1024 + 5);
    const stall = gate();
    const r = remote(new Map([['pop', body]]), { stall: stall.opened });
    const cache = await RemoteCache.open(dir, r.fetcher);
    const readers = await Promise.all(Array.from({ length: 5 }, () => cache.open(ref('pop', body.length))));
    // every reader has its first bytes while the fetch is still stalled after its first chunk
    const firsts = await Promise.all(readers.map(firstChunk));
    for (const f of firsts) expect(f.equals(body.subarray(0, f.length))).toBe(true);
    expect(cache.has('pop')).toBe(false);
    stall.open();
    const rests = await Promise.all(readers.map(read));
    for (const [i, rest] of rests.entries()) expect(Buffer.concat([firsts[i]!, rest]).equals(body)).toBe(true);
    expect(r.fetched).toEqual([{ id: 'pop' }]);
    expect(cache.has('pop')).toBe(true);
    expect(cache.stats()).toMatchObject({ fetches: 1, directFetches: 0, entries: 1, bytes: body.length });
  });

  it('a range ahead of the fill is fetched on its own at once while the whole object fills behind it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const body = randomBytes(4 * 1024 * 1024);
    const stall = gate();
    const r = remote(new Map([['big', body]]), { stall: stall.opened });
    const cache = await RemoteCache.open(dir, r.fetcher);
    const tail = { start: body.length - 1000, end: body.length - 1 };
    // completes although the whole fetch is stalled at its first chunk
    expect((await read(await cache.open(ref('big', body.length), tail))).equals(body.subarray(tail.start))).toBe(true);
    expect(r.fetched).toEqual([{ id: 'big' }, { id: 'big', range: tail }]);
    // a range near the start joins the fill instead of fetching again
    const head = await cache.open(ref('big', body.length), { start: 10, end: TAIL_SLACK - 1 });
    stall.open();
    expect((await read(head)).equals(body.subarray(10, TAIL_SLACK))).toBe(true);
    expect(cache.stats()).toMatchObject({ fetches: 1, directFetches: 1 });
    // the fill completes into an entry: later reads are hits
    await expect.poll(() => cache.has('big')).toBe(true);
    expect((await read(await cache.open(ref('big', body.length), tail))).equals(body.subarray(tail.start))).toBe(true);
    expect(r.fetched).toHaveLength(2);
  });

  it('a source cut short is never kept: its readers fail, and the next read fetches again', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const body = randomBytes(512 * 1024);
    const blobs = new Map([['cut', body]]);
    const short = remote(blobs, { shortAt: 256 * 1024 });
    const cache = await RemoteCache.open(dir, short.fetcher);
    // ended cleanly but short of the size the caller knows
    await expect(read(await cache.open(ref('cut', body.length)))).rejects.toThrow(/ended after 262144 of 524288 bytes/);
    expect(cache.has('cut')).toBe(false);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await readdir(join(dir, 'entries'))).toEqual([]);

    // failing mid-way: the reader gets the bytes before the failure, then the error
    const failing = remote(blobs, { failAt: 128 * 1024 });
    const cache2 = await RemoteCache.open(dir, failing.fetcher);
    const got: Buffer[] = [];
    const s = await cache2.open(ref('cut', body.length));
    await expect((async () => {
      for await (const c of s) got.push(c as Buffer);
    })()).rejects.toThrow('connection cut');
    expect(Buffer.concat(got).equals(body.subarray(0, 128 * 1024))).toBe(true);
    expect(cache2.has('cut')).toBe(false);

    const whole = remote(blobs);
    const cache3 = await RemoteCache.open(dir, whole.fetcher);
    expect((await read(await cache3.open(ref('cut', body.length)))).equals(body)).toBe(true);
    expect(cache3.has('cut')).toBe(true);
  });

  it('a source larger than the whole budget streams straight through and is never kept', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const body = randomBytes(300 * 1024);
    const r = remote(new Map([['huge', body]]));
    const cache = await RemoteCache.open(dir, r.fetcher, { budgetBytes: 200 * 1024 });
    expect((await read(await cache.open(ref('huge', body.length)))).equals(body)).toBe(true);
    expect((await read(await cache.open(ref('huge', body.length), { start: 0, end: 9 }))).equals(body.subarray(0, 10))).toBe(true);
    expect(cache.stats()).toMatchObject({ entries: 0, fetches: 0, directFetches: 2 });
    expect(await readdir(join(dir, 'entries'))).toEqual([]);
  });
});
