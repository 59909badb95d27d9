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
async function withRegion<T>(flags: FlagValues, fn: (layer: ObjectLayer, configs: BucketConfigStore) => Promise<T>): Promise<T> {
  // loaded lazily so argument errors and --help never need the metadata modules
  const { openMetadataStore } = await import('../metadata/open.js');
  const { createObjectLayer } = await import('../metadata/objects.js');
  const { createBucketConfigStore } = await import('../metadata/bucket-config.js');
  const { metadataOption } = await import('./metadata-flags.js');
  const chosen = metadataOption(flags)!;
  const kv = await openMetadataStore(chosen.backend === 'fdb' ? chosen : { backend: 'lmdb', dir: chosen.dir ?? join(String(flags['data-dir']), 'meta') });
  const { toolWriter } = await import('../metadata/cluster-record.js');
  // in a cluster, the setting replicates (the gateway's relay carries it)
  const writer = await toolWriter(kv, String(flags['region']));
  const layer = createObjectLayer(kv, writer);
  try {
    return await fn(layer, createBucketConfigStore(kv, writer));
  } finally {
    await layer.close();
  }
}

/** `--NAME` / `--no-NAME` → true / false; undefined when neither is given */
function onOff(flags: FlagValues, name: string): boolean | undefined {
  const on = flags[name] === true;
  const off = flags[`no-${name}`] === true;
  if (on && off) throw new UsageError(`--${name} and --no-${name} contradict each other`);
  return on ? true : off ? false : undefined;
}

/** the settings to change: --public / --no-public, --consistent / --no-consistent (at least one) */
export function updateFlags(flags: FlagValues): { public?: boolean; consistent?: boolean } {
  const pub = onOff(flags, 'public');
  const consistent = onOff(flags, 'consistent');
  if (pub === undefined && consistent === undefined) throw new UsageError('nothing to update: give --public, --no-public, --consistent or --no-consistent');
  return { ...(pub !== undefined ? { public: pub } : {}), ...(consistent !== undefined ? { consistent } : {}) };
}

/**
 * `--consistent`: every object request of the bucket is strongly consistent, as if it sent
 * `X-Tigris-Consistent: true` (executed by the bucket's home region; gateway/forward/bucket-route.ts).
 */
export async function bucketsUpdate(flags: FlagValues, name: string, out: (s: string) => void): Promise<void> {
  const change = updateFlags(flags);
  const { PUBLIC_BUCKET_KIND } = await import('../metadata/bucket-config.js');
  const { CONSISTENT_KIND } = await import('../metadata/bucket-locations.js');
  await withRegion(flags, async (layer, configs) => {
    await layer.getBucket(name).catch((err: unknown) => {
      throw err instanceof MetadataError && err.code === 'NoSuchBucket' ? new CommandError(`no bucket ${name} in this region`) : err;
    });
    if (change.public === true) await configs.put(name, PUBLIC_BUCKET_KIND, true);
    if (change.public === false) await configs.delete(name, PUBLIC_BUCKET_KIND);
    if (change.consistent === true) await configs.put(name, CONSISTENT_KIND, true);
    if (change.consistent === false) await configs.delete(name, CONSISTENT_KIND);
  });
  if (change.public !== undefined) {
    out(change.public ? `bucket ${name}: public (anyone may read every object in it)\n` : `bucket ${name}: not public (its ACLs decide who reads)\n`);
  }
  if (change.consistent !== undefined) {
    out(
      change.consistent
        ? `bucket ${name}: consistent (every object request is executed by its home region, as with X-Tigris-Consistent: true)\n`
        : `bucket ${name}: not consistent by default (requests are served where they arrive unless they send X-Tigris-Consistent: true)\n`,
    );
  }
}
