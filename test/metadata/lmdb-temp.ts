import { afterEach, beforeEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { KvStore } from '../../metadata/kv.js';
import type { NewObject } from '../../metadata/types.js';
import type { WriterOptions } from '../../metadata/region-writer.js';

export interface TempLayer {
  layer: ObjectLayer;
  kv: KvStore;
  /** closes the layer and opens the same LMDB environment again */
  reopen(): Promise<ObjectLayer>;
  cleanup(): Promise<void>;
}

/** an object layer on a real LMDB environment in a fresh temp dir; `writer`: its change sink and clock */
export async function tempLayer(region = 'test-1', writer: Omit<WriterOptions, 'region'> = {}): Promise<TempLayer> {
  const dir = await mkdtemp(join(tmpdir(), 'erne-meta-'));
  const t: TempLayer = {
    kv: await openLmdb(dir),
    layer: undefined as unknown as ObjectLayer,
    async reopen() {
      await t.layer.close();
      t.kv = await openLmdb(dir);
      t.layer = createObjectLayer(t.kv, { ...writer, region });
      return t.layer;
    },
    async cleanup() {
      await t.layer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  t.layer = createObjectLayer(t.kv, { ...writer, region });
  return t;
}

/** a small object stored inline, as the layer's tests write them (ETag 'etag-<text>', owner AK1) */
export function inlineObject(key: string, text: string, bucket = 'bkt'): NewObject {
  return {
    bucket,
    key,
    size: text.length,
    etag: 'etag-' + text,
    owner: 'AK1',
    headers: {},
    userMetadata: {},
    checksums: {},
    body: { kind: 'inline', data: Buffer.from(text) },
  };
}

/**
 * vitest hooks: before each test a fresh layer (see tempLayer) holding bucket 'bkt' (owner
 * AK1), closed and removed after it. Read the fields inside tests; `env.reopen()` replaces
 * `layer`.
 */
export function useBucketLayer(opts: { region?: string; bucketRegion?: string } = {}): { readonly env: TempLayer; readonly layer: ObjectLayer } {
  let env: TempLayer | undefined;
  beforeEach(async () => {
    env = await tempLayer(opts.region);
    await env.layer.createBucket({ name: 'bkt', owner: 'AK1', region: opts.bucketRegion ?? opts.region ?? 'test-1' });
  });
  afterEach(() => env?.cleanup());
  const live = (): TempLayer => {
    if (!env) throw new Error('useBucketLayer: read env/layer inside a test, not while the file loads');
    return env;
  };
  return {
    get env() {
      return live();
    },
    get layer() {
      return live().layer;
    },
  };
}
