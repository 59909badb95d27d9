import type {
  AccessKeyRecord,
  BucketRecord,
  DeleteResult,
  GarbageBlob,
  ListObjectsInput,
  ListObjectsPage,
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
  /** BucketAlreadyOwnedByYou when `owner` has it, BucketAlreadyExists when another key does */
  createBucket(rec: Omit<BucketRecord, 'createdAt' | 'versioning' | 'acl'> & Partial<BucketRecord>): Promise<BucketRecord>;
  /** NoSuchBucket */
  getBucket(name: string): Promise<BucketRecord>;
  listBuckets(): Promise<BucketRecord[]>;
  /** NoSuchBucket, BucketNotEmpty (any version or upload left) */
  deleteBucket(name: string): Promise<void>;

  // objects
  /**
   * Commits a new current version in one transaction, with `cond` evaluated in it
   * (PreconditionFailed), NoSuchBucket if the bucket is gone. On an unversioned bucket the
   * previous version is replaced and its blob, if any, is queued as garbage in the same
   * transaction.
   */
  putObject(obj: NewObject, cond?: WriteConditions): Promise<ObjectVersion>;
  /** current version (NoSuchKey if absent or a delete marker) or a given one (NoSuchVersion) */
  getObject(bucket: string, key: string, versionId?: string): Promise<ObjectVersion>;
  /** S3 semantics: deleting an absent key succeeds */
  deleteObject(bucket: string, key: string, versionId?: string): Promise<DeleteResult>;
  /** bounded transactions; one result per input, in input order */
  deleteObjects(bucket: string, items: { key: string; versionId?: string }[]): Promise<(DeleteResult | { key: string; versionId?: string; error: { code: string; message: string } })[]>;
  /** reads only the current-version index; skips a whole common prefix with one range read */
  listObjects(input: ListObjectsInput): Promise<ListObjectsPage>;

  // blob bookkeeping for cache/
  /** is any version on any key pointing at this blob? */
  isBlobReferenced(blobId: string): Promise<boolean>;
  /** up to `limit` blobs that versions stopped pointing to */
  garbage(limit: number): Promise<GarbageBlob[]>;
  /** forget garbage entries whose files have been removed */
  clearGarbage(blobIds: string[]): Promise<void>;

  close(): Promise<void>;
}
