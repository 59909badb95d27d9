/**
 * Copies of bytes held elsewhere — blobs on another node of this region, object versions held
 * by another region — kept on this node's volume as cache entries under a size budget with
 * LRU eviction. What is cached is immutable (a blob id or a version id is never reused), so an
 * entry never goes stale. Bytes whose origin is this node or region never enter a cache, so
 * they are never evicted. The cache is generic over its source `S` (a node id, a region and
 * version …); its fetcher knows how to fetch a source whole or a range of it.
 *
 * - A miss starts one fill: the whole source fetched once into a temp file. Every reader of a
 *   missing entry — the one that missed and any concurrent one — streams from that temp file
 *   as it grows (cache/cache-fill.ts): concurrent misses share one fetch, and nobody waits for
 *   the whole object before its first byte.
 * - A range that starts beyond what the fill has reached does not wait for the bytes before
 *   it: it is fetched directly (a ranged fetch) while the fill goes on in the background.
 * - Only complete files are renamed into place; when the source's size is known a fill of any
 *   other length is an error and is never kept. A crash leaves at most a temp file, which the
 *   next start removes. No fsync: losing an entry only costs a refetch.
 * - A source larger than the whole budget is never cached: it is streamed straight through.
 * - Eviction makes room BEFORE an entry is added, so a new entry is never removed under the
 *   readers about to open it; a reader that loses the race (ENOENT) simply tries again.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Fill, writeAll } from './cache-fill.js';
import type { ByteRange } from './types.js';

/** what to fetch, and under which name to keep it */
export interface CacheRef<S> {
  /** the entry's file name: 1-128 of [0-9A-Za-z_-] */
  id: string;
  source: S;
  /** the whole source's size when known: a fill of any other length is refused */
  size?: number;
}

/** the source whole (no range) or a range of it; resolves once the source has answered */
export type Fetcher<S> = (ref: CacheRef<S>, range?: ByteRange) => Promise<Readable>;

/** blobs of this region's other nodes: the source is the node id, the entry id the blob id */
export type BlobFetcher = (node: string, blobId: string, range?: ByteRange) => Promise<Readable>;

export interface RemoteCacheOptions {
  /** bytes of cache entries kept; default 4 GiB */
  budgetBytes?: number;
  /** told when a fill fails (the readers that needed it get the error themselves) */
  log?: (line: string) => void;
}

export interface RemoteCacheStats {
  entries: number;
  bytes: number;
  /** whole-source fetches (fills) */
  fetches: number;
  /** fetches that bypass the cache: a range ahead of the fill, or a source larger than the budget */
  directFetches: number;
  hits: number;
}

const ID = /^[0-9A-Za-z_-]{1,128}$/;
/** a range starting this close to what the fill has written waits for the fill rather than fetching again */
export const TAIL_SLACK = 256 * 1024;

export class RemoteCache<S> {
  /** id → size, in least-recently-used-first order (Map keeps insertion order) */
  private readonly index = new Map<string, number>();
  private readonly inflight = new Map<string, Fill>();
  private bytes = 0;
  private fetches = 0;
  private directFetches = 0;
  private hits = 0;
  private readonly budget: number;
  private readonly entriesDir: string;
  private readonly tmpDir: string;

  private constructor(dir: string, private readonly fetcher: Fetcher<S>, private readonly opts: RemoteCacheOptions) {
    this.budget = opts.budgetBytes ?? 4 * 1024 ** 3;
    this.entriesDir = join(dir, 'entries');
    this.tmpDir = join(dir, 'tmp');
  }

  /** opens (creating) the cache under `dir`, indexing entries left by an earlier run */
  static async open<S>(dir: string, fetcher: Fetcher<S>, opts: RemoteCacheOptions = {}): Promise<RemoteCache<S>> {
    const c = new RemoteCache<S>(dir, fetcher, opts);
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

  /** a cache of this region's other nodes' blobs (gateway/remote-blob.ts) */
  static blobs(dir: string, fetcher: BlobFetcher, opts: RemoteCacheOptions = {}): Promise<RemoteCache<string>> {
    return RemoteCache.open<string>(dir, (ref, range) => fetcher(ref.source, ref.id, range), opts);
  }

  stats(): RemoteCacheStats {
    return { entries: this.index.size, bytes: this.bytes, fetches: this.fetches, directFetches: this.directFetches, hits: this.hits };
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /**
   * The bytes (or a range), from the cache or fetched through it. Resolves once they can be
   * read: from the entry, or once the source has answered; rejects with the fetcher's error
   * when it could not be reached (nothing has been read then).
   */
  async open(ref: CacheRef<S>, range?: ByteRange): Promise<Readable> {
    if (!ID.test(ref.id)) throw new RangeError(`invalid cache entry id ${JSON.stringify(ref.id)}`);
    for (let tries = 0; tries < 3; tries++) {
      if (this.index.has(ref.id)) {
        const s = await this.readEntry(ref.id, range);
        if (s) {
          this.hits++;
          return s;
        }
        continue; // evicted meanwhile
      }
      if (ref.size !== undefined && ref.size > this.budget) return this.direct(ref, range);
      let fill = this.inflight.get(ref.id);
      if (range && range.start > (fill?.written ?? 0) + TAIL_SLACK) {
        // the bytes before the range would take a while: fetch the range itself, fill behind it
        if (!fill) this.startFill(ref);
        return this.direct(ref, range);
      }
      fill ??= this.startFill(ref);
      await fill.started;
      const s = await fill.reader(range);
      if (s) return s;
      // the fill completed and was renamed before we could open it: read the entry
    }
    throw new Error(`entry ${ref.id} keeps being evicted from the cache; is the budget too small?`);
  }

  private direct(ref: CacheRef<S>, range?: ByteRange): Promise<Readable> {
    this.directFetches++;
    return this.fetcher(ref, range);
  }

  private async readEntry(id: string, range?: ByteRange): Promise<Readable | undefined> {
    let fh;
    try {
      fh = await open(join(this.entriesDir, id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.forget(id);
      return undefined;
    }
    // most recently used now
    const size = this.index.get(id);
    if (size !== undefined) {
      this.index.delete(id);
      this.index.set(id, size);
    }
    // the stream owns the handle and closes it (once) when done or destroyed
    return fh.createReadStream({ start: range?.start, end: range?.end, highWaterMark: 1024 * 1024 });
  }

  private startFill(ref: CacheRef<S>): Fill {
    const fill = new Fill(join(this.tmpDir, `${ref.id}.${randomBytes(4).toString('hex')}`));
    this.inflight.set(ref.id, fill);
    this.fetches++;
    void this.runFill(ref, fill);
    return fill;
  }

  /** one fetch of the whole source into the temp file; renamed into place only when complete */
  private async runFill(ref: CacheRef<S>, fill: Fill): Promise<void> {
    let src: Readable | undefined;
    let fh: FileHandle | undefined;
    try {
      src = await this.fetcher(ref);
      fh = await open(fill.tmp, 'w');
      fill.opened();
      // readers may go away: the fill goes on, others may want the entry
      for await (const raw of src) {
        const chunk = raw as Buffer;
        if (ref.size !== undefined && fill.written + chunk.length > ref.size) throw new Error(`${ref.id}: the source sent more than its ${ref.size} bytes`);
        await writeAll(fh, chunk);
        fill.advance(chunk.length);
      }
      await fh.close();
      fh = undefined;
      if (ref.size !== undefined && fill.written !== ref.size) throw new Error(`${ref.id}: the source ended after ${fill.written} of ${ref.size} bytes`);
      this.makeRoom(fill.written);
      await rename(fill.tmp, join(this.entriesDir, ref.id));
      this.add(ref.id, fill.written);
      fill.finish();
    } catch (err) {
      src?.destroy();
      await fh?.close().catch(() => undefined);
      await unlink(fill.tmp).catch(() => undefined);
      this.opts.log?.(`cache: fetching ${ref.id} failed: ${(err as Error).message}`);
      fill.finish(err as Error);
    } finally {
      this.inflight.delete(ref.id);
    }
  }

  private add(id: string, size: number): void {
    this.forget(id);
    this.index.set(id, size);
    this.bytes += size;
  }

  private forget(id: string): void {
    const size = this.index.get(id);
    if (size === undefined) return;
    this.index.delete(id);
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

/** the cache of this region's other nodes' blobs */
export type RemoteBlobCache = RemoteCache<string>;
