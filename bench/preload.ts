/**
 * The big LIST's fast fill, for Erne only. Filling a million keys with HTTP PUTs takes many
 * minutes on a small machine, and the PUT path is not what the case measures, so the keys are
 * written straight into the data directory of an Erne that has not started yet, through
 * Erne's own object layer: ObjectLayer.putObjects, PRELOAD_BATCH objects per transaction, each
 * version committed exactly as putObject commits it. The objects are the ones the list
 * workload's HTTP fill makes (./workloads/list.ts, ./client.ts): empty bodies stored inline,
 * the MD5 of nothing as ETag, no checksums, no headers, owned by the key that signs. The
 * listing that follows is measured over HTTP as usual.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MetadataError } from '../metadata/errors.js';
import { createObjectLayer } from '../metadata/objects.js';
import { openMetadataStore } from '../metadata/open.js';
import type { NewObject } from '../metadata/types.js';
import { setVersionIdWriter } from '../metadata/version-id.js';
import { objectKey } from './workload.js';
import { listPrefix } from './workloads/list.js';

export const PRELOAD_BATCH = 1000;

/** what bench results say about objects put in place by preloadListKeys */
export const PRELOADED = `written into Erne's LMDB before it started, through its object layer (ObjectLayer.putObjects, ${PRELOAD_BATCH} per transaction), not by HTTP PUTs`;

export interface PreloadOptions {
  bucket: string;
  /** the access key id that owns the bucket and the objects (the one the bench signs with) */
  owner: string;
  region: string;
  /** objects: objectKey(listPrefix(keys), 0 … keys-1) */
  keys: number;
  log?: (line: string) => void;
}

/** fills `dataDir` (an `erne serve --data-dir`, not running) for the list workload; returns the ms it took */
export async function preloadListKeys(dataDir: string, opts: PreloadOptions): Promise<number> {
  const t0 = performance.now();
  const log = opts.log ?? (() => undefined);
  // where and as whom `erne serve --data-dir` writes: LMDB under <data>/meta, version ids
  // carrying the node id (gateway/server.ts)
  const { nodeIdFor } = await import('../gateway/server.js');
  await mkdir(dataDir, { recursive: true });
  setVersionIdWriter(await nodeIdFor(dataDir));
  const kv = await openMetadataStore({ backend: 'lmdb', dir: join(dataDir, 'meta') });
  const layer = createObjectLayer(kv, { region: opts.region });
  try {
    await layer.createBucket({ name: opts.bucket, owner: opts.owner, region: opts.region }).catch((err: unknown) => {
      if (!(err instanceof MetadataError && err.code === 'BucketAlreadyOwnedByYou')) throw err;
    });
    const prefix = listPrefix(opts.keys);
    const etag = createHash('md5').digest('hex');
    const empty = new Uint8Array(0);
    let lastLog = Date.now();
    for (let i = 0; i < opts.keys; i += PRELOAD_BATCH) {
      const batch: NewObject[] = [];
      for (let j = i; j < Math.min(opts.keys, i + PRELOAD_BATCH); j++) {
        batch.push({ bucket: opts.bucket, key: objectKey(prefix, j), size: 0, etag, owner: opts.owner, headers: {}, userMetadata: {}, checksums: {}, body: { kind: 'inline', data: empty } });
      }
      await layer.putObjects(batch);
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`preload: ${i + batch.length}/${opts.keys} objects, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
  } finally {
    await layer.close();
    setVersionIdWriter(undefined);
  }
  return performance.now() - t0;
}
