/**
 * One fill of a cache entry (cache/remote-cache.ts): the whole source being written to a temp
 * file, and readers that stream from that file as it grows. Readers never hold more than one
 * chunk in memory; they wait for the writer when they catch up with it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ByteRange } from './types.js';

const CHUNK = 1024 * 1024;

interface Signal {
  promise: Promise<void>;
  resolve: () => void;
}

function signal(): Signal {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export class Fill {
  /** bytes in the temp file so far (only bytes already written: readers may read them) */
  written = 0;
  /** complete and renamed into place, or failed (then `error` says why) */
  done = false;
  error?: Error;
  /** resolves once the source has answered and the temp file exists; rejects if the fetch failed */
  readonly started: Promise<void>;
  private begin!: () => void;
  private fail!: (err: Error) => void;
  private tick = signal();

  constructor(readonly tmp: string) {
    this.started = new Promise<void>((resolve, reject) => {
      this.begin = resolve;
      this.fail = reject;
    });
    // a fill nobody waits for (started for a ranged read) must not be an unhandled rejection
    this.started.catch(() => undefined);
  }

  /** the source answered and the temp file is open */
  opened(): void {
    this.begin();
  }

  advance(bytes: number): void {
    this.written += bytes;
    this.wake();
  }

  finish(err?: Error): void {
    this.error = err;
    this.done = true;
    if (err) this.fail(err);
    this.wake();
  }

  private wake(): void {
    const t = this.tick;
    this.tick = signal();
    t.resolve();
  }

  /** resolves at the next progress (bytes written, completion or failure) */
  changed(): Promise<void> {
    return this.tick.promise;
  }

  /**
   * A reader of `range` (or everything) from the growing temp file; undefined when the file
   * is gone because the fill completed (read the entry instead). Throws the fill's error.
   */
  async reader(range?: ByteRange): Promise<Readable | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(this.tmp, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (this.error) throw this.error;
      if (this.done) return undefined;
      throw err;
    }
    return Readable.from(this.tail(fh, range?.start ?? 0, range?.end), { objectMode: false, highWaterMark: CHUNK });
  }

  private async *tail(fh: FileHandle, start: number, end: number | undefined): AsyncGenerator<Buffer> {
    let pos = start;
    try {
      while (end === undefined || pos <= end) {
        const limit = end === undefined ? this.written : Math.min(this.written, end + 1);
        if (pos < limit) {
          const want = Math.min(limit - pos, CHUNK);
          const buf = Buffer.allocUnsafe(want);
          const { bytesRead } = await fh.read(buf, 0, want, pos);
          if (bytesRead === 0) throw new Error(`cache fill ${this.tmp} is shorter than it says`);
          pos += bytesRead;
          yield buf.subarray(0, bytesRead);
          continue;
        }
        if (this.error) throw this.error;
        if (this.done) return;
        await this.changed();
      }
    } finally {
      await fh.close();
    }
  }
}

/** writes all of `chunk` (a file write may take only part of it) */
export async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}
