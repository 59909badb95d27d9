/**
 * S3 dispatch: (method, bucket?, key?, query sub-resources, headers) → one operation value.
 * Every S3 operation is recognised by name, also those Erne does not offer (dispatch.ts
 * has no handler for them: NotImplemented), so none is mistaken for a plain object or
 * bucket request.
 */

/** An S3 operation by its API name (GetObject, PutBucketCors, …) or MethodNotAllowed. */
export interface Operation {
  name: string;
}

export interface RouteInput {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
}

const op = (name: string): Operation => ({ name });
const methodNotAllowed: Operation = { name: 'MethodNotAllowed' };

/** bucket sub-resources S3 has, by method → the S3 operation name */
export const BUCKET_SUBRESOURCES: Record<string, Partial<Record<string, string>>> = {
  versioning: { GET: 'GetBucketVersioning', PUT: 'PutBucketVersioning' },
  tagging: { GET: 'GetBucketTagging', PUT: 'PutBucketTagging', DELETE: 'DeleteBucketTagging' },
  cors: { GET: 'GetBucketCors', PUT: 'PutBucketCors', DELETE: 'DeleteBucketCors' },
  acl: { GET: 'GetBucketAcl', PUT: 'PutBucketAcl' },
  lifecycle: { GET: 'GetBucketLifecycleConfiguration', PUT: 'PutBucketLifecycleConfiguration', DELETE: 'DeleteBucketLifecycle' },
  policy: { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' },
  policyStatus: { GET: 'GetBucketPolicyStatus' },
  uploads: { GET: 'ListMultipartUploads' },
  versions: { GET: 'ListObjectVersions' },
  website: { GET: 'GetBucketWebsite', PUT: 'PutBucketWebsite', DELETE: 'DeleteBucketWebsite' },
  logging: { GET: 'GetBucketLogging', PUT: 'PutBucketLogging' },
  notification: { GET: 'GetBucketNotificationConfiguration', PUT: 'PutBucketNotificationConfiguration' },
  replication: { GET: 'GetBucketReplication', PUT: 'PutBucketReplication', DELETE: 'DeleteBucketReplication' },
  encryption: { GET: 'GetBucketEncryption', PUT: 'PutBucketEncryption', DELETE: 'DeleteBucketEncryption' },
  ownershipControls: { GET: 'GetBucketOwnershipControls', PUT: 'PutBucketOwnershipControls', DELETE: 'DeleteBucketOwnershipControls' },
  publicAccessBlock: { GET: 'GetPublicAccessBlock', PUT: 'PutPublicAccessBlock', DELETE: 'DeletePublicAccessBlock' },
  'object-lock': { GET: 'GetObjectLockConfiguration', PUT: 'PutObjectLockConfiguration' },
  accelerate: { GET: 'GetBucketAccelerateConfiguration', PUT: 'PutBucketAccelerateConfiguration' },
  requestPayment: { GET: 'GetBucketRequestPayment', PUT: 'PutBucketRequestPayment' },
  analytics: { GET: 'GetBucketAnalyticsConfiguration', PUT: 'PutBucketAnalyticsConfiguration', DELETE: 'DeleteBucketAnalyticsConfiguration' },
  metrics: { GET: 'GetBucketMetricsConfiguration', PUT: 'PutBucketMetricsConfiguration', DELETE: 'DeleteBucketMetricsConfiguration' },
  inventory: { GET: 'GetBucketInventoryConfiguration', PUT: 'PutBucketInventoryConfiguration', DELETE: 'DeleteBucketInventoryConfiguration' },
  'intelligent-tiering': { GET: 'GetBucketIntelligentTieringConfiguration', PUT: 'PutBucketIntelligentTieringConfiguration', DELETE: 'DeleteBucketIntelligentTieringConfiguration' },
  metadataTable: { GET: 'GetBucketMetadataTableConfiguration', POST: 'CreateBucketMetadataTableConfiguration', DELETE: 'DeleteBucketMetadataTableConfiguration' },
  // S3 Express sessions (directory buckets): without this a GET ?session would list the bucket
  session: { GET: 'CreateSession' },
};

/** object sub-resources S3 has, by method */
export const OBJECT_SUBRESOURCES: Record<string, Partial<Record<string, string>>> = {
  tagging: { GET: 'GetObjectTagging', PUT: 'PutObjectTagging', DELETE: 'DeleteObjectTagging' },
  acl: { GET: 'GetObjectAcl', PUT: 'PutObjectAcl' },
  uploads: { POST: 'CreateMultipartUpload' },
  retention: { GET: 'GetObjectRetention', PUT: 'PutObjectRetention' },
  'legal-hold': { GET: 'GetObjectLegalHold', PUT: 'PutObjectLegalHold' },
  attributes: { GET: 'GetObjectAttributes' },
  restore: { POST: 'RestoreObject' },
  select: { POST: 'SelectObjectContent' },
  torrent: { GET: 'GetObjectTorrent' },
  renameObject: { PUT: 'RenameObject' },
};

function header(h: RouteInput['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function resolveOperation(r: RouteInput): Operation {
  const m = r.method.toUpperCase();
  const q = r.query;
  if (!r.bucket) {
    if (m === 'GET') return op('ListBuckets');
    return methodNotAllowed;
  }
  if (r.key === undefined || r.key === '') {
    for (const [sub, byMethod] of Object.entries(BUCKET_SUBRESOURCES)) {
      if (q.has(sub)) {
        const name = byMethod[m];
        return name ? op(name) : methodNotAllowed;
      }
    }
    switch (m) {
      case 'GET':
        if (q.has('location')) return op('GetBucketLocation');
        return q.get('list-type') === '2' ? op('ListObjectsV2') : op('ListObjects');
      case 'HEAD':
        return op('HeadBucket');
      case 'PUT':
        return op('CreateBucket');
      case 'DELETE':
        return op('DeleteBucket');
      case 'POST':
        if (q.has('delete')) return op('DeleteObjects');
        return op('PostObject');
      case 'OPTIONS':
        return op('PreflightRequest');
      default:
        return methodNotAllowed;
    }
  }
  if (q.has('uploadId')) {
    if (m === 'PUT') return op(header(r.headers, 'x-amz-copy-source') ? 'UploadPartCopy' : 'UploadPart');
    if (m === 'POST') return op('CompleteMultipartUpload');
    if (m === 'GET') return op('ListParts');
    if (m === 'DELETE') return op('AbortMultipartUpload');
    return methodNotAllowed;
  }
  for (const [sub, byMethod] of Object.entries(OBJECT_SUBRESOURCES)) {
    if (q.has(sub)) {
      const name = byMethod[m];
      return name ? op(name) : methodNotAllowed;
    }
  }
  switch (m) {
    case 'GET':
      return op('GetObject');
    case 'HEAD':
      return op('HeadObject');
    case 'PUT':
      return header(r.headers, 'x-amz-copy-source') ? op('CopyObject') : op('PutObject');
    case 'DELETE':
      return op('DeleteObject');
    case 'OPTIONS':
      return op('PreflightRequest');
    default:
      return methodNotAllowed;
  }
}
