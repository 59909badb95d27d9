/**
 * Errors the metadata layer raises. Codes are S3 error codes so the gateway's catalogue
 * (gateway/errors.ts) renders them without translation; the metadata layer itself knows
 * nothing of HTTP.
 */
export type MetadataErrorCode =
  | 'NoSuchBucket'
  | 'BucketAlreadyExists'
  | 'BucketAlreadyOwnedByYou'
  | 'BucketNotEmpty'
  | 'NoSuchKey'
  | 'NoSuchVersion'
  | 'PreconditionFailed'
  | 'InvalidArgument'
  /** a delete marker asked for by version id */
  | 'MethodNotAllowed'
  // multipart (metadata/multipart.ts)
  | 'NoSuchUpload'
  | 'OperationAborted'
  /** a region this operation needs cannot be reached (replication's bucket namespace) */
  | 'ServiceUnavailable';

/** the delete marker a failed read met (S3 answers with x-amz-delete-marker headers) */
export interface DeleteMarkerInfo {
  /** S3 version id of the marker ('null' for a null marker) */
  versionId: string;
  lastModified: number;
}

export class MetadataError extends Error {
  constructor(
    readonly code: MetadataErrorCode,
    message?: string,
    readonly deleteMarker?: DeleteMarkerInfo,
  ) {
    super(message ?? code);
    this.name = 'MetadataError';
  }
}
