/**
 * The admin API's documents (JSON under /.erne/admin/, gateway/admin/http.ts), shared by the
 * server and by the CLI's client (cli/admin/remote.ts), and what the local implementation over
 * a region's metadata (gateway/admin/ops.ts) returns too: `erne keys|buckets|storage` run the
 * same code against a data directory or a running cluster.
 *
 *   GET    /.erne/admin/keys                → KeyInfo[]
 *   POST   /.erne/admin/keys                NewKey → AccessKeyRecord (the secret, once)
 *   DELETE /.erne/admin/keys/ID             → { deleted: ID }
 *   GET    /.erne/admin/buckets             → BucketInfo[]
 *   POST   /.erne/admin/buckets             NewBucketInput → BucketInfo
 *   GET    /.erne/admin/buckets/NAME        → BucketStatus
 *   PATCH  /.erne/admin/buckets/NAME        BucketUpdate → BucketInfo
 *   DELETE /.erne/admin/buckets/NAME[?force=true] → { deleted: NAME, objectsDeleted }
 *   POST   /.erne/admin/buckets/NAME/migrate → MigrationState (starts or resumes the shadow migration)
 *   GET    /.erne/admin/buckets/NAME/migrate → MigrationState (404 NoSuchMigration when none)
 *   GET    /.erne/admin/cluster             → ClusterInfo
 *
 * Failures: the status of the S3 error and `{ "error": { "code", "message" } }`.
 */
import type { AccessKeyRecord, BucketRole } from '../../metadata/types.js';
import type { MigrationState, ShadowInfo, ShadowInput } from '../shadow/types.js';

export const ADMIN_PREFIX = '/.erne/admin/';

/** a key as listed: never its secret */
export type KeyInfo = Omit<AccessKeyRecord, 'secretAccessKey'>;

export interface NewKey {
  /** default: generated */
  accessKeyId?: string;
  secretAccessKey?: string;
  root?: boolean;
  name?: string;
  grants?: Record<string, BucketRole>;
  /** only the buckets of `grants` (AccessKeyRecord.scoped) */
  scoped?: boolean;
}

export interface NewKeyResult {
  key: AccessKeyRecord;
  /** buckets of `grants` that do not exist (yet) */
  missingBuckets: string[];
}

export interface BucketInfo {
  name: string;
  region: string;
  createdAt: number;
  owner: string;
  /** Erne's public-bucket setting */
  public: boolean;
  /** text form of metadata/bucket-locations.ts */
  locations: string;
  /** strongly consistent by default */
  consistent: boolean;
  /** the shadow source reads miss to (its secret never shown) */
  shadow?: ShadowInfo;
}

export interface BucketStatus extends BucketInfo {
  versioning: string;
  /** current objects, counted up to `objectsCapped` */
  objects: number;
  bytes: number;
  /** set when counting stopped at the cap (objects ≥ the figure) */
  objectsCapped?: true;
  /** keys with a role on it */
  keys: { accessKeyId: string; role: BucketRole; name?: string; scoped?: boolean }[];
  /** the shadow migration, once one was started */
  migration?: MigrationState;
}

export interface NewBucketInput {
  name: string;
  public?: boolean;
  /** text form: global, iad,fra, home:fra */
  locations?: string;
  /** a shadow source (gateway/shadow/types.ts); its secret is stored in the metadata */
  shadow?: ShadowInput;
}

export interface BucketUpdate {
  public?: boolean;
  locations?: string;
  /** strongly consistent by default (as if every request sent X-Tigris-Consistent: true) */
  consistent?: boolean;
  /** a new shadow source, or null: none any more */
  shadow?: ShadowInput | null;
}

export interface ClusterInfo {
  /** the region that answered */
  region: string;
  /** every region of its cluster (itself first) */
  regions: string[];
}

export interface DeletedBucket {
  deleted: string;
  objectsDeleted: number;
}

/** What `erne keys|buckets|storage` do, wherever they do it (local metadata or the admin API). */
export interface Admin {
  cluster(): Promise<ClusterInfo>;
  listKeys(): Promise<KeyInfo[]>;
  createKey(input: NewKey): Promise<NewKeyResult>;
  /** false when there was no such key */
  deleteKey(accessKeyId: string): Promise<boolean>;
  listBuckets(): Promise<BucketInfo[]>;
  bucket(name: string): Promise<BucketStatus>;
  createBucket(input: NewBucketInput): Promise<BucketInfo>;
  updateBucket(name: string, change: BucketUpdate): Promise<BucketInfo>;
  /** BucketNotEmpty unless `force`, which deletes every object version first */
  deleteBucket(name: string, opts: { force: boolean }): Promise<DeletedBucket>;
  /** starts (or resumes) copying the bucket's shadow source in, on the gateway asked */
  migrate(name: string): Promise<MigrationState>;
  /** the migration's state; NoSuchMigration when none was started */
  migration(name: string): Promise<MigrationState>;
  close(): Promise<void>;
}

/** A refusal with an S3 error code, from either side (local or remote); the CLI prints `message`. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}
