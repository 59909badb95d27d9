import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLmdb } from '../../metadata/lmdb.js';
import { createObjectLayer } from '../../metadata/objects.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { KvStore } from '../../metadata/kv.js';
import type { NewObject } from '../../metadata/types.js';

export interface TempLayer {
  layer: ObjectLayer;
  kv: KvStore;
  /** closes the layer and opens the same LMDB environment again */
  reopen(): Promise<ObjectLayer>;
  cleanup(): Promise<void>;
}

/** an object layer on a real LMDB environment in a fresh temp dir */
export async function tempLayer(region = 'test-1'): Promise<TempLayer> {
  const dir = await mkdtemp(join(tmpdir(), 'erne-meta-'));
  const t: TempLayer = {
    kv: await openLmdb(dir),
    layer: undefined as unknown as ObjectLayer,
    async reopen() {
      await t.layer.close();
      t.kv = await openLmdb(dir);
      t.layer = createObjectLayer(t.kv, { region });
      return t.layer;
    },
    async cleanup() {
      await t.layer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  t.layer = createObjectLayer(t.kv, { region });
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
