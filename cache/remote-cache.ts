/**
 * Copies of blobs whose bytes live on another node (of this region, or later of another
 * region), kept on this node's volume as cache entries: a size budget with LRU eviction, never
 * pinned (the owner keeps the original). Blobs are immutable (an id is never reused), so an
 * entry never goes stale.
 *
 * - A miss fetches the WHOLE blob once and writes it to a temp file; the caller that missed
 *   gets its range streamed from those same chunks as they arrive (with back-pressure), never
 *   from a buffer of the whole blob. Concurrent misses for the same blob share that one fetch:
 *   they wait for it to finish and then read the cached file.
 * - Only complete files are renamed into place, so a crash leaves at most a temp file, which
 *   the next start removes. No fsync: losing an entry only costs a refetch.
 * - Eviction makes room BEFORE an entry is added, so a new entry is never removed under the
 *   readers about to open it; a reader that loses the race (ENOENT) simply fetches again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ByteRange } from './types.js';

export type BlobFetcher = (node: string, blobId: string) => Promise<Readable>;

export interface RemoteCacheOptions {
  /** bytes of cache entries kept; default 4 GiB */
  budgetBytes?: number;
}

export interface RemoteCacheStats {
  entries: number;
  bytes: number;
  fetches: number;
  hits: number;
}

const ID = /^[0-9A-Za-z_-]{1,128}$/;

export class RemoteBlobCache {
  /** blobId → size, in least-recently-used-first order (Map keeps insertion order) */
  private readonly index = new Map<string, number>();
  private readonly inflight = new Map<string, Promise<void>>();
  private bytes = 0;
  private fetches = 0;
  private hits = 0;
  private readonly budget: number;
  private readonly entriesDir: string;
  private readonly tmpDir: string;

  private constructor(dir: string, private readonly fetcher: BlobFetcher, opts: RemoteCacheOptions) {
    this.budget = opts.budgetBytes ?? 4 * 1024 ** 3;
    this.entriesDir = join(dir, 'entries');
    this.tmpDir = join(dir, 'tmp');
  }

  /** opens (creating) the cache under `dir`, indexing entries left by an earlier run */
  static async open(dir: string, fetcher: BlobFetcher, opts: RemoteCacheOptions = {}): Promise<RemoteBlobCache> {
    const c = new RemoteBlobCache(dir, fetcher, opts);
    await rm(c.tmpDir, { recursive: true, force: true });
    await mkdir(c.tmpDir, { recursive: true });
    await mkdir(c.entriesDir, { recursive: true });
    const found: { id: string; size: number; mtime: number }[] = [];
    for (const name of await readdir(c.entriesDir)) {
      const s = await stat(join(c.entriesDir, name)).catch(() => undefined);
      if (s?.isFile()) found.push({ id: name, size: s.size, mtime: s.mtimeMs });
    }
    for (const f of found.sort((a, b) => a.mtime - b.mtime)) c.add(f.id, f.size);
    return c;
  }

  stats(): RemoteCacheStats {
    return { entries: this.index.size, bytes: this.bytes, fetches: this.fetches, hits: this.hits };
  }

  has(blobId: string): boolean {
    return this.index.has(blobId);
  }

  /** the blob's bytes (or a range), from the cache or fetched from `node` through the cache */
  async open(node: string, blobId: string, range?: ByteRange): Promise<Readable> {
    if (!ID.test(blobId)) throw new RangeError(`invalid blob id ${JSON.stringify(blobId)}`);
    for (let tries = 0; tries < 3; tries++) {
      if (this.index.has(blobId)) {
        const s = await this.readEntry(blobId, range);
        if (s) {
          this.hits++;
          return s;
        }
        continue; // evicted meanwhile
      }
      const running = this.inflight.get(blobId);
      if (running) {
        await running;
        continue;
      }
      return this.fetchThrough(node, blobId, range);
    }
    throw new Error(`blob ${blobId} keeps being evicted from the remote cache; is the budget too small?`);
  }

  private async readEntry(blobId: string, range?: ByteRange): Promise<Readable | undefined> {
    let fh;
    try {
      fh = await open(join(this.entriesDir, blobId), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.forget(blobId);
      return undefined;
    }
    // most recently used now
    const size = this.index.get(blobId);
    if (size !== undefined) {
      this.index.delete(blobId);
      this.index.set(blobId, size);
    }
    // the stream owns the handle and closes it (once) when done or destroyed
    return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 1024 * 1024 });
  }

  /** one fetch: chunks go to a temp file and (the requested slice) to the caller's stream */
  private fetchThrough(node: string, blobId: string, range?: ByteRange): Readable {
    const out = new PassThrough({ highWaterMark: 1024 * 1024 });
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    this.inflight.set(blobId, done);
    this.fetches++;
    const tmp = join(this.tmpDir, `${blobId}.${randomBytes(4).toString('hex')}`);
    void (async () => {
      let fh;
      try {
        const src = await this.fetcher(node, blobId);
        fh = await open(tmp, 'w');
        let offset = 0;
        for await (const raw of src) {
          const chunk = raw as Buffer;
          await fh.write(chunk);
          const from = range ? Math.max(range.start - offset, 0) : 0;
          const to = range ? Math.min(range.end + 1 - offset, chunk.length) : chunk.length;
          offset += chunk.length;
          // a client that went away does not stop the fetch: others may want the entry
          if (to > from && !out.destroyed && !out.write(chunk.subarray(from, to))) await drained(out);
        }
        await fh.close();
        fh = undefined;
        this.makeRoom(offset);
        await rename(tmp, join(this.entriesDir, blobId));
        this.add(blobId, offset);
        out.end();
      } catch (err) {
        await fh?.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        out.destroy(err as Error);
      } finally {
        this.inflight.delete(blobId);
        settle();
      }
    })();
    return out;
  }

  private add(blobId: string, size: number): void {
    this.forget(blobId);
    this.index.set(blobId, size);
    this.bytes += size;
  }

  private forget(blobId: string): void {
    const size = this.index.get(blobId);
    if (size === undefined) return;
    this.index.delete(blobId);
    this.bytes -= size;
  }

  /** evicts least recently used entries until `incoming` more bytes fit (or nothing is left) */
  private makeRoom(incoming: number): void {
    for (const [id] of this.index) {
      if (this.bytes + incoming <= this.budget) return;
      this.forget(id);
      // readers that already opened the file keep reading it
      unlink(join(this.entriesDir, id)).catch(() => undefined);
    }
  }
}

function drained(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      w.off('drain', done);
      w.off('close', done);
      resolve();
    };
    w.once('drain', done);
    w.once('close', done);
  });
}
