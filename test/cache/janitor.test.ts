import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openBlobStore } from '../../cache/file-blob-store.js';
import { startJanitor } from '../../cache/janitor.js';
import type { BlobStore } from '../../cache/types.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import type { NewObject } from '../../metadata/types.js';

let dir: string;
let blobs: BlobStore;
let layer: ObjectLayer;
const stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erne-janitor-'));
  blobs = await openBlobStore(join(dir, 'volume'), { nodeId: 'me' });
  layer = createObjectLayer(await openLmdb(join(dir, 'meta')), { region: 'r1' });
  await layer.createBucket({ name: 'b', owner: 'o', region: 'r1' });
});

afterEach(async () => {
  vi.useRealTimers();
  for (const s of stops.splice(0)) await s();
  await layer.close();
  await rm(dir, { recursive: true, force: true });
});

function version(key: string, blobId: string, node: string): NewObject {
  return { bucket: 'b', key, size: 40_000, etag: 'e', owner: 'o', headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'blob', blobId, node } };
}

/** a version points at the blob */
async function reference(blobId: string): Promise<void> {
  await layer.putObject(version(`ref-${blobId}`, blobId, 'me'));
}

/** a version pointed at the blob and was deleted: the layer queues the blob as garbage */
async function makeGarbage(blobId: string, node = 'me'): Promise<void> {
  await layer.putObject(version(`gone-${blobId}`, blobId, node));
  await layer.deleteObject('b', `gone-${blobId}`);
}

/** the layer with some calls passed through `wrap`, to slow down or fail them */
function wrapped(over: Partial<Pick<ObjectLayer, 'garbage' | 'clearGarbage'>>): ObjectLayer {
  return new Proxy(layer, {
    get(target, prop, receiver) {
      const own = (over as Record<PropertyKey, unknown>)[prop];
      if (own !== undefined) return own;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

async function blob(): Promise<string> {
  return (await blobs.ingest(Readable.from([randomBytes(40_000)]))).blobId!;
}

function pathOf(id: string): string {
  return join(dir, 'volume', 'blobs', id.slice(0, 2), id.slice(2, 4), id);
}

async function makeOld(path: string): Promise<void> {
  const t = (Date.now() - 2 * 3_600_000) / 1000;
  await utimes(path, t, t);
}

/** polls `cond` (sync or async) until it holds */
async function until(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function start(layer: ObjectLayer, opts: Parameters<typeof startJanitor>[2] = {}) {
  const j = startJanitor(layer, blobs, { intervalMs: 3_600_000, ...opts });
  stops.push(() => j.stop());
  return j;
}

describe('janitor (real object layer on LMDB)', () => {
  it('removes this node’s garbage files, clears their entries, and leaves other nodes’ entries queued', async () => {
    const mineA = await blob();
    const mineB = await blob();
    const kept = await blob();
    const othersId = 'ffffffffffffffffffffffff';
    await reference(kept);
    await makeGarbage(mineA);
    await makeGarbage(mineB);
    await makeGarbage(othersId, 'other');
    expect((await layer.garbage(10)).map((g) => g.blobId).sort()).toEqual([mineA, mineB, othersId].sort());

    await start(layer).runOnce();

    expect(existsSync(pathOf(mineA))).toBe(false);
    expect(existsSync(pathOf(mineB))).toBe(false);
    expect(existsSync(pathOf(kept))).toBe(true);
    expect(await layer.garbage(10)).toEqual([{ blobId: othersId, node: 'other' }]);
  });

  it('an entry whose file is already gone is cleared too (delete is idempotent)', async () => {
    await makeGarbage('aaaaaaaaaaaaaaaaaaaaaaaa');
    await start(layer).runOnce();
    expect(await layer.garbage(10)).toEqual([]);
  });

  it('sweeps old orphans (unreferenced blobs, temp files) and keeps referenced and young files', async () => {
    const orphan = await blob();
    const referenced = await blob();
    const young = await blob();
    await reference(referenced);
    await makeOld(pathOf(orphan));
    await makeOld(pathOf(referenced));
    const tmp = join(dir, 'volume', 'tmp', '0123456789abcdef01234567');
    await writeFile(tmp, 'left by a crash');
    await makeOld(tmp);

    const lines: string[] = [];
    await start(layer, { orphanMinAgeMs: 3_600_000, log: (m) => lines.push(m) }).runOnce();

    expect(existsSync(pathOf(orphan))).toBe(false);
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(pathOf(referenced))).toBe(true);
    expect(existsSync(pathOf(young))).toBe(true);
    expect(lines.join('\n')).toMatch(/2 orphan/);
  });

  it('runs by itself at start and again every interval', async () => {
    const first = await blob();
    await makeGarbage(first);
    start(layer, { intervalMs: 30 });
    // a pass deletes the file first and clears its entry after: wait for both
    const handled = (id: string) => async () => !existsSync(pathOf(id)) && !(await layer.garbage(10)).some((g) => g.blobId === id);
    await until(handled(first));

    const later = await blob();
    await makeGarbage(later);
    await until(handled(later));
    expect(existsSync(pathOf(later))).toBe(false);
    expect(await layer.garbage(10)).toEqual([]);
  });

  it('runOnce() during a pass runs one more pass after it, which sees changes made meanwhile', async () => {
    // the pass started at start() reads the (empty) queue, then waits at the gate
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reads = 0;
    let readDone!: () => void;
    const firstRead = new Promise<void>((r) => (readDone = r));
    const slow = wrapped({
      async garbage(limit: number) {
        const entries = await layer.garbage(limit);
        reads++;
        readDone();
        await gate;
        return entries;
      },
    });
    const j = start(slow);
    await firstRead;
    const id = await blob();
    await makeGarbage(id);
    const later = j.runOnce();
    const again = j.runOnce();
    release();
    await Promise.all([later, again]);
    expect(existsSync(pathOf(id))).toBe(false);
    expect(await layer.garbage(10)).toEqual([]);
    // both calls made during the pass share the one pass after it
    expect(reads).toBe(2);
  });

  it('drains a queue longer than one batch in one pass', async () => {
    const ids = await Promise.all(Array.from({ length: 300 }, () => blob()));
    for (const [i, id] of ids.entries()) await layer.putObject(version(`k${i}`, id, 'me'));
    await layer.deleteObjects('b', ids.map((_, i) => ({ key: `k${i}` })));
    expect(await layer.garbage(1000)).toHaveLength(300);

    let reads = 0;
    await start(wrapped({ garbage: (n) => (reads++, layer.garbage(n)) })).runOnce();
    expect(await layer.garbage(1000)).toEqual([]);
    expect(reads).toBeGreaterThanOrEqual(2);
    for (const id of ids) expect(existsSync(pathOf(id))).toBe(false);
  });

  it('a failing pass is logged and the next pass still runs', async () => {
    let fail = true;
    const flaky = wrapped({
      async garbage(limit: number) {
        if (fail) throw new Error('metadata unavailable');
        return layer.garbage(limit);
      },
    });
    const lines: string[] = [];
    const j = start(flaky, { intervalMs: 20, log: (m) => lines.push(m) });
    await until(() => lines.some((l) => l.includes('metadata unavailable')));
    await expect(j.runOnce()).rejects.toThrow('metadata unavailable');

    fail = false;
    const id = await blob();
    await makeGarbage(id);
    await until(() => !existsSync(pathOf(id)));
  });

  it('stop() waits for the pass in progress and no pass starts after it', async () => {
    // only the janitor's interval timer is faked: LMDB and the file system run for real
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const id = await blob();
    await makeGarbage(id);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inPass = new Promise<void>((r) => (entered = r));
    let reads = 0;
    const slow = wrapped({
      async garbage(limit: number) {
        reads++;
        entered();
        await gate;
        return layer.garbage(limit);
      },
    });
    const j = startJanitor(slow, blobs, { intervalMs: 10 });
    await inPass;
    let stopped = false;
    const stopping = j.stop().then(() => (stopped = true));
    await new Promise((r) => setImmediate(r));
    expect(stopped).toBe(false);
    release();
    await stopping;
    // the pass that was running finished its work before stop() resolved
    expect(existsSync(pathOf(id))).toBe(false);
    expect(await layer.garbage(10)).toEqual([]);
    const before = reads;
    const left = await blob();
    await makeGarbage(left);
    // many intervals later, no pass has started
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads).toBe(before);
    expect(existsSync(pathOf(left))).toBe(true);
  });
});
