import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, opendir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { S3Error } from '../gateway/errors.js';
import { ownerAlive, tempName, tempOwner } from './temp-owner.js';
import type { BlobStore, ByteRange, IngestOptions, IngestResult } from './types.js';

export const DEFAULT_INLINE_THRESHOLD = 32 * 1024;
/** metadata values are bounded (≤ 100 kB on FDB), so inline bodies must stay well below */
export const MAX_INLINE_THRESHOLD = 64 * 1024;
/** coalesce small network chunks into writes of about this size */
const WRITE_BATCH_BYTES = 1024 * 1024;
const READ_HIGH_WATER_MARK = 1024 * 1024;

/** 24 lower-case hex chars (96 random bits); nothing else may become a path */
const BLOB_ID = /^[0-9a-f]{24}$/;

export function isBlobId(id: string): boolean {
  return BLOB_ID.test(id);
}

export function newBlobId(): string {
  return randomBytes(12).toString('hex');
}

function checkBlobId(id: string): void {
  if (!isBlobId(id)) throw new RangeError(`invalid blob id ${JSON.stringify(id)}`);
}

function checkThreshold(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_INLINE_THRESHOLD) {
    throw new RangeError(`inline threshold must be an integer in 0..${MAX_INLINE_THRESHOLD}, got ${n}`);
  }
  return n;
}

async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** a full volume (or quota) is the client's answer, not an internal error */
function volumeFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

async function unlinkQuiet(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Writes chunks to a file in batches of about WRITE_BATCH_BYTES (one writev each), with at
 * most one write in flight while the next batch gathers: reading the network and writing
 * the disk overlap while memory stays bounded.
 */
class BatchedWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** never rejects; a failure is kept in `failed` and thrown by the next push/flush */
  private inFlight: Promise<void> | undefined;
  private failed: unknown;

  constructor(private readonly fh: FileHandle) {}

  async push(chunk: Buffer): Promise<void> {
    this.check();
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < WRITE_BATCH_BYTES) return;
    // a batch is ready: wait for the previous write before taking more from the source
    // (back-pressure), so at most two batches are ever held
    if (this.inFlight) {
      await this.inFlight;
      this.check();
    }
    this.startWrite();
  }

  async flush(): Promise<void> {
    await this.inFlight;
    this.check();
    if (this.pendingBytes > 0) {
      this.startWrite();
      await this.inFlight;
      this.check();
    }
  }

  /** waits for a write in flight (used on the failure path before closing the file) */
  async settle(): Promise<void> {
    await this.inFlight;
  }

  private check(): void {
    if (this.failed !== undefined) throw this.failed;
  }

  private startWrite(): void {
    const bufs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.inFlight = this.writeAll(bufs).then(
      () => {
        this.inFlight = undefined;
      },
      (err: unknown) => {
        this.inFlight = undefined;
        this.failed ??= err;
      },
    );
  }

  private async writeAll(bufs: Buffer[]): Promise<void> {
    let rest = bufs;
    while (rest.length > 0) {
      const { bytesWritten } = await this.fh.writev(rest);
      rest = dropBytes(rest, bytesWritten);
    }
  }
}

/** what remains of `bufs` after the first `n` bytes were written (short writev) */
function dropBytes(bufs: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  if (i === bufs.length) return [];
  const rest = bufs.slice(i);
  rest[0] = rest[0]!.subarray(n);
  return rest;
}

class FileBlobStore implements BlobStore {
  private readonly tmpDir: string;
  private readonly blobsDir: string;
  /** fan-out directories made durable so far (never removed while running) */
  private readonly dirs = new Map<string, Promise<string>>();
  /** ingests in progress, each settled once its temp file is published or removed */
  private readonly ingesting = new Set<Promise<unknown>>();

  constructor(
    dir: string,
    readonly nodeId: string,
    readonly inlineThreshold: number,
  ) {
    this.tmpDir = join(dir, 'tmp');
    this.blobsDir = join(dir, 'blobs');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.blobsDir, { recursive: true });
    await this.sweepDeadTemps();
  }

  /** temp files whose writer is gone (killed mid-upload) are removed at start, whatever their age */
  private async sweepDeadTemps(): Promise<void> {
    for await (const path of walkFiles(this.tmpDir, 0)) {
      const pid = tempOwner(path.slice(path.lastIndexOf('/') + 1));
      if (pid !== undefined && !ownerAlive(pid)) await unlinkQuiet(path);
    }
  }

  async idle(): Promise<void> {
    while (this.ingesting.size > 0) await Promise.allSettled([...this.ingesting]);
  }

  private blobPath(id: string): string {
    return join(this.blobsDir, id.slice(0, 2), id.slice(2, 4), id);
  }

  ingest(source: Readable, opts: IngestOptions = {}): Promise<IngestResult> {
    const done = this.ingestFile(source, opts);
    this.ingesting.add(done);
    const forget = () => this.ingesting.delete(done);
    done.then(forget, forget);
    return done;
  }

  private async ingestFile(source: Readable, opts: IngestOptions): Promise<IngestResult> {
    const threshold = checkThreshold(opts.inlineThreshold ?? this.inlineThreshold);
    const maxSize = opts.maxSize ?? Infinity;
    const head: Buffer[] = [];
    let size = 0;
    let id: string | undefined;
    let tmpPath: string | undefined;
    let fh: FileHandle | undefined;
    let writer: BatchedWriter | undefined;
    try {
      // async iteration pulls one chunk at a time (back-pressure) and destroys the source
      // when the loop throws
      for await (const raw of source) {
        const chunk: Buffer = typeof raw === 'string' ? Buffer.from(raw) : (raw as Buffer);
        size += chunk.length;
        if (size > maxSize) throw new S3Error('EntityTooLarge');
        if (writer) {
          await writer.push(chunk);
          continue;
        }
        head.push(chunk);
        if (size > threshold) {
          id = newBlobId();
          tmpPath = join(this.tmpDir, tempName(id));
          fh = await open(tmpPath, 'wx');
          writer = new BatchedWriter(fh);
          for (const c of head.splice(0)) await writer.push(c);
        }
      }
      if (!writer || !fh || !id || !tmpPath) return { size, inline: Buffer.concat(head, size) };
      await writer.flush();
      await fh.sync();
      await fh.close();
      fh = undefined;
      await this.publish(tmpPath, id);
      return { size, blobId: id };
    } catch (err) {
      if (!source.destroyed) source.destroy();
      await writer?.settle();
      await fh?.close().catch(() => undefined);
      if (tmpPath) await unlinkQuiet(tmpPath).catch(() => undefined);
      throw volumeFull(err) ? new S3Error('InsufficientStorage') : err;
    }
  }

  /** rename the fsynced temp file into place and make the rename itself durable */
  private async publish(tmpPath: string, id: string): Promise<void> {
    const leaf = await this.fanOutDir(id);
    await rename(tmpPath, join(leaf, id));
    await fsyncDir(leaf);
  }

  /**
   * blobs/<aa>/<bb>, created on first use. Shared per directory so a concurrent ingest never
   * renames into a directory whose own entry is not yet durable.
   */
  private fanOutDir(id: string): Promise<string> {
    const top = join(this.blobsDir, id.slice(0, 2));
    const leaf = join(top, id.slice(2, 4));
    let ready = this.dirs.get(leaf);
    if (!ready) {
      ready = (async () => {
        const created = await mkdir(leaf, { recursive: true });
        // a new directory entry is durable only once its parent is fsynced
        if (created !== undefined) {
          if (created === top) await fsyncDir(this.blobsDir);
          await fsyncDir(top);
        }
        return leaf;
      })();
      this.dirs.set(leaf, ready);
      ready.catch(() => this.dirs.delete(leaf));
    }
    return ready;
  }

  read(blobId: string, range?: ByteRange): Readable {
    checkBlobId(blobId);
    if (range) {
      const { start, end } = range;
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
        throw new RangeError(`invalid byte range ${start}-${end}`);
      }
    }
    // a missing file surfaces as an ENOENT 'error' event on the stream
    return createReadStream(this.blobPath(blobId), {
      start: range?.start,
      end: range?.end,
      highWaterMark: READ_HIGH_WATER_MARK,
    });
  }

  async delete(blobId: string): Promise<void> {
    checkBlobId(blobId);
    await unlinkQuiet(this.blobPath(blobId));
  }

  async sweepOrphans(isReferenced: (blobId: string) => Promise<boolean>, minAgeMs: number): Promise<number> {
    const cutoff = Date.now() - minAgeMs;
    let removed = 0;
    for await (const path of walkFiles(this.tmpDir, 0)) {
      if ((await mtimeMs(path)) < cutoff && (await unlinkQuiet(path))) removed++;
    }
    for await (const path of walkFiles(this.blobsDir, 2)) {
      const id = path.slice(path.lastIndexOf('/') + 1);
      // files that are not ours by name are left alone
      if (!isBlobId(id)) continue;
      if ((await mtimeMs(path)) >= cutoff) continue;
      if (await isReferenced(id)) continue;
      if (await unlinkQuiet(path)) removed++;
    }
    return removed;
  }
}

async function mtimeMs(path: string): Promise<number> {
  try {
    return (await stat(path)).mtimeMs;
  } catch (err) {
    // removed meanwhile (deleted, or renamed into blobs/): treat as young, skip it
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Infinity;
    throw err;
  }
}

/** regular files exactly `depth` directories below `dir`, streamed (no full listing in memory) */
async function* walkFiles(dir: string, depth: number): AsyncGenerator<string> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    if (depth === 0) {
      if (entry.isFile()) yield path;
    } else if (entry.isDirectory()) {
      yield* walkFiles(path, depth - 1);
    }
  }
}

export async function openBlobStore(
  dir: string,
  opts: { nodeId: string; inlineThreshold?: number },
): Promise<BlobStore> {
  const store = new FileBlobStore(dir, opts.nodeId, checkThreshold(opts.inlineThreshold ?? DEFAULT_INLINE_THRESHOLD));
  await store.init();
  return store;
}
