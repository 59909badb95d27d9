/**
 * The one place that knows which metadata backend runs: everything else gets a KvStore.
 * Backends are loaded lazily, so LMDB users never load the FoundationDB binding and the
 * reverse.
 */
import type { KvStore } from './kv.js';

export type MetadataOptions =
  /** one LMDB environment; several processes on one host may share it */
  | { backend: 'lmdb'; dir: string }
  /** a FoundationDB cluster (one per region) */
  | { backend: 'fdb'; clusterFile?: string; apiVersion?: number; prefix?: string };

export type MetadataBackend = MetadataOptions['backend'];

export async function openMetadataStore(opts: MetadataOptions): Promise<KvStore> {
  if (opts.backend === 'fdb') {
    const { openFdb } = await import('./fdb.js');
    return openFdb({ clusterFile: opts.clusterFile, apiVersion: opts.apiVersion, prefix: opts.prefix });
  }
  const { openLmdb } = await import('./lmdb.js');
  return openLmdb(opts.dir);
}

/** `lmdb` or `fdb` from a flag or variable; anything else is refused with one line */
export function parseBackend(value: string | undefined): MetadataBackend {
  const v = (value ?? 'lmdb').toLowerCase();
  if (v === 'lmdb' || v === 'fdb') return v;
  throw new RangeError(`metadata backend must be lmdb or fdb, got ${JSON.stringify(value)}`);
}
