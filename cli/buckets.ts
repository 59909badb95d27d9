import { join } from 'node:path';
import type { BucketConfigStore } from '../metadata/bucket-config.js';
import { MetadataError } from '../metadata/errors.js';
import type { ObjectLayer } from '../metadata/object-layer.js';
import type { FlagValues } from './args.js';
import { UsageError } from './args.js';
import { CommandError } from './keys.js';

/**
 * `erne buckets update NAME --public|--no-public`: Erne's own public-bucket setting (every
 * object readable by anyone, like a public bucket on Tigris or R2), apart from S3's ACLs.
 * Works on the region's metadata directly, as `erne keys` does, also while gateways run.
 */
async function withRegion<T>(flags: FlagValues, fn: (layer: ObjectLayer, configs: BucketConfigStore, regions: string[]) => Promise<T>): Promise<T> {
  // loaded lazily so argument errors and --help never need the metadata modules
  const { openMetadataStore } = await import('../metadata/open.js');
  const { createObjectLayer } = await import('../metadata/objects.js');
  const { createBucketConfigStore } = await import('../metadata/bucket-config.js');
  const { metadataOption } = await import('./metadata-flags.js');
  const chosen = metadataOption(flags)!;
  const kv = await openMetadataStore(chosen.backend === 'fdb' ? chosen : { backend: 'lmdb', dir: chosen.dir ?? join(String(flags['data-dir']), 'meta') });
  const { readCluster, toolWriter } = await import('../metadata/cluster-record.js');
  const cluster = await readCluster(kv);
  // in a cluster, the setting replicates (the gateway's relay carries it)
  const writer = await toolWriter(kv, String(flags['region']));
  const layer = createObjectLayer(kv, writer);
  try {
    return await fn(layer, createBucketConfigStore(kv, writer), cluster ? [cluster.self, ...cluster.peers] : [writer.region]);
  } finally {
    await layer.close();
  }
}

/** --public / --no-public → the setting; exactly one of them */
export function publicFlag(flags: FlagValues): boolean {
  const on = flags['public'] === true;
  const off = flags['no-public'] === true;
  if (on && off) throw new UsageError('--public and --no-public contradict each other');
  if (!on && !off) throw new UsageError('nothing to update: give --public or --no-public');
  return on;
}

/**
 * `erne buckets set-locations NAME --locations global|iad,fra|home:fra`: where the bucket's
 * bytes live from its next write on (metadata/bucket-locations.ts). Regions are checked
 * against the cluster this metadata was last served in.
 */
export async function bucketsSetLocations(flags: FlagValues, name: string, out: (s: string) => void): Promise<void> {
  const text = flags['locations'];
  if (typeof text !== 'string' || text.trim() === '') throw new UsageError('give --locations global|R,R…|home:R');
  const { parseLocations, formatLocations, LOCATIONS_KIND } = await import('../metadata/bucket-locations.js');
  const chosen = await withRegion(flags, async (layer, configs, regions) => {
    const parsed = parseLocations(text, regions);
    if ('error' in parsed) throw new CommandError(`--locations ${text}: ${parsed.error}`);
    await layer.getBucket(name).catch((err: unknown) => {
      throw err instanceof MetadataError && err.code === 'NoSuchBucket' ? new CommandError(`no bucket ${name} in this region`) : err;
    });
    // stored in its text form, as the gateway stores X-Tigris-Regions (gateway/locations.ts)
    if (parsed.type === 'global') await configs.delete(name, LOCATIONS_KIND);
    else await configs.put(name, LOCATIONS_KIND, formatLocations(parsed));
    return formatLocations(parsed);
  });
  out(`bucket ${name}: locations ${chosen} (applies to new writes)\n`);
}

export async function bucketsUpdate(flags: FlagValues, name: string, out: (s: string) => void): Promise<void> {
  const makePublic = publicFlag(flags);
  const { PUBLIC_BUCKET_KIND } = await import('../metadata/bucket-config.js');
  await withRegion(flags, async (layer, configs) => {
    await layer.getBucket(name).catch((err: unknown) => {
      throw err instanceof MetadataError && err.code === 'NoSuchBucket' ? new CommandError(`no bucket ${name} in this region`) : err;
    });
    if (makePublic) await configs.put(name, PUBLIC_BUCKET_KIND, true);
    else await configs.delete(name, PUBLIC_BUCKET_KIND);
  });
  out(makePublic ? `bucket ${name}: public (anyone may read every object in it)\n` : `bucket ${name}: not public (its ACLs decide who reads)\n`);
}
