import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_INLINE_THRESHOLD, isBlobId, openBlobStore } from '../../cache/file-blob-store.js';
import type { BlobStore } from '../../cache/types.js';
import { S3Error } from '../../gateway/errors.js';

let dir: string;
let store: BlobStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erne-blobs-'));
  store = await openBlobStore(dir, { nodeId: 'node-a' });
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** a source that yields `body` in chunks of `chunk` bytes, asynchronously like a socket */
function source(body: Buffer, chunk = 16 * 1024): Readable {
  async function* gen() {
    for (let i = 0; i < body.length; i += chunk) {
      await new Promise((r) => setImmediate(r));
      yield body.subarray(i, i + chunk);
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

/** a source that sends `good` bytes and then fails like a client that went away */
function failingSource(good: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < good) {
        const n = Math.min(64 * 1024, good - sent);
        sent += n;
        setImmediate(() => this.push(randomBytes(n)));
      } else {
        setImmediate(() => this.destroy(new Error('client went away')));
      }
    },
  });
}

async function collect(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function blobPath(id: string): string {
  return join(dir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);
}

async function listTree(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(root.length + 1));
  }
  return out.sort();
}

describe('openBlobStore', () => {
  it('defaults to a 32 KiB inline threshold and records the node id', () => {
    expect(store.inlineThreshold).toBe(DEFAULT_INLINE_THRESHOLD);
    expect(DEFAULT_INLINE_THRESHOLD).toBe(32 * 1024);
    expect(store.nodeId).toBe('node-a');
  });

  it('refuses an inline threshold over 64 KiB', async () => {
    await expect(openBlobStore(dir, { nodeId: 'n', inlineThreshold: 64 * 1024 + 1 })).rejects.toThrow(RangeError);
    await expect(openBlobStore(dir, { nodeId: 'n', inlineThreshold: 64 * 1024 })).resolves.toBeDefined();
  });
});

describe('ingest', () => {
  it.each([
    ['empty body', 0, true],
    ['1 KiB', 1024, true],
    ['exactly the threshold', DEFAULT_INLINE_THRESHOLD, true],
    ['one byte over the threshold', DEFAULT_INLINE_THRESHOLD + 1, false],
    ['3 MiB', 3 * 1024 * 1024 + 7, false],
  ])('%s: inline=%s', async (_name, size, inline) => {
    const body = randomBytes(size);
    const res = await store.ingest(source(body, 10_000));
    expect(res.size).toBe(size);
    if (inline) {
      expect(res.blobId).toBeUndefined();
      expect(Buffer.compare(res.inline!, body)).toBe(0);
      expect(await listTree(join(dir, 'blobs'))).toEqual([]);
    } else {
      expect(res.inline).toBeUndefined();
      expect(isBlobId(res.blobId!)).toBe(true);
      // durable layout: the blob sits in its fan-out directory, nothing left in tmp/
      const onDisk = await readFile(blobPath(res.blobId!));
      expect(createHash('md5').update(onDisk).digest('hex')).toBe(createHash('md5').update(body).digest('hex'));
      expect(await readdir(join(dir, 'tmp'))).toEqual([]);
      expect(Buffer.compare(await collect(store.read(res.blobId!)), body)).toBe(0);
    }
  });

  it('honours a per-call inline threshold (0 forces a file)', async () => {
    const res = await store.ingest(source(Buffer.from('hi')), { inlineThreshold: 0 });
    expect(res.blobId).toBeDefined();
    expect((await readFile(blobPath(res.blobId!))).toString()).toBe('hi');
  });

  it('gives every blob its own id', async () => {
    const ids = new Set<string>();
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const r = await store.ingest(source(randomBytes(40_000)));
        ids.add(r.blobId!);
      }),
    );
    expect(ids.size).toBe(20);
    expect((await listTree(join(dir, 'blobs'))).length).toBe(20);
  });

  it('a source failing mid-stream rejects and leaves no temp file and no blob', async () => {
    await expect(store.ingest(failingSource(2 * 1024 * 1024))).rejects.toThrow('client went away');
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await listTree(join(dir, 'blobs'))).toEqual([]);
  });

  it('a source failing before the threshold rejects too', async () => {
    await expect(store.ingest(failingSource(100))).rejects.toThrow('client went away');
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it.each([
    ['inline-sized', 1000, 999],
    ['file-sized', 5 * 1024 * 1024, 1024 * 1024],
  ])('maxSize exceeded (%s) rejects with EntityTooLarge, destroys the source, leaves nothing', async (_n, size, max) => {
    const src = source(randomBytes(size));
    const err = await store.ingest(src, { maxSize: max }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3Error);
    expect((err as S3Error).code).toBe('EntityTooLarge');
    expect(src.destroyed).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await listTree(join(dir, 'blobs'))).toEqual([]);
  });

  it('a body of exactly maxSize is accepted', async () => {
    const res = await store.ingest(source(randomBytes(100_000)), { maxSize: 100_000 });
    expect(res.size).toBe(100_000);
  });
});

describe('read', () => {
  const body = randomBytes(2 * 1024 * 1024 + 123);
  let id: string;
  beforeEach(async () => {
    id = (await store.ingest(source(body))).blobId!;
  });

  it.each([
    ['first byte', 0, 0],
    ['last byte', body.length - 1, body.length - 1],
    ['middle', 1_000_000, 1_500_000],
    ['whole', 0, body.length - 1],
    ['past the end is cut at the end', body.length - 10, body.length + 1000],
  ])('%s', async (_name, start, end) => {
    const got = await collect(store.read(id, { start, end }));
    expect(Buffer.compare(got, body.subarray(start, end + 1))).toBe(0);
  });

  it('without a range returns the whole blob', async () => {
    expect(Buffer.compare(await collect(store.read(id)), body)).toBe(0);
  });

  it('a missing blob errors on the stream with ENOENT', async () => {
    const err = await collect(store.read('0123456789abcdef01234567')).catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('rejects an inverted range', () => {
    expect(() => store.read(id, { start: 10, end: 5 })).toThrow(RangeError);
  });
});

describe('delete', () => {
  it('removes the file and is idempotent', async () => {
    const { blobId } = await store.ingest(source(randomBytes(100_000)));
    await store.delete(blobId!);
    expect(existsSync(blobPath(blobId!))).toBe(false);
    await expect(store.delete(blobId!)).resolves.toBeUndefined();
  });
});

describe('blob ids that could escape the data directory are rejected', () => {
  const bad = ['../../etc/passwd', '..', '', 'ab/cd/0123456789abcdef0123', '0123456789ABCDEF01234567', '0123456789abcdef0123456', '0123456789abcdef01234567/..', '0123456789abcdef0123456\0'];
  it.each(bad)('%j', async (id) => {
    expect(() => store.read(id)).toThrow(RangeError);
    await expect(store.delete(id)).rejects.toThrow(RangeError);
  });
});

describe('sweepOrphans', () => {
  const old = (Date.now() - 3_600_000) / 1000;

  async function age(path: string): Promise<void> {
    await utimes(path, old, old);
  }

  it('removes old temp files and old unreferenced blobs, keeps referenced and young ones', async () => {
    const ids: Record<string, string> = {};
    for (const name of ['oldReferenced', 'oldOrphan', 'youngOrphan']) {
      ids[name] = (await store.ingest(source(randomBytes(50_000)))).blobId!;
    }
    await age(blobPath(ids.oldReferenced!));
    await age(blobPath(ids.oldOrphan!));
    // temp files as a crash would leave them
    await writeFile(join(dir, 'tmp', 'aaaaaaaaaaaaaaaaaaaaaaaa'), 'partial');
    await writeFile(join(dir, 'tmp', 'bbbbbbbbbbbbbbbbbbbbbbbb'), 'in progress');
    await age(join(dir, 'tmp', 'aaaaaaaaaaaaaaaaaaaaaaaa'));
    // a stranger file in the blob tree is not ours to remove
    await mkdir(join(dir, 'blobs', 'zz', 'zz'), { recursive: true });
    await writeFile(join(dir, 'blobs', 'zz', 'zz', 'README'), 'x');
    await age(join(dir, 'blobs', 'zz', 'zz', 'README'));

    const asked: string[] = [];
    const removed = await store.sweepOrphans(async (id) => {
      asked.push(id);
      return id === ids.oldReferenced;
    }, 60_000);

    expect(removed).toBe(2);
    expect(asked.sort()).toEqual([ids.oldReferenced, ids.oldOrphan].sort());
    expect(existsSync(blobPath(ids.oldReferenced!))).toBe(true);
    expect(existsSync(blobPath(ids.oldOrphan!))).toBe(false);
    expect(existsSync(blobPath(ids.youngOrphan!))).toBe(true);
    expect(await readdir(join(dir, 'tmp'))).toEqual(['bbbbbbbbbbbbbbbbbbbbbbbb']);
    expect(existsSync(join(dir, 'blobs', 'zz', 'zz', 'README'))).toBe(true);
  });

  it('with minAgeMs 0 removes every unreferenced file', async () => {
    const a = (await store.ingest(source(randomBytes(50_000)))).blobId!;
    // a second old rather than a sleep: the age compared is Date.now() - mtime
    const t = (Date.now() - 1000) / 1000;
    await utimes(blobPath(a), t, t);
    expect(await store.sweepOrphans(async () => false, 0)).toBe(1);
    expect(existsSync(blobPath(a))).toBe(false);
  });
});
