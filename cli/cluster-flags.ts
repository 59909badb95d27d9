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
    const repair = { intervalMs: timeFlag(flags, 'repair-interval', 5 * 60_000), graceMs: timeFlag(flags, 'tombstone-grace', 60 * 60_000) };
    return { topology: loadTopology(file, String(flags['region']), env), redisUrl, repair };
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

/** "30s", "5m", "1h", "250ms", "0": milliseconds */
export function parseTime(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m || (m[2] === undefined && Number(m[1]) !== 0)) throw new UsageError(`--${name}: expected a time like 30s, 5m or 1h (0: off), got ${JSON.stringify(text)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms']!;
  return Math.round(Number(m[1]) * unit);
}

function timeFlag(flags: FlagValues, name: string, fallback: number): number {
  const v = flags[name];
  return v === undefined ? fallback : parseTime(name, String(v));
}
