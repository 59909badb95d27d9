import { join } from 'node:path';
import type { BucketRole, RootSource } from '../metadata/types.js';
import type { KeyInfo } from '../gateway/admin/types.js';
import type { FlagValues } from './args.js';
import { UsageError } from './args.js';
import { ACCESS_KEY_ID_PATTERN, SECRET_KEY_PATTERN } from '../metadata/keygen.js';
import { withAdmin, type Env } from './admin/run.js';
import { isRemote } from './admin/open.js';
import { CommandError } from './errors.js';

/**
 * `erne keys …`: on the region's metadata (--data-dir, as `erne serve` finds it), or on a
 * running cluster through its admin API (--endpoint). In a cluster a key made or removed in
 * one region replicates to every region (the gateway's relay carries it).
 */

export { CommandError };

/** `warn` gets one line for stderr (a role on a bucket that does not exist yet) */
/** `warn` gets one line for stderr (a role on a bucket that does not exist yet) */
export async function keysCreate(flags: FlagValues, out: (s: string) => void, warn: (s: string) => void = () => undefined, env: Env = process.env): Promise<void> {
  const given = flags['access-key'] as string | undefined;
  const secretGiven = flags['secret-key'] as string | undefined;
  if (secretGiven !== undefined && given === undefined) throw new UsageError('--secret-key needs --access-key');
  if (given !== undefined && !ACCESS_KEY_ID_PATTERN.test(given)) {
    throw new UsageError('--access-key: 3 to 128 characters from A-Z a-z 0-9 . _ -');
  }
  if (secretGiven !== undefined && !SECRET_KEY_PATTERN.test(secretGiven)) {
    throw new UsageError('--secret-key: 8 to 128 printable characters, no spaces');
  }
  const grants = parseGrants(flags);
  if (flags['scoped'] === true && !grants) throw new UsageError('--scoped needs --bucket and --role');
  const { key: rec, missingBuckets: missing } = await withAdmin(flags, env, (admin) =>
    admin.createKey({
      ...(given !== undefined ? { accessKeyId: given } : {}),
      ...(secretGiven !== undefined ? { secretAccessKey: secretGiven } : {}),
      root: flags['root'] === true,
      ...(flags['name'] !== undefined ? { name: String(flags['name']) } : {}),
      ...(grants ? { grants } : {}),
      ...(flags['scoped'] === true ? { scoped: true } : {}),
    }),
  );
  // a role may be given ahead of the bucket, but a typo should not pass unnoticed
  if (missing.length > 0) {
    warn(`erne: warning: no bucket named ${missing.join(', ')} (yet); the key's role there applies once a bucket of that name exists\n`);
  }
  if (flags['json']) {
    out(JSON.stringify(rec) + '\n');
  } else {
    out(
      [
        `Access key id:     ${rec.accessKeyId}`,
        `Secret access key: ${rec.secretAccessKey}`,
        `Root:              ${rec.root ? 'yes' : 'no'}`,
        ...(rec.name !== undefined ? [`Name:              ${rec.name}`] : []),
        ...Object.entries(rec.grants ?? {}).map(([b, role]) => `Role:              ${role} on ${b}`),
        ...(rec.scoped ? ['Scoped:            yes (refused on every other bucket; creates none)'] : []),
        '',
      ].join('\n'),
    );
  }
}

/** a Map: looked up by what the operator typed (`--role constructor` is no role) */
const ROLES: ReadonlyMap<string, BucketRole> = new Map([
  ['editor', 'Editor'],
  ['readonly', 'ReadOnly'],
]);

/** --bucket a,b --role Editor → { a: 'Editor', b: 'Editor' } (roles are case-insensitive) */
export function parseGrants(flags: FlagValues): Record<string, BucketRole> | undefined {
  const buckets = flags['bucket'] as string | undefined;
  const roleFlag = flags['role'] as string | undefined;
  if (buckets === undefined && roleFlag === undefined) return undefined;
  if (buckets === undefined) throw new UsageError('--role needs --bucket');
  if (roleFlag === undefined) throw new UsageError('--bucket needs --role Editor|ReadOnly');
  const role = ROLES.get(roleFlag.toLowerCase());
  if (!role) throw new UsageError(`--role: expected Editor or ReadOnly, got ${JSON.stringify(roleFlag)}`);
  if (flags['root'] === true) throw new UsageError('--root keys already may do everything: no --bucket/--role');
  const names = buckets.split(',').map((b) => b.trim());
  if (names.some((b) => b === '')) throw new UsageError('--bucket: empty bucket name');
  return Object.fromEntries(names.map((b) => [b, role]));
}

function roleText(grants: Record<string, BucketRole> | undefined): string {
  return grants ? Object.entries(grants).map(([b, r]) => `[${r} on ${b}]`).join(' ') : '';
}

/** where THE root key of `erne serve` comes from, for people (gateway/credentials.ts) */
function rootNote(source: RootSource | undefined, credentialsFile: string): string {
  if (source === 'env') return "erne serve's root key, from ERNE_ROOT_ACCESS_KEY";
  if (source === 'generated') return `erne serve's root key, generated and kept in ${credentialsFile}`;
  return '';
}

export async function keysList(flags: FlagValues, out: (s: string) => void, env: Env = process.env): Promise<void> {
  const keys = await withAdmin(flags, env, (admin) => admin.listKeys());
  const { readRootCredentials, ROOT_CREDENTIALS_FILE } = await import('../gateway/credentials.js');
  const remote = isRemote(flags);
  const dataDir = String(flags['data-dir']);
  // keys stored before the source was recorded: the generated one is the one in the file
  const kept = remote ? undefined : (await readRootCredentials(dataDir))?.accessKeyId;
  // secrets are shown once, at creation; a listing never repeats them
  const rows: KeyInfo[] = keys.map((k) => {
    const source = k.rootSource ?? (k.root && k.accessKeyId === kept ? 'generated' : undefined);
    return { ...k, ...(source ? { rootSource: source } : {}) };
  });
  if (flags['json']) {
    out(JSON.stringify(rows) + '\n');
    return;
  }
  if (rows.length === 0) {
    out('no access keys\n');
    return;
  }
  const file = remote ? `${ROOT_CREDENTIALS_FILE} of its data directory` : join(dataDir, ROOT_CREDENTIALS_FILE);
  const lines = rows.map((r) => {
    const about = [r.name, roleText(r.grants), r.scoped ? '(scoped)' : '', r.rootSource ? `(${rootNote(r.rootSource, file)})` : ''].filter(Boolean).join(' ');
    return `${r.accessKeyId.padEnd(22)} ${(r.root ? 'root' : '-').padEnd(5)} ${new Date(r.createdAt).toISOString()}  ${about}`.trimEnd();
  });
  out([`${'ACCESS KEY ID'.padEnd(22)} ${'ROOT'.padEnd(5)} ${'CREATED'.padEnd(24)}  NAME`, ...lines, ''].join('\n'));
}

export async function keysDelete(flags: FlagValues, id: string, out: (s: string) => void, env: Env = process.env): Promise<void> {
  const existed = await withAdmin(flags, env, (admin) => admin.deleteKey(id));
  if (!existed) throw new CommandError(`no access key ${id}`);
  out(`deleted ${id}\n`);
}
