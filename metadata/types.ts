/** The durable records of the object layer, shared by metadata/, gateway/ and replication/. */

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
  | { kind: 'parts'; uploadId: string; partCount: number };

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
  acl: 'private' | 'public-read';
}

export interface AccessKeyRecord {
  accessKeyId: string;
  secretAccessKey: string;
  /** root keys see and may do everything */
  root: boolean;
  createdAt: number;
  name?: string;
}

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
  /** id of the version removed, or of the delete marker created */
  versionId?: string;
  deleteMarker: boolean;
}

/** A blob no version refers to any more: its file can be removed. */
export interface GarbageBlob {
  blobId: string;
  node: string;
}
