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
  | 'InvalidArgument';

export class MetadataError extends Error {
  constructor(
    readonly code: MetadataErrorCode,
    message?: string,
  ) {
    super(message ?? code);
    this.name = 'MetadataError';
  }
}
