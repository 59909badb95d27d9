/**
 * A gateway machine's view of the cluster from inside its region's network namespace. The
 * machine's config is written as the host sees things (`erne machines scale` makes it on a
 * host where the cluster file lists 127.0.0.1:PORT for every gateway, and the Redis URLs are
 * the host's): inside a namespace 127.0.0.1 is the region's own loopback, so at each start the
 * process driver turns that config into the region's view:
 *
 * - the gateway listens on 0.0.0.0 (its region's address; its published port forwards there),
 * - every internal URL of another region becomes a link from this region (a latency proxy
 *   listening on the host side of the region's veth) to that URL as the host reaches it (the
 *   other gateway's published port), so regions still meet only through links,
 * - the region's Redis becomes a link without delay to the Redis the host names,
 * - the cluster file the gateway reads is the region's own copy with those URLs
 *   (<dir>/<region>/cluster.json, rewritten at every start, so a changed cluster file counts).
 *
 * The region's own URLs stay: its gateways share the namespace, so 127.0.0.1:PORT reaches them.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LaunchSpec } from '../types.js';

export interface ViewContext {
  /** where the regions' cluster files go */
  dir: string;
  /** one-way delay of the links to other regions (ms) */
  latencyMs: number;
  /** a link from the spec's region to `target`: where the region's machines reach it */
  link(name: string, target: { host: string; port: number }, delayMs: number): Promise<{ host: string; port: number }>;
}

export interface GatewayView {
  spec: LaunchSpec;
  /** facts for the machine's status */
  detail: Record<string, string>;
}

/** the gateway's default when neither --redis-url nor ERNE_REDIS_URL is given (cli/args.ts) */
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

/** the value of `--flag V` or `--flag=V` in argv, with where it sits */
function flagAt(argv: string[], flag: string): { index: number; joined: boolean; value: string } | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag && i + 1 < argv.length) return { index: i + 1, joined: false, value: argv[i + 1]! };
    if (argv[i]!.startsWith(`${flag}=`)) return { index: i, joined: true, value: argv[i]!.slice(flag.length + 1) };
  }
  return undefined;
}

/** a setting read from argv (which wins, as in cli/args.ts) or env, and written back where it was */
function setting(spec: LaunchSpec, flag: string, envName: string): { value: string | undefined; set(v: string): void } {
  const at = flagAt(spec.argv, flag);
  return {
    value: at?.value ?? spec.env[envName],
    set(v) {
      if (at) spec.argv[at.index] = at.joined ? `${flag}=${v}` : v;
      // where it came from; the env also when it holds an older value, so nothing reads that one
      if (!at || spec.env[envName] !== undefined) spec.env[envName] = v;
    },
  };
}

const defaultPort = (u: URL) => Number(u.port || (u.protocol === 'https:' ? 443 : u.protocol === 'redis:' ? 6379 : 80));
const linkName = (...parts: string[]) => parts.join('-').replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 100);

/** the URL with its host and port replaced by where the link listens */
async function throughLink(url: string, name: string, delayMs: number, ctx: ViewContext): Promise<string> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const at = await ctx.link(name, { host, port: defaultPort(u) }, delayMs);
  u.hostname = at.host;
  u.port = String(at.port);
  // URL keeps a path of "/" it was not given: a base URL stays as written
  return url.endsWith('/') || u.pathname !== '/' ? u.toString() : u.toString().replace(/\/$/, '');
}

export async function gatewayView(original: LaunchSpec, ctx: ViewContext): Promise<GatewayView> {
  const spec: LaunchSpec = { ...original, argv: [...original.argv], env: { ...original.env } };
  const region = spec.region;
  const detail: Record<string, string> = {};
  setting(spec, '--host', 'ERNE_HOST').set('0.0.0.0');

  const cluster = setting(spec, '--cluster', 'ERNE_CLUSTER');
  if (cluster.value === undefined) return { spec, detail };
  // the gateway itself reports a cluster file it cannot read: it is passed on untouched
  let doc: { regions?: { name?: unknown; internal?: unknown }[] } & Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(cluster.value, 'utf8')) as typeof doc;
  } catch {
    return { spec, detail };
  }
  if (!Array.isArray(doc.regions)) return { spec, detail };
  const regions = [];
  for (const r of doc.regions) {
    if (r.name === region || !Array.isArray(r.internal)) {
      regions.push(r);
      continue;
    }
    const internal = [];
    for (const url of r.internal as unknown[]) {
      if (typeof url !== 'string' || !URL.canParse(url)) {
        internal.push(url);
        continue;
      }
      const u = new URL(url);
      internal.push(await throughLink(url, linkName(region, 'to', String(r.name), u.hostname, String(defaultPort(u))), ctx.latencyMs, ctx));
    }
    regions.push({ ...r, internal });
  }
  const file = join(ctx.dir, region, 'cluster.json');
  mkdirSync(join(ctx.dir, region), { recursive: true });
  // it may hold the cluster secret, as the operator's file may
  writeFileSync(`${file}.tmp`, JSON.stringify({ ...doc, regions }, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
  cluster.set(file);
  detail.cluster_view = file;

  const redis = setting(spec, '--redis-url', 'ERNE_REDIS_URL');
  const redisUrl = redis.value ?? DEFAULT_REDIS;
  if (URL.canParse(redisUrl)) {
    const u = new URL(redisUrl);
    const viewed = await throughLink(redisUrl, linkName(region, 'redis', u.hostname, String(defaultPort(u))), 0, ctx);
    redis.set(viewed);
    detail.redis_view = `${u.hostname}:${defaultPort(u)} via ${new URL(viewed).host}`;
  }
  return { spec, detail };
}
