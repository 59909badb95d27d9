/**
 * --cluster and --redis-url as the gateway's cluster option. Without --cluster the gateway is
 * one region, as always: no Redis, no outbox. Every mistake in the file (unreadable, not
 * JSON, this region not in it, no secret) is one line naming the file and what is wrong.
 */
import type { GatewayOptions } from '../gateway/server.js';
import { loadTopology, TopologyError } from '../replication/topology.js';
import { UsageError, type FlagValues } from './args.js';
import { CommandError } from './errors.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function clusterOption(flags: FlagValues, env: Record<string, string | undefined>): GatewayOptions['cluster'] {
  const file = flags['cluster'] as string | undefined;
  if (file === undefined) return undefined;
  const redisUrl = String(flags['redis-url'] ?? DEFAULT_REDIS_URL);
  if (!isRedisUrl(redisUrl)) throw new UsageError(`--redis-url: expected redis://HOST:PORT (or rediss://), got ${JSON.stringify(redisUrl)}`);
  try {
    return { topology: loadTopology(file, String(flags['region']), env), redisUrl };
  } catch (err) {
    if (err instanceof TopologyError) throw new CommandError(err.message);
    throw err;
  }
}

function isRedisUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}
