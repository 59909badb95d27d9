/**
 * The admin operations over one region's metadata: what the admin API answers with
 * (gateway/admin/http.ts) and what `erne keys|buckets|storage --data-dir` run directly.
 * Bucket creation and deletion go through the cluster's namespace when there is one (the
 * control region decides them, as for S3's CreateBucket/DeleteBucket); keys and settings are
 * written here and replicate like every other change.
 */
import type { BucketConfigStore } from '../../metadata/bucket-config.js';
import { PUBLIC_BUCKET_KIND } from '../../metadata/bucket-config.js';
import { CONSISTENT_KIND, formatLocations, LOCATIONS_KIND, parseLocations, storedLocations, type BucketLocations } from '../../metadata/bucket-locations.js';
import { MetadataError } from '../../metadata/errors.js';
import { ACCESS_KEY_ID_PATTERN, SECRET_KEY_PATTERN, generateAccessKeyId, generateSecretKey } from '../../metadata/keygen.js';
import type { ObjectLayer } from '../../metadata/object-layer.js';
import type { AccessKeyRecord, BucketRecord, BucketRole } from '../../metadata/types.js';
import { s3VersionId } from '../../metadata/version-order.js';
import type { Services } from '../context.js';
import { S3Error, toS3Error } from '../errors.js';
import { checkBucketName } from '../validate.js';
import { shadowConfigOf } from '../shadow/config.js';
import type { Migrations } from '../shadow/migrate.js';
import { MigrationRefused } from '../shadow/migrate.js';
import { MIGRATION_KIND, SHADOW_KIND, shadowInfo, type MigrationState, type ShadowConfig } from '../shadow/types.js';
import { AdminError, type Admin, type BucketInfo, type BucketStatus, type BucketUpdate, type KeyInfo, type NewBucketInput, type NewKey } from './types.js';

export interface AdminDeps {
  layer: ObjectLayer;
  configs: BucketConfigStore;
  /** in a cluster: CreateBucket/DeleteBucket decided by the control region */
  namespace?: Services['namespace'];
  region: string;
  /** every region of the cluster, this one first */
  regions: readonly string[];
  /** who new buckets belong to: the root key that asked */
  owner: string;
  /** on a gateway: shadow migrations run there (absent on a data directory) */
  migrations?: Migrations;
  /** closes what was opened for this (the CLI's metadata); the gateway's stays open */
  close?: () => Promise<void>;
}

const ROLES: ReadonlySet<string> = new Set<BucketRole>(['Editor', 'ReadOnly']);
/** objects counted for a status before it says "at least" */
const COUNT_CAP = 100_000;
const PAGE = 1000;

/** MetadataError and S3Error as the AdminError both sides report */
export function adminErrorOf(err: unknown): unknown {
  if (err instanceof AdminError) return err;
  if (!(err instanceof S3Error || err instanceof MetadataError)) return err;
  const s3 = toS3Error(err);
  // a metadata code the S3 catalogue lacks keeps its own words
  return s3.code === 'InternalError' ? new AdminError(err.code, err.message, 500) : new AdminError(s3.code, s3.message, s3.status);
}

function invalid(message: string): AdminError {
  return new AdminError('InvalidArgument', message, 400);
}

/** a JSON body's field of the wrong type is named, not stored */
function expectType(value: unknown, type: 'string' | 'boolean', field: string): void {
  if (value !== undefined && typeof value !== type) throw invalid(`${field}: expected a ${type}`);
}

export function validateNewKey(input: NewKey): void {
  for (const f of ['accessKeyId', 'secretAccessKey', 'name'] as const) expectType(input[f], 'string', f);
  for (const f of ['root', 'scoped'] as const) expectType(input[f], 'boolean', f);
  if (input.grants !== undefined && (input.grants === null || typeof input.grants !== 'object' || Array.isArray(input.grants))) throw invalid('grants: expected an object of bucket → role');
  if (input.secretAccessKey !== undefined && input.accessKeyId === undefined) throw invalid('a secret needs its access key id');
  if (input.accessKeyId !== undefined && !ACCESS_KEY_ID_PATTERN.test(input.accessKeyId)) throw invalid('access key id: 3 to 128 characters from A-Z a-z 0-9 . _ -');
  if (input.secretAccessKey !== undefined && !SECRET_KEY_PATTERN.test(input.secretAccessKey)) throw invalid('secret: 8 to 128 printable characters, no spaces');
  const grants = Object.entries(input.grants ?? {});
  for (const [bucket, role] of grants) {
    if (bucket === '') throw invalid('empty bucket name in grants');
    if (!ROLES.has(role)) throw invalid(`role: expected Editor or ReadOnly, got ${JSON.stringify(role)}`);
  }
  if (input.root && grants.length > 0) throw invalid('root keys already may do everything: no bucket roles');
  if (input.scoped && grants.length === 0) throw invalid('a scoped key needs a role on at least one bucket');
}

function keyInfo({ accessKeyId, root, createdAt, name, grants, scoped, rootSource }: AccessKeyRecord): KeyInfo {
  return { accessKeyId, root, createdAt, ...(rootSource ? { rootSource } : {}), ...(name !== undefined ? { name } : {}), ...(grants ? { grants } : {}), ...(scoped ? { scoped } : {}) };
}

export function localAdmin(d: AdminDeps): Admin {
  const notFound = (name: string) => new AdminError('NoSuchBucket', `no bucket ${name}`, 404);
  const getBucket = (name: string) =>
    d.layer.getBucket(name).catch((err: unknown) => {
      throw err instanceof MetadataError && err.code === 'NoSuchBucket' ? notFound(name) : err;
    });
  const locationsOf = (text: string | undefined): BucketLocations | undefined => {
    if (text === undefined) return undefined;
    const parsed = parseLocations(text, d.regions);
    if ('error' in parsed) throw invalid(`locations: ${parsed.error}`);
    return parsed;
  };
  const shadowOf = async (name: string) => {
    const c = await d.configs.get<ShadowConfig>(name, SHADOW_KIND);
    return c ? { shadow: shadowInfo(c) } : {};
  };
  const info = async (b: BucketRecord): Promise<BucketInfo> => ({
    name: b.name,
    region: b.region,
    createdAt: b.createdAt,
    owner: b.owner,
    public: (await d.configs.get<boolean>(b.name, PUBLIC_BUCKET_KIND)) === true,
    locations: formatLocations(storedLocations(await d.configs.get<unknown>(b.name, LOCATIONS_KIND))),
    consistent: (await d.configs.get<boolean>(b.name, CONSISTENT_KIND)) === true,
    ...(await shadowOf(b.name)),
  });
  const apply = async (name: string, change: BucketUpdate, locations: BucketLocations | undefined) => {
    if (change.public === true) await d.configs.put(name, PUBLIC_BUCKET_KIND, true);
    else if (change.public === false) await d.configs.delete(name, PUBLIC_BUCKET_KIND);
    if (change.consistent === true) await d.configs.put(name, CONSISTENT_KIND, true);
    else if (change.consistent === false) await d.configs.delete(name, CONSISTENT_KIND);
    if (change.shadow === null) await d.configs.delete(name, SHADOW_KIND);
    else if (change.shadow !== undefined) await d.configs.put(name, SHADOW_KIND, shadowConfigOf(change.shadow));
    // global is what no document means
    if (locations?.type === 'global') await d.configs.delete(name, LOCATIONS_KIND);
    // stored in its text form, as the gateway stores X-Tigris-Regions (gateway/locations.ts)
    else if (locations) await d.configs.put(name, LOCATIONS_KIND, formatLocations(locations));
  };
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw adminErrorOf(err);
    }
  };

  return {
    cluster: async () => ({ region: d.region, regions: [...d.regions] }),
    listKeys: () => guard(async () => (await d.layer.listAccessKeys()).map(keyInfo)),
    createKey: (input) =>
      guard(async () => {
        validateNewKey(input);
        const key: AccessKeyRecord = {
          accessKeyId: input.accessKeyId ?? generateAccessKeyId(),
          secretAccessKey: input.secretAccessKey ?? generateSecretKey(),
          root: input.root === true,
          createdAt: Date.now(),
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.grants && Object.keys(input.grants).length > 0 ? { grants: { ...input.grants } } : {}),
          ...(input.scoped ? { scoped: true } : {}),
        };
        if (await d.layer.getAccessKey(key.accessKeyId)) throw new AdminError('KeyAlreadyExists', `access key ${key.accessKeyId} already exists`, 409);
        await d.layer.putAccessKey(key);
        const missingBuckets: string[] = [];
        for (const b of Object.keys(key.grants ?? {})) await d.layer.getBucket(b).catch(() => missingBuckets.push(b));
        return { key, missingBuckets };
      }),
    deleteKey: (id) => guard(() => d.layer.deleteAccessKey(id)),
    listBuckets: () => guard(async () => Promise.all((await d.layer.listBuckets()).map(info))),
    bucket: (name) =>
      guard(async (): Promise<BucketStatus> => {
        const b = await getBucket(name);
        let objects = 0;
        let bytes = 0;
        let after: string | undefined;
        let capped = false;
        for (;;) {
          const page = await d.layer.listObjects({ bucket: name, maxKeys: PAGE, ...(after !== undefined ? { after } : {}) });
          objects += page.contents.length;
          for (const v of page.contents) bytes += v.size;
          if (!page.isTruncated) break;
          if (objects >= COUNT_CAP) {
            capped = true;
            break;
          }
          after = page.last;
        }
        const keys: BucketStatus['keys'] = [];
        for (const k of await d.layer.listAccessKeys()) {
          const role = k.grants && Object.hasOwn(k.grants, name) ? k.grants[name] : undefined;
          if (role) keys.push({ accessKeyId: k.accessKeyId, role, ...(k.name !== undefined ? { name: k.name } : {}), ...(k.scoped ? { scoped: true } : {}) });
        }
        const migration = await d.configs.get<MigrationState>(name, MIGRATION_KIND);
        return { ...(await info(b)), versioning: b.versioning, objects, bytes, ...(capped ? { objectsCapped: true as const } : {}), keys, ...(migration ? { migration } : {}) };
      }),
    createBucket: (input) =>
      guard(async () => {
        expectType(input.name, 'string', 'name');
        expectType(input.public, 'boolean', 'public');
        expectType(input.locations, 'string', 'locations');
        checkBucketName(input.name ?? '');
        const locations = locationsOf(input.locations);
        // checked before the bucket is made
        if (input.shadow !== undefined) shadowConfigOf(input.shadow);
        const rec = { name: input.name, owner: d.owner, region: d.region };
        const made = await (d.namespace ? d.namespace.create(rec) : d.layer.createBucket(rec));
        await apply(made.name, { public: input.public === true ? true : undefined, ...(input.shadow !== undefined ? { shadow: input.shadow } : {}) }, locations?.type === 'global' ? undefined : locations);
        return info(made);
      }),
    updateBucket: (name, change) =>
      guard(async () => {
        expectType(change.public, 'boolean', 'public');
        expectType(change.consistent, 'boolean', 'consistent');
        expectType(change.locations, 'string', 'locations');
        const locations = locationsOf(change.locations);
        if (change.shadow !== undefined && change.shadow !== null) shadowConfigOf(change.shadow);
        await getBucket(name);
        await apply(name, change, locations);
        return info(await getBucket(name));
      }),
    deleteBucket: (name, opts) =>
      guard(async () => {
        await getBucket(name);
        let objectsDeleted = 0;
        if (opts.force) objectsDeleted = await emptyBucket(d.layer, name);
        if (d.namespace) {
          const namespace = d.namespace;
          // in a cluster the deletions made here reach the other regions through replication:
          // until they have, those regions still hold objects and the control region refuses
          await retryWhileNotEmpty(opts.force ? FORCE_WAIT_MS : 0, async () => {
            if (opts.force) objectsDeleted += await emptyBucket(d.layer, name);
            await namespace.delete(name);
          });
        } else {
          await d.layer.deleteBucket(name);
          // its configuration goes too, as after S3's DeleteBucket (gateway/ops/buckets.ts)
          await d.configs.clearBucket(name);
        }
        return { deleted: name, objectsDeleted };
      }),
    migrate: (name) =>
      guard(async () => {
        await getBucket(name);
        if (!d.migrations) throw new AdminError('NotImplemented', 'a migration runs in a gateway: give --endpoint', 501);
        return d.migrations.start(name).catch((err: unknown) => {
          throw err instanceof MigrationRefused ? new AdminError('InvalidRequest', err.message, 400) : err;
        });
      }),
    migration: (name) =>
      guard(async () => {
        await getBucket(name);
        const state = await d.configs.get<MigrationState>(name, MIGRATION_KIND);
        if (!state) throw new AdminError('NoSuchMigration', `bucket ${name} has no migration: erne storage migrate ${name} starts one`, 404);
        return state;
      }),
    close: async () => d.close?.(),
  };
}

/** how long destroy --force waits for its deletions to reach every region */
const FORCE_WAIT_MS = 30_000;

async function retryWhileNotEmpty(waitMs: number, attempt: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let pause = 50; ; pause = Math.min(pause * 2, 1000)) {
    try {
      return await attempt();
    } catch (err) {
      const notEmpty = err instanceof MetadataError && err.code === 'BucketNotEmpty';
      if (!notEmpty || Date.now() + pause > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

/** deletes every version and delete marker, a page at a time; returns how many objects (not markers) went */
async function emptyBucket(layer: ObjectLayer, bucket: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    // what was deleted is gone from the listing: always read from the start
    const page = await layer.listObjectVersions({ bucket, maxKeys: PAGE });
    if (page.versions.length === 0) return deleted;
    const results = await layer.deleteObjects(
      bucket,
      page.versions.map(({ version: v }) => ({ key: v.key, versionId: s3VersionId(v) })),
    );
    const failed = results.find((r) => 'error' in r);
    if (failed && 'error' in failed) throw new AdminError(failed.error.code, `deleting ${failed.key} failed: ${failed.error.message}`, 500);
    deleted += page.versions.filter((e) => !e.version.deleteMarker).length;
  }
}
