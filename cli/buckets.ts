import type { FlagValues } from './args.js';
import { UsageError } from './args.js';
import { withAdmin, type Env } from './admin/run.js';
import { CommandError } from './errors.js';

/**
 * `erne buckets update NAME --public|--no-public`: Erne's own public-bucket setting (every
 * object readable by anyone, like a public bucket on Tigris or R2), apart from S3's ACLs.
 * Works on the region's metadata directly, as `erne keys` does, also while gateways run, or
 * on a running cluster through its admin API (--endpoint).
 */
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
 * `erne buckets set-locations NAME --locations global|iad,fra|home:fra`: where the bucket's
 * bytes live from its next write on (metadata/bucket-locations.ts). Regions are checked
 * against the cluster this metadata was last served in; with --endpoint, a running cluster's.
 */
export async function bucketsSetLocations(flags: FlagValues, name: string, out: (s: string) => void, env: Env = process.env): Promise<void> {
  const text = flags['locations'];
  if (typeof text !== 'string' || text.trim() === '') throw new UsageError('give --locations global|R,R…|home:R');
  const b = await withAdmin(flags, env, (admin) =>
    admin.updateBucket(name, { locations: text }).catch((err: unknown) => {
      const e = err as { code?: string; message?: string };
      if (e.code === 'NoSuchBucket') throw new CommandError(`no bucket ${name} in this region`);
      if (e.code === 'InvalidArgument') throw new CommandError(`--locations ${text}: ${String(e.message).replace(/^locations: /, '')}`);
      throw err;
    }),
  );
  out(`bucket ${name}: locations ${b.locations} (applies to new writes)\n`);
}

/**
 * `--consistent`: every object request of the bucket is strongly consistent, as if it sent
 * `X-Tigris-Consistent: true` (executed by the bucket's home region; gateway/forward/bucket-route.ts).
 */
export async function bucketsUpdate(flags: FlagValues, name: string, out: (s: string) => void, env: Env = process.env): Promise<void> {
  const change = updateFlags(flags);
  await withAdmin(flags, env, (admin) =>
    admin.updateBucket(name, change).catch((err: unknown) => {
      throw (err as { code?: string }).code === 'NoSuchBucket' ? new CommandError(`no bucket ${name} in this region`) : err;
    }),
  );
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
