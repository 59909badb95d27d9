/** The durable records of the object layer, shared by metadata/, gateway/ and replication/. */

import type { CannedAcl } from './acl.js';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

/** base64 checksum values by algorithm, as S3 returns them in x-amz-checksum-* */
export type ChecksumSet = Partial<Record<ChecksumAlgorithm, string>>;

/** Hybrid logical clock: wall milliseconds plus a counter for events in the same ms. */
export interface Hlc {
  wall: number;
  logical: number;
}

export type BodyLocation =
  /** small objects live in the metadata record itself */
  | { kind: 'inline'; data: Uint8Array }
  /** bytes in a blob file on `node`'s volume (cache/) */
  | { kind: 'blob'; blobId: string; node: string }
  /** a completed multipart upload: its part records (metadata/multipart.ts) hold the bytes */
  | { kind: 'parts'; uploadId: string; partCount: number }
  /** bytes held by another region (a version replicated here): pulled from there on read */
  | { kind: 'remote'; region: string };

export interface ObjectHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  /** the Expires header as the client sent it */
  expires?: string;
}

export interface ObjectVersion {
  bucket: string;
  key: string;
  /** sorts newest-first as a string; carries the HLC and region */
  versionId: string;
  hlc: Hlc;
  region: string;
  /** a tombstone: the key reads as absent while this is the newest version */
  deleteMarker: boolean;
  size: number;
  /** hex MD5 (or md5-of-md5s-N for multipart), without quotes */
  etag: string;
  /** ms since epoch */
  lastModified: number;
  /** access key id of the writer */
  owner: string;
  headers: ObjectHeaders;
  /** x-amz-meta-* without the prefix, keys lower-case */
  userMetadata: Record<string, string>;
  checksums: ChecksumSet;
  /** absent on delete markers */
  body?: BodyLocation;
  /**
   * written while the bucket was unversioned or suspended: S3 calls this version 'null'.
   * It keeps its real id (so it sorts among the others by time); s3VersionId() maps it out.
   */
  isNull?: boolean;
  /** object tags (x-amz-tagging, PutObjectTagging) */
  tags?: Record<string, string>;
  /**
   * written to a bucket (or with X-Tigris-Regions) whose locations are a regions list: only
   * these regions keep its bytes; others stream them from one of these, never storing them
   */
  keptIn?: string[];
}

export type BucketVersioning = 'Unversioned' | 'Enabled' | 'Suspended';

export interface BucketRecord {
  name: string;
  /** access key id that created it */
  owner: string;
  /** ms since epoch */
  createdAt: number;
  /** LocationConstraint given at creation, or the region that created it */
  region: string;
  versioning: BucketVersioning;
  /** the canned ACL it was created with (a later PutBucketAcl is a configuration document) */
  acl: CannedAcl;
}

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /** root keys see and may do everything */
  root: boolean;
  createdAt: number;
  name?: string;
  /** roles on buckets the key does not own (gateway/access.ts says what each allows) */
  grants?: Record<string, BucketRole>;
  /**
   * the key may touch only the buckets of `grants` (what `erne storage create` makes): it
   * creates no bucket, and no ACL or bucket policy of another bucket lets it in
   */
  scoped?: boolean;
  /** set on THE root key `erne serve` keeps (gateway/credentials.ts); keys made with `erne keys create --root` have none */
  rootSource?: RootSource;
}

/** env: named by ERNE_ROOT_ACCESS_KEY/SECRET; generated: made once, kept in <data-dir>/root-credentials.json */
export type RootSource = 'env' | 'generated';

/** ReadOnly: read and list; Editor: also write and delete objects. Bucket settings stay the owner's. */
export type BucketRole = 'Editor' | 'ReadOnly';

/** Conditions evaluated inside the transaction that commits a write. */
export interface WriteConditions {
  /** `*` or an ETag (quoted or not): the current object must exist / have this ETag */
  ifMatch?: string;
  /** only `*` is meaningful on writes: no current object may exist */
  ifNoneMatch?: string;
}

/** What a caller gives to write a new object version; the layer fills in the rest. */
export interface NewObject {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  owner: string;
  headers: ObjectHeaders;
  userMetadata: Record<string, string>;
  checksums: ChecksumSet;
  body: BodyLocation;
  tags?: Record<string, string>;
  /** ObjectVersion.keptIn */
  keptIn?: string[];
}

export interface ListBucketsInput {
  prefix?: string;
  /** exclusive: names strictly greater than this */
  after?: string;
  limit: number;
}

export interface ListObjectsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  /** exclusive: list keys (and common prefixes) strictly greater than this */
  after?: string;
  /** 0..1000; CommonPrefixes count against it */
  maxKeys: number;
}

export interface ListObjectsPage {
  /** current, non-delete-marker versions, in key order */
  contents: ObjectVersion[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** the last key or common prefix returned; resume with after = this */
  last?: string;
}

export interface DeleteResult {
  key: string;
  /** S3 id ('null' for the null version) of the version removed, or of the delete marker created */
  versionId?: string;
  deleteMarker: boolean;
  /** nothing was deleted: the item's `ifCurrent` no longer named the current version */
  skipped?: true;
}

/** An item of a batch delete. */
export interface DeleteItem {
  key: string;
  versionId?: string;
  /**
   * delete only while this (internal) version id is still the key's current version: a
   * background job that decided from a listing never removes a write that came after it
   */
  ifCurrent?: string;
}

/** A blob no version refers to any more: its file can be removed. */
export interface GarbageBlob {
  blobId: string;
  node: string;
}

export interface ListVersionsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  /** exclusive resume point: with versionIdMarker, after that version of this key; without, after every version of it */
  keyMarker?: string;
  /** an S3 version id ('null' allowed); needs keyMarker */
  versionIdMarker?: string;
  /** 0..1000; CommonPrefixes count against it */
  maxKeys: number;
}

export interface VersionEntry {
  version: ObjectVersion;
  /** the newest version of its key (a delete marker may be latest) */
  isLatest: boolean;
}

export interface ListVersionsPage {
  /** versions and delete markers, by key, newest first within a key; no `body` */
  versions: VersionEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** set when truncated: resume with keyMarker / versionIdMarker (S3 id; absent after a common prefix) */
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/** A copy whose new version shares (or copies) the source's bytes, in one transaction. */
export interface CopyInput {
  source: { bucket: string; key: string; versionId?: string };
  bucket: string;
  key: string;
  owner: string;
  /**
   * Runs inside the transaction with the source version (may run more than once, so no side
   * effects): throws to refuse (copy-source conditionals), returns the new version's metadata.
   */
  derive(source: ObjectVersion): { headers: ObjectHeaders; userMetadata: Record<string, string>; tags?: Record<string, string> };
}
