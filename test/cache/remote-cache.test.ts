import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteBlobCache } from '../../cache/remote-cache.js';

const read = async (s: Readable) => {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

/** a "remote node" that hands out blobs in 16 KiB chunks and counts fetches */
function remote(blobs: Map<string, Buffer>) {
  const fetched: string[] = [];
  const fetcher = async (_node: string, id: string) => {
    fetched.push(id);
    const b = blobs.get(id);
    if (!b) throw new Error(`no blob ${id}`);
    return Readable.from((function* () {
      for (let i = 0; i < b.length; i += 16 * 1024) yield b.subarray(i, i + 16 * 1024);
    })());
  };
  return { fetcher, fetched };
}

describe('RemoteBlobCache', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('evicts least recently used entries to stay within its budget, and keeps its index across restarts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const blobs = new Map(['a', 'b', 'c'].map((id) => [id, randomBytes(100 * 1024)] as const));
    const r = remote(blobs);
    const cache = await RemoteBlobCache.open(dir, r.fetcher, { budgetBytes: 250 * 1024 });
    expect((await read(await cache.open('n1', 'a'))).equals(blobs.get('a')!)).toBe(true);
    expect((await read(await cache.open('n1', 'b'))).equals(blobs.get('b')!)).toBe(true);
    await read(await cache.open('n1', 'a')); // a is now the most recently used
    await read(await cache.open('n1', 'c')); // room for c: b goes
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(cache.stats()).toMatchObject({ entries: 2, bytes: 200 * 1024, fetches: 3, hits: 1 });
    expect(r.fetched).toEqual(['a', 'b', 'c']);
    expect((await readdir(join(dir, 'entries'))).sort()).toEqual(['a', 'c']);

    const again = await RemoteBlobCache.open(dir, r.fetcher, { budgetBytes: 250 * 1024 });
    const part = await read(await again.open('n1', 'c', { start: 5, end: 9 }));
    expect(part).toEqual(blobs.get('c')!.subarray(5, 10));
    expect(r.fetched).toHaveLength(3);
  });

  it('a failed fetch leaves nothing behind, and the next read tries again', async () => {
    dir = await mkdtemp(join(tmpdir(), 'erne-rcache-'));
    const blobs = new Map<string, Buffer>();
    const r = remote(blobs);
    const cache = await RemoteBlobCache.open(dir, r.fetcher);
    await expect(read(await cache.open('n1', 'x'))).rejects.toThrow('no blob x');
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(cache.has('x')).toBe(false);
    blobs.set('x', Buffer.from('now it exists'));
    expect((await read(await cache.open('n1', 'x'))).toString()).toBe('now it exists');
    expect(r.fetched).toEqual(['x', 'x']);
  });
});
