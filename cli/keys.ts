import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AccessKeyRecord, BucketRole, RootSource } from '../metadata/types.js';
import type { ObjectLayer } from '../metadata/object-layer.js';
import type { FlagValues } from './args.js';
import { UsageError } from './args.js';
import { ACCESS_KEY_ID_PATTERN, SECRET_KEY_PATTERN, generateAccessKeyId, generateSecretKey } from '../metadata/keygen.js';

/**
 * `erne keys …` works on the region's metadata directly, chosen by the same flags as
 * `erne serve` (LMDB allows several processes; FDB is a cluster)
 */
async function withLayer<T>(flags: FlagValues, fn: (layer: ObjectLayer) => Promise<T>): Promise<T> {
  // loaded lazily so argument errors and --help never need the metadata modules
  const { openMetadataStore } = await import('../metadata/open.js');
  const { createObjectLayer } = await import('../metadata/objects.js');
  const { metadataOption } = await import('./metadata-flags.js');
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
  const { toolWriter } = await import('../metadata/cluster-record.js');
  // in a cluster, a key made or removed here replicates (the gateway's relay carries it)
  const layer = createObjectLayer(kv, await toolWriter(kv, String(flags['region'])));
  try {
    return await fn(layer);
  } finally {
    await layer.close();
  }
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** `warn` gets one line for stderr (a role on a bucket that does not exist yet) */
export async function keysCreate(flags: FlagValues, out: (s: string) => void, warn: (s: string) => void = () => undefined): Promise<void> {
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
  const rec: AccessKeyRecord = {
    accessKeyId: given ?? generateAccessKeyId(),
    secretAccessKey: secretGiven ?? generateSecretKey(),
    root: flags['root'] === true,
    createdAt: Date.now(),
    ...(flags['name'] !== undefined ? { name: String(flags['name']) } : {}),
    ...(grants ? { grants } : {}),
  };
  const missing = await withLayer(flags, async (layer) => {
    if (await layer.getAccessKey(rec.accessKeyId)) throw new CommandError(`access key ${rec.accessKeyId} already exists`);
    await layer.putAccessKey(rec);
    const absent: string[] = [];
    for (const b of Object.keys(rec.grants ?? {})) await layer.getBucket(b).catch(() => absent.push(b));
    return absent;
  });
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

export async function keysList(flags: FlagValues, out: (s: string) => void): Promise<void> {
  const keys = await withLayer(flags, (layer) => layer.listAccessKeys());
  const { readRootCredentials, ROOT_CREDENTIALS_FILE } = await import('../gateway/credentials.js');
  const dataDir = String(flags['data-dir']);
  // keys stored before the source was recorded: the generated one is the one in the file
  const kept = (await readRootCredentials(dataDir))?.accessKeyId;
  // secrets are shown once, at creation; a listing never repeats them
  const rows = keys.map(({ accessKeyId, root, createdAt, name, grants, rootSource }) => {
    const source = rootSource ?? (root && accessKeyId === kept ? 'generated' : undefined);
    return { accessKeyId, root, createdAt, ...(source ? { rootSource: source } : {}), ...(name !== undefined ? { name } : {}), ...(grants ? { grants } : {}) };
  });
  if (flags['json']) {
    out(JSON.stringify(rows) + '\n');
    return;
  }
  if (rows.length === 0) {
    out('no access keys\n');
    return;
  }
  const file = join(dataDir, ROOT_CREDENTIALS_FILE);
  const lines = rows.map((r) => {
    const about = [r.name, roleText(r.grants), r.rootSource ? `(${rootNote(r.rootSource, file)})` : ''].filter(Boolean).join(' ');
    return `${r.accessKeyId.padEnd(22)} ${(r.root ? 'root' : '-').padEnd(5)} ${new Date(r.createdAt).toISOString()}  ${about}`.trimEnd();
  });
  out([`${'ACCESS KEY ID'.padEnd(22)} ${'ROOT'.padEnd(5)} ${'CREATED'.padEnd(24)}  NAME`, ...lines, ''].join('\n'));
}

export async function keysDelete(flags: FlagValues, id: string, out: (s: string) => void): Promise<void> {
  const existed = await withLayer(flags, (layer) => layer.deleteAccessKey(id));
  if (!existed) throw new CommandError(`no access key ${id}`);
  out(`deleted ${id}\n`);
}
