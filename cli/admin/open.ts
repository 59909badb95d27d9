/**
 * Where `erne keys|buckets|storage` do their work: with --endpoint, a running cluster through
 * its admin API (signed with a root key); otherwise the region's metadata directly, chosen by
 * the same flags as `erne serve` (LMDB allows several processes; FDB is a cluster).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from '../../gateway/admin/types.js';
import { UsageError, type FlagValues } from '../args.js';
import { CommandError } from '../errors.js';

export function isRemote(flags: FlagValues): boolean {
  return typeof flags['endpoint'] === 'string';
}

export function endpointOf(flags: FlagValues): URL {
  const raw = String(flags['endpoint']);
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // said below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`--endpoint: expected an http(s) URL, got ${JSON.stringify(raw)}`);
  return url;
}

/** the root key to sign admin requests with: flags (or ERNE_ROOT_*), else the AWS_* pair */
export function rootCredentials(flags: FlagValues, env: Record<string, string | undefined>): { accessKeyId: string; secretAccessKey: string } {
  const id = flags['root-access-key'] as string | undefined;
  const secret = flags['root-secret-key'] as string | undefined;
  if (id !== undefined || secret !== undefined) {
    if (id === undefined || secret === undefined) throw new UsageError('--root-access-key and --root-secret-key go together');
    return { accessKeyId: id, secretAccessKey: secret };
  }
  const awsId = env['AWS_ACCESS_KEY_ID'];
  const awsSecret = env['AWS_SECRET_ACCESS_KEY'];
  if (awsId && awsSecret) return { accessKeyId: awsId, secretAccessKey: awsSecret };
  throw new UsageError('--endpoint needs a root key: --root-access-key and --root-secret-key (ERNE_ROOT_ACCESS_KEY/ERNE_ROOT_SECRET_KEY), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
}

export async function openAdmin(flags: FlagValues, env: Record<string, string | undefined>): Promise<Admin> {
  if (isRemote(flags)) {
    const { remoteAdmin } = await import('./remote.js');
    return remoteAdmin(endpointOf(flags).href, rootCredentials(flags, env));
  }
  return openLocalAdmin(flags);
}

/** the region's metadata, opened here; in a cluster what is written replicates (its outbox) */
async function openLocalAdmin(flags: FlagValues): Promise<Admin> {
  // loaded lazily so argument errors and --help never need the metadata modules
  const { openMetadataStore } = await import('../../metadata/open.js');
  const { createObjectLayer } = await import('../../metadata/objects.js');
  const { createBucketConfigStore } = await import('../../metadata/bucket-config.js');
  const { readCluster, toolWriter } = await import('../../metadata/cluster-record.js');
  const { localAdmin } = await import('../../gateway/admin/ops.js');
  const { metadataOption } = await import('../metadata-flags.js');
  const chosen = metadataOption(flags)!;
  // opening LMDB would make an empty region wherever the path points: say so instead
  if (chosen.backend === 'lmdb') {
    const dataDir = String(flags['data-dir']);
    const dir = chosen.dir ?? join(dataDir, 'meta');
    if (!existsSync(join(dir, 'data.mdb'))) {
      throw new CommandError(
        chosen.dir ? `no Erne metadata in --metadata-dir ${dir}: check the path, or start 'erne serve' with it first` : `no Erne data in --data-dir ${dataDir}: check the path, or start 'erne serve --data-dir ${dataDir}' first`,
      );
    }
  }
  const kv = await openMetadataStore(chosen.backend === 'fdb' ? chosen : { backend: 'lmdb', dir: chosen.dir ?? join(String(flags['data-dir']), 'meta') });
  const writer = await toolWriter(kv, String(flags['region']));
  const layer = createObjectLayer(kv, writer);
  const cluster = await readCluster(kv);
  const keys = await layer.listAccessKeys();
  // new buckets belong to serve's root key, as if it had made them
  const owner = (keys.find((k) => k.rootSource) ?? keys.find((k) => k.root))?.accessKeyId ?? 'erne';
  const admin = localAdmin({
    layer,
    configs: createBucketConfigStore(kv, writer),
    region: writer.region,
    regions: cluster ? [cluster.self, ...cluster.peers] : [writer.region],
    owner,
    close: () => layer.close(),
  });
  if (!cluster) return admin;
  // bucket names are decided by the cluster's control region: only a gateway can ask it
  const refuse = async (): Promise<never> => {
    throw new CommandError(`this region (${cluster.self}) is one of a cluster, where the control region decides bucket names: use --endpoint URL of a running gateway`);
  };
  return { ...admin, createBucket: refuse, deleteBucket: refuse };
}
