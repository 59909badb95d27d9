import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBlobStore } from '../../cache/file-blob-store.js';
import { startJanitor } from '../../cache/janitor.js';
import type { BlobStore } from '../../cache/types.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { GarbageBlob } from '../../metadata/types.js';

/**
 * The blob-bookkeeping part of the object layer, kept in memory: the janitor only uses
 * garbage / clearGarbage / isBlobReferenced. (Stand-in until metadata/objects.ts lands.)
 */
function bookkeeping() {
  const garbage: GarbageBlob[] = [];
  const referenced = new Set<string>();
  const calls = { garbage: 0, clearGarbage: 0 };
  const layer = {
    async garbage(limit: number) {
      calls.garbage++;
      return garbage.slice(0, limit);
    },
    async clearGarbage(ids: string[]) {
      calls.clearGarbage++;
      for (const id of ids) {
        const i = garbage.findIndex((g) => g.blobId === id);
        if (i >= 0) garbage.splice(i, 1);
      }
    },
    async isBlobReferenced(id: string) {
      return referenced.has(id);
    },
  };
  return { layer: layer as unknown as ObjectLayer, raw: layer, garbage, referenced, calls };
}

let dir: string;
let blobs: BlobStore;
const stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'erne-janitor-'));
  blobs = await openBlobStore(dir, { nodeId: 'me' });
});

afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  await rm(dir, { recursive: true, force: true });
});

async function blob(): Promise<string> {
  return (await blobs.ingest(Readable.from([randomBytes(40_000)]))).blobId!;
}

function pathOf(id: string): string {
  return join(dir, 'blobs', id.slice(0, 2), id.slice(2, 4), id);
}

async function makeOld(path: string): Promise<void> {
  const t = (Date.now() - 2 * 3_600_000) / 1000;
  await utimes(path, t, t);
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function start(layer: ObjectLayer, opts: Parameters<typeof startJanitor>[2] = {}) {
  const j = startJanitor(layer, blobs, { intervalMs: 3_600_000, ...opts });
  stops.push(() => j.stop());
  return j;
}

describe('janitor', () => {
  it('at start removes this node’s garbage files, clears them, and leaves other nodes’ entries queued', async () => {
    const k = bookkeeping();
    const mineA = await blob();
    const mineB = await blob();
    const kept = await blob();
    k.referenced.add(kept);
    k.garbage.push({ blobId: mineA, node: 'me' }, { blobId: 'ffffffffffffffffffffffff', node: 'other' }, { blobId: mineB, node: 'me' });

    const j = start(k.layer);
    await j.runOnce();

    expect(existsSync(pathOf(mineA))).toBe(false);
    expect(existsSync(pathOf(mineB))).toBe(false);
    expect(existsSync(pathOf(kept))).toBe(true);
    expect(k.garbage).toEqual([{ blobId: 'ffffffffffffffffffffffff', node: 'other' }]);
  });

  it('an entry whose file is already gone is cleared too (delete is idempotent)', async () => {
    const k = bookkeeping();
    k.garbage.push({ blobId: 'aaaaaaaaaaaaaaaaaaaaaaaa', node: 'me' });
    await start(k.layer).runOnce();
    expect(k.garbage).toEqual([]);
  });

  it('sweeps old orphans (unreferenced blobs, temp files) and keeps referenced and young files', async () => {
    const k = bookkeeping();
    const orphan = await blob();
    const referenced = await blob();
    const young = await blob();
    k.referenced.add(referenced);
    await makeOld(pathOf(orphan));
    await makeOld(pathOf(referenced));
    const tmp = join(dir, 'tmp', '0123456789abcdef01234567');
    await writeFile(tmp, 'left by a crash');
    await makeOld(tmp);

    const lines: string[] = [];
    const j = start(k.layer, { orphanMinAgeMs: 3_600_000, log: (m) => lines.push(m) });
    await j.runOnce();

    expect(existsSync(pathOf(orphan))).toBe(false);
    expect(existsSync(tmp)).toBe(false);
    expect(existsSync(pathOf(referenced))).toBe(true);
    expect(existsSync(pathOf(young))).toBe(true);
    expect(lines.join('\n')).toMatch(/2 orphan/);
  });

  it('runs by itself at start and again every interval', async () => {
    const k = bookkeeping();
    const first = await blob();
    k.garbage.push({ blobId: first, node: 'me' });
    start(k.layer, { intervalMs: 30 });
    await until(() => !existsSync(pathOf(first)));

    const later = await blob();
    k.garbage.push({ blobId: later, node: 'me' });
    await until(() => !existsSync(pathOf(later)));
    expect(k.garbage).toEqual([]);
  });

  it('drains a queue longer than one batch in one pass', async () => {
    const k = bookkeeping();
    for (let i = 0; i < 600; i++) k.garbage.push({ blobId: i.toString(16).padStart(24, '0'), node: 'me' });
    await start(k.layer).runOnce();
    expect(k.garbage).toEqual([]);
    expect(k.calls.garbage).toBeGreaterThanOrEqual(3);
  });

  it('a failing pass is logged and the next pass still runs', async () => {
    const k = bookkeeping();
    let fail = true;
    const flaky = {
      ...k.raw,
      async garbage(limit: number) {
        if (fail) throw new Error('metadata unavailable');
        return k.raw.garbage(limit);
      },
    } as unknown as ObjectLayer;
    const lines: string[] = [];
    const j = start(flaky, { intervalMs: 20, log: (m) => lines.push(m) });
    await until(() => lines.some((l) => l.includes('metadata unavailable')));
    await expect(j.runOnce()).rejects.toThrow('metadata unavailable');

    fail = false;
    const id = await blob();
    k.garbage.push({ blobId: id, node: 'me' });
    await until(() => !existsSync(pathOf(id)));
  });

  it('stop() waits for the pass in progress and no pass starts after it', async () => {
    const k = bookkeeping();
    const id = await blob();
    k.garbage.push({ blobId: id, node: 'me' });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = {
      ...k.raw,
      async garbage(limit: number) {
        await gate;
        return k.raw.garbage(limit);
      },
    } as unknown as ObjectLayer;
    const j = startJanitor(slow, blobs, { intervalMs: 10 });
    let stopped = false;
    const stopping = j.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    release();
    await stopping;
    // the pass that was running finished its work before stop() resolved
    expect(existsSync(pathOf(id))).toBe(false);
    const calls = k.calls.clearGarbage;
    await new Promise((r) => setTimeout(r, 50));
    expect(k.calls.clearGarbage).toBe(calls);
  });
});
