/**
 * `erne storage …`: the app developer's door. `create` makes a bucket and a key scoped to it
 * and prints the variables an unmodified S3 SDK reads (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_ENDPOINT_URL_S3, AWS_REGION=auto) and BUCKET_NAME, or sets them on an app's machines;
 * `list`, `status`, `update` and `destroy` look after the buckets. Work happens through the
 * admin API (--endpoint) or on a data directory (cli/admin/open.ts).
 */
import type { Admin, BucketInfo } from '../../gateway/admin/types.js';
import { AdminError } from '../../gateway/admin/types.js';
import type { BucketRole } from '../../metadata/types.js';
import { UsageError, type FlagValues } from '../args.js';
import { endpointOf, isRemote } from '../admin/open.js';
import { withAdmin, type Env } from '../admin/run.js';
import { CommandError } from '../errors.js';
import { checkApp, MachinesError, rollEnv, type MachinesApi } from './app-env.js';
import { generateBucketName } from './names.js';
import { migrationLine, shadowFromFlags } from './shadow.js';

export interface StorageIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Env;
  /** asks a yes/no question on a terminal; undefined when there is none to ask */
  confirm?: (question: string) => Promise<boolean>;
}

/** the names `create` sets, in the order printed */
export const STORAGE_ENV_NAMES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'BUCKET_NAME'] as const;
const DEFAULT_S3_ENDPOINT = 'http://127.0.0.1:9000';
/** generated names tried before giving up (each is 1 in 2^16 × 1024 to collide) */
const NAME_TRIES = 5;

const ROLES: ReadonlyMap<string, BucketRole> = new Map([
  ['editor', 'Editor'],
  ['readonly', 'ReadOnly'],
]);

function roleOf(flags: FlagValues): BucketRole {
  const raw = String(flags['role'] ?? 'Editor');
  const role = ROLES.get(raw.toLowerCase());
  if (!role) throw new UsageError(`--role: expected Editor or ReadOnly, got ${JSON.stringify(raw)}`);
  return role;
}

/** where apps reach S3: --s3-endpoint, else the --endpoint spoken to, else serve's default */
function s3Endpoint(flags: FlagValues): string {
  const given = flags['s3-endpoint'];
  if (typeof given === 'string') {
    if (!/^https?:\/\/[^/]/.test(given)) throw new UsageError(`--s3-endpoint: expected an http(s) URL, got ${JSON.stringify(given)}`);
    return given.replace(/\/+$/, '');
  }
  return isRemote(flags) ? endpointOf(flags).origin : DEFAULT_S3_ENDPOINT;
}

function machinesApi(flags: FlagValues): MachinesApi {
  const endpoint = flags['machines-endpoint'];
  const token = flags['machines-token'];
  if (typeof endpoint !== 'string') throw new UsageError('--app needs the Machines API: --machines-endpoint URL (or ERNE_MACHINES_ENDPOINT)');
  if (!/^https?:\/\/[^/]/.test(endpoint)) throw new UsageError(`--machines-endpoint: expected an http(s) URL, got ${JSON.stringify(endpoint)}`);
  if (typeof token !== 'string') throw new UsageError('--app needs a Machines API token: ERNE_MACHINES_TOKEN (or --machines-token)');
  return { endpoint, token };
}

/** a generated name until one is free, or the one asked for */
async function makeBucket(admin: Admin, flags: FlagValues): Promise<BucketInfo> {
  const shadow = shadowFromFlags(flags);
  const input = {
    ...(flags['public'] === true ? { public: true } : {}),
    ...(typeof flags['locations'] === 'string' ? { locations: flags['locations'] } : {}),
    ...(shadow ? { shadow } : {}),
  };
  const asked = flags['name'];
  if (typeof asked === 'string') return admin.createBucket({ name: asked, ...input });
  for (let i = 1; ; i++) {
    try {
      return await admin.createBucket({ name: generateBucketName(), ...input });
    } catch (err) {
      const taken = err instanceof AdminError && (err.code === 'BucketAlreadyExists' || err.code === 'BucketAlreadyOwnedByYou');
      if (!taken || i >= NAME_TRIES) throw err;
    }
  }
}

export async function storageCreate(flags: FlagValues, io: StorageIo): Promise<void> {
  const role = roleOf(flags);
  const endpoint = s3Endpoint(flags);
  const app = flags['app'] as string | undefined;
  const api = app !== undefined ? machinesApi(flags) : undefined;
  // -a APP: everything that could refuse is asked before anything is made
  const machines = api && app !== undefined ? await checkApp(api, app, STORAGE_ENV_NAMES).catch(machinesFailure) : undefined;
  if (machines && flags['yes'] !== true && io.confirm) {
    const ok = await io.confirm(`Set ${STORAGE_ENV_NAMES.join(', ')} on the ${machines.length} machine(s) of ${app} (each gets a new version and restarts)? [y/N] `);
    if (!ok) throw new CommandError('nothing was changed');
  }
  const { bucket, key } = await withAdmin(flags, io.env, async (admin) => {
    const b = await makeBucket(admin, flags);
    try {
      const made = await admin.createKey({ name: `storage ${b.name}`, grants: { [b.name]: role }, scoped: true });
      return { bucket: b, key: made.key };
    } catch (err) {
      // no bucket left behind without its key
      await admin.deleteBucket(b.name, { force: false }).catch(() => undefined);
      throw err;
    }
  });
  const vars: Record<(typeof STORAGE_ENV_NAMES)[number], string> = {
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'auto',
    BUCKET_NAME: bucket.name,
  };
  if (!machines || !api || app === undefined) {
    io.out(STORAGE_ENV_NAMES.map((n) => `${n}=${vars[n]}\n`).join(''));
    io.err(`erne: bucket ${bucket.name} and a key with the ${role} role on it (and on no other bucket) are ready; the secret is shown only this once\n`);
    return;
  }
  const updated: string[] = [];
  try {
    await rollEnv(api, app, machines, vars, (id) => {
      updated.push(id);
      io.err(`erne: machine ${id} of ${app} runs with the new env\n`);
    });
  } catch (err) {
    const left = machines.map((m) => m.id).filter((id) => !updated.includes(id));
    throw new CommandError(
      `${(err as Error).message}; bucket ${bucket.name} and key ${key.accessKeyId} exist, the env is set on ${updated.length ? updated.join(', ') : 'no machine'} and not on ${left.join(', ')}`,
    );
  }
  // the secret stays in the machines' env only
  io.out(STORAGE_ENV_NAMES.filter((n) => n !== 'AWS_SECRET_ACCESS_KEY').map((n) => `${n}=${vars[n]}\n`).join(''));
  io.err(`erne: ${STORAGE_ENV_NAMES.join(', ')} set on ${updated.length} machine(s) of ${app}: ${updated.join(', ')}\n`);
}

function machinesFailure(err: unknown): never {
  throw err instanceof MachinesError ? new CommandError(err.message) : err;
}

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

export async function storageList(flags: FlagValues, io: StorageIo): Promise<void> {
  const buckets = await withAdmin(flags, io.env, (admin) => admin.listBuckets());
  if (flags['json']) return io.out(JSON.stringify(buckets) + '\n');
  if (buckets.length === 0) return io.out('no buckets\n');
  const width = Math.max(4, ...buckets.map((b) => b.name.length));
  const lines = buckets.map((b) => `${b.name.padEnd(width)}  ${b.region.padEnd(10)} ${b.locations.padEnd(14)} ${yesNo(b.public).padEnd(6)} ${new Date(b.createdAt).toISOString()}`);
  io.out([`${'NAME'.padEnd(width)}  ${'REGION'.padEnd(10)} ${'LOCATIONS'.padEnd(14)} ${'PUBLIC'.padEnd(6)} CREATED`, ...lines, ''].join('\n'));
}

export async function storageStatus(flags: FlagValues, name: string, io: StorageIo): Promise<void> {
  const s = await withAdmin(flags, io.env, (admin) => admin.bucket(name));
  if (flags['json']) return io.out(JSON.stringify(s) + '\n');
  io.out(
    [
      `Bucket:     ${s.name}`,
      `Region:     ${s.region}`,
      `Created:    ${new Date(s.createdAt).toISOString()}`,
      `Public:     ${yesNo(s.public)}`,
      `Locations:  ${s.locations}`,
      `Versioning: ${s.versioning}`,
      `Objects:    ${s.objectsCapped ? '≥ ' : ''}${s.objects} (${s.bytes} bytes)`,
      ...(s.shadow ? [`Shadow:     ${s.shadow.endpoint} bucket ${s.shadow.bucket}${s.shadow.writeThrough ? ' (write-through)' : ''}`] : []),
      ...(s.migration ? [`Migration:  ${migrationLine(s.migration)}`] : []),
      ...(s.keys.length === 0 ? ['Keys:       none'] : s.keys.map((k, i) => `${i === 0 ? 'Keys:      ' : '           '} ${k.accessKeyId} ${k.role}${k.scoped ? ' (scoped)' : ''}`)),
      '',
    ].join('\n'),
  );
}

export async function storageUpdate(flags: FlagValues, name: string, io: StorageIo): Promise<void> {
  const on = flags['public'] === true;
  const off = flags['private'] === true;
  if (on && off) throw new UsageError('--public and --private contradict each other');
  const locations = flags['locations'] as string | undefined;
  const shadow = shadowFromFlags(flags);
  const noShadow = flags['no-shadow'] === true;
  if (shadow && noShadow) throw new UsageError('--no-shadow and --shadow-* contradict each other');
  if (!on && !off && locations === undefined && !shadow && !noShadow) throw new UsageError('nothing to update: give --public, --private, --locations, --shadow-* or --no-shadow');
  const change = { ...(on || off ? { public: on } : {}), ...(locations !== undefined ? { locations } : {}), ...(shadow ? { shadow } : noShadow ? { shadow: null } : {}) };
  const b = await withAdmin(flags, io.env, (admin) => admin.updateBucket(name, change));
  const shadowText = b.shadow ? `, shadow ${b.shadow.endpoint} bucket ${b.shadow.bucket}${b.shadow.writeThrough ? ' (write-through)' : ''}` : '';
  io.out(`bucket ${b.name}: ${b.public ? 'public' : 'private'}, locations ${b.locations}${shadowText}\n`);
}

export async function storageDestroy(flags: FlagValues, name: string, io: StorageIo): Promise<void> {
  const force = flags['force'] === true;
  if (flags['yes'] !== true) {
    if (!io.confirm) throw new UsageError(`destroy asks before deleting bucket ${name}: give -y when there is no terminal to answer`);
    const ok = await io.confirm(`Destroy bucket ${name}${force ? ' and every object in it' : ''}? [y/N] `);
    if (!ok) throw new CommandError('nothing was changed');
  }
  await withAdmin(flags, io.env, async (admin) => {
    const keys = await admin.listKeys();
    const gone = await admin.deleteBucket(name, { force }).catch((err: unknown) => {
      if (err instanceof AdminError && err.code === 'BucketNotEmpty') {
        throw new CommandError(`bucket ${name} is not empty: nothing was deleted (--force deletes its objects, then the bucket)`);
      }
      throw err;
    });
    io.out(`destroyed bucket ${name}${force ? ` (${gone.objectsDeleted} object(s) deleted)` : ''}\n`);
    // a key scoped to this bucket alone would open a future bucket of the same name
    for (const k of keys) {
      const grants = Object.keys(k.grants ?? {});
      if (k.scoped && grants.length === 1 && grants[0] === name && (await admin.deleteKey(k.accessKeyId))) io.out(`deleted its key ${k.accessKeyId}\n`);
      else if (grants.includes(name)) io.err(`erne: key ${k.accessKeyId} keeps its role on ${name}, which applies to a new bucket of that name: 'erne keys delete ${k.accessKeyId}' if it should not\n`);
    }
  });
}
