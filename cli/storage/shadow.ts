/** `--shadow-*` flags as the admin API's shadow document, and how a migration reads for people. */
import type { MigrationState, ShadowInput } from '../../gateway/shadow/types.js';
import { UsageError, type FlagValues } from '../args.js';

const REQUIRED = ['shadow-endpoint', 'shadow-bucket', 'shadow-access-key', 'shadow-secret-key'] as const;

/**
 * undefined when no shadow is asked for (--shadow-endpoint or --shadow-bucket), all four
 * required flags otherwise. The keys alone ask for nothing: they may come from the
 * environment (ERNE_SHADOW_ACCESS_KEY, ERNE_SHADOW_SECRET_KEY), kept out of shell history.
 */
export function shadowFromFlags(flags: FlagValues): ShadowInput | undefined {
  const asked = flags['shadow-endpoint'] !== undefined || flags['shadow-bucket'] !== undefined;
  if (!asked) {
    const stray = ['shadow-region', 'shadow-write-through'].find((f) => flags[f] !== undefined && flags[f] !== false);
    if (stray) throw new UsageError(`--${stray} sets up a shadow source: give --shadow-endpoint and --shadow-bucket with it`);
    return undefined;
  }
  const missing = REQUIRED.filter((f) => typeof flags[f] !== 'string');
  if (missing.length) throw new UsageError(`a shadow source needs ${missing.map((m) => '--' + m).join(', ')} too`);
  const endpoint = flags['shadow-endpoint'] as string;
  if (!/^https?:\/\/[^/]/.test(endpoint)) throw new UsageError(`--shadow-endpoint: expected an http(s) URL, got ${JSON.stringify(endpoint)}`);
  return {
    endpoint,
    bucket: flags['shadow-bucket'] as string,
    accessKeyId: flags['shadow-access-key'] as string,
    secretAccessKey: flags['shadow-secret-key'] as string,
    ...(typeof flags['shadow-region'] === 'string' ? { region: flags['shadow-region'] } : {}),
    ...(flags['shadow-write-through'] === true ? { writeThrough: true } : {}),
  };
}

/** one line: where a migration stands */
export function migrationLine(m: MigrationState): string {
  const migrated = m.copied + m.skipped;
  const detail = m.total === undefined ? "counting the source's objects" : `${migrated}/${m.total} objects migrated (${m.copied} copied, ${m.skipped} already here)`;
  if (m.state === 'failed') return `failed: ${detail}: ${m.error ?? 'no reason given'}`;
  return `${m.state}: ${detail}`;
}
