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

export async function bucketsUpdate(flags: FlagValues, name: string, out: (s: string) => void, env: Env = process.env): Promise<void> {
  const makePublic = publicFlag(flags);
  await withAdmin(flags, env, (admin) =>
    admin.updateBucket(name, { public: makePublic }).catch((err: unknown) => {
      throw (err as { code?: string }).code === 'NoSuchBucket' ? new CommandError(`no bucket ${name} in this region`) : err;
    }),
  );
  out(makePublic ? `bucket ${name}: public (anyone may read every object in it)\n` : `bucket ${name}: not public (its ACLs decide who reads)\n`);
}
