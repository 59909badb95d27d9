import type { GatewayOptions } from '../gateway/server.js';
import { parseBackend } from '../metadata/open.js';
import { UsageError, type FlagValues } from './args.js';

/** --metadata and its companions as the gateway's option; nothing else looks at the backend */
export function metadataOption(flags: FlagValues): GatewayOptions['metadata'] {
  let backend;
  try {
    backend = parseBackend(flags['metadata'] as string | undefined);
  } catch (err) {
    throw new UsageError(`--metadata: ${(err as Error).message}`);
  }
  if (backend === 'fdb') {
    return { backend, clusterFile: flags['fdb-cluster-file'] as string | undefined, apiVersion: flags['fdb-api-version'] as number | undefined };
  }
  return { backend, dir: flags['metadata-dir'] as string | undefined };
}
