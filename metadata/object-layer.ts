import type {
  AccessKeyRecord,
  BucketRecord,
  CopyInput,
  DeleteItem,
  DeleteResult,
  GarbageBlob,
  Hlc,
  ListBucketsInput,
  ListObjectsInput,
  ListObjectsPage,
  ListVersionsInput,
  ListVersionsPage,
  NewObject,
  ObjectVersion,
  WriteConditions,
} from './types.js';

/**
 * What the gateway depends on. Implemented once (metadata/objects.ts) over any KvStore.
 * Failures are MetadataError with S3 codes (metadata/errors.ts).
 */
export interface ObjectLayer {
  // access keys
  putAccessKey(rec: AccessKeyRecord): Promise<void>;
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  listAccessKeys(): Promise<AccessKeyRecord[]>;
  /** false when it did not exist */
  deleteAccessKey(accessKeyId: string): Promise<boolean>;

  // buckets
  /**
   * BucketAlreadyOwnedByYou when `owner` has it, BucketAlreadyExists when another key does,
   * OperationAborted while a deleted bucket of that name still has uploads being aborted
   */
  createBucket(rec: Omit<BucketRecord, 'createdAt' | 'versioning' | 'acl'> & Partial<BucketRecord>): Promise<BucketRecord>;
  /** NoSuchBucket */
  getBucket(name: string): Promise<BucketRecord>;
  listBuckets(): Promise<BucketRecord[]>;
  /** buckets in name order, from after `after`, whose name starts with `prefix`: one read of at most `limit` */
  listBucketsPage(input: ListBucketsInput): Promise<BucketRecord[]>;
  /**
   * NoSuchBucket, BucketNotEmpty (any version left). Its multipart uploads in progress are
   * aborted (bounded transactions, metadata/bucket-drop.ts); their parts go to the janitor.
   */
  deleteBucket(name: string): Promise<void>;

  // objects
  /**
   * Commits a new current version in one transaction, with `cond` evaluated in it
   * (PreconditionFailed), NoSuchBucket if the bucket is gone. On an unversioned bucket the
   * previous version is replaced and its blob, if any, is queued as garbage in the same
   * transaction.
   */
  putObject(obj: NewObject, cond?: WriteConditions): Promise<ObjectVersion>;
  /**
   * Bulk load: commits each object exactly as putObject (no conditions) would, all in ONE
   * transaction, in order; results in input order. The caller keeps the batch within the
   * store's transaction limits (a thousand small objects is fine).
   */
  putObjects(objs: NewObject[]): Promise<ObjectVersion[]>;
  /** current version (NoSuchKey if absent or a delete marker) or a given one (NoSuchVersion) */
  getObject(bucket: string, key: string, versionId?: string): Promise<ObjectVersion>;
  /** S3 semantics: deleting an absent key succeeds */
  deleteObject(bucket: string, key: string, versionId?: string): Promise<DeleteResult>;
  /** bounded transactions; one result per input, in input order */
  deleteObjects(bucket: string, items: DeleteItem[]): Promise<(DeleteResult | { key: string; versionId?: string; error: { code: string; message: string } })[]>;
  /** reads only the current-version index; skips a whole common prefix with one range read */
  listObjects(input: ListObjectsInput): Promise<ListObjectsPage>;

  // versioning, tags, copy (version ids given to these are S3 ids: 'null' names the null version)
  /** Enabled or Suspended (a bucket never goes back to Unversioned); NoSuchBucket */
  setBucketVersioning(bucket: string, status: 'Enabled' | 'Suspended'): Promise<BucketRecord>;
  /** versions and delete markers in key order, newest first within a key; bounded reads */
  listObjectVersions(input: ListVersionsInput): Promise<ListVersionsPage>;
  /** replaces the tags of the current (or a given) version; NoSuchKey / NoSuchVersion / MethodNotAllowed */
  setObjectTags(bucket: string, key: string, versionId: string | undefined, tags: Record<string, string>): Promise<ObjectVersion>;
  /**
   * Commits a new version of `bucket/key` whose body is the source version's (a blob gains a
   * reference, inline bytes are copied) in one transaction with `cond` on the destination.
   * Sources stored as multipart parts are refused with InvalidArgument: copy their bytes.
   */
  copyObject(input: CopyInput, cond?: WriteConditions): Promise<{ source: ObjectVersion; version: ObjectVersion }>;

  // blob bookkeeping for cache/
  /** is any version on any key pointing at this blob? */
  isBlobReferenced(blobId: string): Promise<boolean>;
  /** up to `limit` blobs that versions stopped pointing to */
  garbage(limit: number): Promise<GarbageBlob[]>;
  /** forget garbage entries whose files have been removed */
  clearGarbage(blobIds: string[]): Promise<void>;

  /**
   * A time seen in a change from another region: every version and stamp made here afterwards
   * sorts after it (replication/apply.ts's `observe`).
   */
  observeClock(hlc: Hlc): void;

  close(): Promise<void>;
}
