/**
 * Reading bytes another region holds: versions replicated here keep their bytes in the region
 * that took the write (body { kind: 'remote', region }). A read pulls them from there
 * (replication/region-fetch.ts) through this region's cache of such copies (cache/remote-cache.ts,
 * its own directory and budget): the first read streams while the copy is stored, concurrent
 * reads share the fetch, later reads are served from the copy. Bytes written in this region
 * are never in this cache, so they are never evicted.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RemoteCache, type RemoteCacheOptions, type RemoteCacheStats } from '../cache/remote-cache.js';
import type { ByteRange } from '../cache/types.js';
import { fetchRegionObject, RegionFetchError, type RegionObjectRef } from './region-fetch.js';
import type { Topology } from './topology.js';

/** a version whose bytes `region` holds, with what this region's metadata says of it */
export interface RegionSource extends RegionObjectRef {
  region: string;
  size: number;
  /** hex MD5 (or md5-of-md5s-N), unquoted */
  etag: string;
}

/**
 * A read whose bytes must not rest in this region (data residency: a bucket whose regions
 * list leaves this region out): streamed straight from a listed region, never cached, trying
 * `regions` after the source's region when it cannot be reached.
 */
export interface NoStore {
  regions: readonly string[];
}

export interface RegionBytes {
  /** resolves once the bytes can be read (cached, or the region answered); RegionFetchError otherwise */
  open(src: RegionSource, range?: ByteRange, noStore?: NoStore): Promise<Readable>;
  stats(): RemoteCacheStats;
}

/** the cache entry of a version: its name says nothing of the (user-chosen) bucket and key */
export function regionCacheId(ref: RegionObjectRef): string {
  return createHash('sha256').update(JSON.stringify([ref.bucket, ref.key, ref.versionId])).digest('hex');
}

export async function openRegionBytes(topology: Topology, dir: string, opts: RemoteCacheOptions = {}): Promise<RegionBytes> {
  const cache = await RemoteCache.open<RegionSource>(
    dir,
    ({ source }, range) => fetchRegionObject(topology, source.region, source, { range, expect: { size: source.size, etag: source.etag } }),
    opts,
  );
  return {
    open: (src, range, noStore) => (noStore ? streamThrough(topology, src, range, noStore) : cache.open({ id: regionCacheId(src), source: src, size: src.size }, range)),
    stats: () => cache.stats(),
  };
}

/** the bytes from the source's region, or else from another listed one, through no cache */
async function streamThrough(topology: Topology, src: RegionSource, range: ByteRange | undefined, noStore: NoStore): Promise<Readable> {
  const order = [src.region, ...noStore.regions.filter((r) => r !== src.region && r !== topology.self)];
  let last: unknown;
  for (const region of order) {
    try {
      return await fetchRegionObject(topology, region, src, { range, expect: { size: src.size, etag: src.etag } });
    } catch (err) {
      if (!(err instanceof RegionFetchError)) throw err;
      last = err;
    }
  }
  throw last;
}
