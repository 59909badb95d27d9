import { globMatch, hasWildcard } from './glob.js';

/**
 * S3's IAM action names, what kind of resource each applies to, and which action each
 * operation Erne serves needs (AWS's "Actions, resources, and condition keys for Amazon S3").
 */

export type ResourceKind = 'bucket' | 'object';

const OBJECT_ACTIONS = [
  'AbortMultipartUpload', 'BypassGovernanceRetention', 'DeleteObject', 'DeleteObjectTagging', 'DeleteObjectVersion',
  'DeleteObjectVersionTagging', 'GetObject', 'GetObjectAcl', 'GetObjectAttributes', 'GetObjectLegalHold', 'GetObjectRetention',
  'GetObjectTagging', 'GetObjectTorrent', 'GetObjectVersion', 'GetObjectVersionAcl', 'GetObjectVersionAttributes',
  'GetObjectVersionForReplication', 'GetObjectVersionTagging', 'GetObjectVersionTorrent', 'InitiateReplication',
  'ListMultipartUploadParts', 'ObjectOwnerOverrideToBucketOwner', 'PutObject', 'PutObjectAcl', 'PutObjectLegalHold',
  'PutObjectRetention', 'PutObjectTagging', 'PutObjectVersionAcl', 'PutObjectVersionTagging', 'ReplicateDelete',
  'ReplicateObject', 'ReplicateTags', 'RestoreObject',
];

const BUCKET_ACTIONS = [
  'CreateBucket', 'DeleteBucket', 'DeleteBucketPolicy', 'DeleteBucketWebsite', 'DeleteBucketMetadataTableConfiguration',
  'CreateBucketMetadataTableConfiguration', 'GetAccelerateConfiguration', 'GetAnalyticsConfiguration', 'GetBucketAcl',
  'GetBucketCORS', 'GetBucketLocation', 'GetBucketLogging', 'GetBucketMetadataTableConfiguration', 'GetBucketNotification',
  'GetBucketObjectLockConfiguration', 'GetBucketOwnershipControls', 'GetBucketPolicy', 'GetBucketPolicyStatus',
  'GetBucketPublicAccessBlock', 'GetBucketRequestPayment', 'GetBucketTagging', 'GetBucketVersioning', 'GetBucketWebsite',
  'GetEncryptionConfiguration', 'GetIntelligentTieringConfiguration', 'GetInventoryConfiguration', 'GetLifecycleConfiguration',
  'GetMetricsConfiguration', 'GetReplicationConfiguration', 'ListAllMyBuckets', 'ListBucket', 'ListBucketByTags',
  'ListBucketMultipartUploads', 'ListBucketVersions', 'PutAccelerateConfiguration', 'PutAnalyticsConfiguration',
  'PutBucketAcl', 'PutBucketCORS', 'PutBucketLogging', 'PutBucketNotification', 'PutBucketObjectLockConfiguration',
  'PutBucketOwnershipControls', 'PutBucketPolicy', 'PutBucketPublicAccessBlock', 'PutBucketRequestPayment',
  'PutBucketTagging', 'PutBucketVersioning', 'PutBucketWebsite', 'PutEncryptionConfiguration',
  'PutIntelligentTieringConfiguration', 'PutInventoryConfiguration', 'PutLifecycleConfiguration', 'PutMetricsConfiguration',
  'PutReplicationConfiguration',
];

/** lower-cased `s3:name` → its canonical spelling and resource kind */
const ACTIONS = new Map<string, { name: string; kind: ResourceKind }>([
  ...OBJECT_ACTIONS.map((n) => [`s3:${n}`.toLowerCase(), { name: `s3:${n}`, kind: 'object' as const }] as const),
  ...BUCKET_ACTIONS.map((n) => [`s3:${n}`.toLowerCase(), { name: `s3:${n}`, kind: 'bucket' as const }] as const),
]);

/** a policy's action pattern is well formed: `*`, or `s3:` and a known name or a wildcard pattern */
export function isValidActionPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (!/^s3:[A-Za-z*?]+$/i.test(pattern) || pattern.slice(0, 3).toLowerCase() !== 's3:') return false;
  return hasWildcard(pattern) || ACTIONS.has(pattern.toLowerCase());
}

/** action names match case-insensitively, as IAM's do */
export function actionMatches(pattern: string, action: string): boolean {
  return globMatch(pattern, action, true);
}

/** the kinds of resource the actions a pattern names apply to */
export function actionKinds(pattern: string): Set<ResourceKind> {
  const kinds = new Set<ResourceKind>();
  for (const [lower, a] of ACTIONS) if (actionMatches(pattern, lower)) kinds.add(a.kind);
  return kinds;
}

/** operation → the action it needs, and the one it needs instead when it names a version */
const OPERATION_ACTIONS: Readonly<Record<string, readonly [action: string, versioned?: string]>> = {
  HeadBucket: ['ListBucket'],
  GetBucketLocation: ['GetBucketLocation'],
  ListObjects: ['ListBucket'],
  ListObjectsV2: ['ListBucket'],
  ListObjectVersions: ['ListBucketVersions'],
  ListMultipartUploads: ['ListBucketMultipartUploads'],
  ListParts: ['ListMultipartUploadParts'],
  GetObject: ['GetObject', 'GetObjectVersion'],
  HeadObject: ['GetObject', 'GetObjectVersion'],
  GetObjectAttributes: ['GetObjectAttributes', 'GetObjectVersionAttributes'],
  GetObjectTagging: ['GetObjectTagging', 'GetObjectVersionTagging'],
  GetObjectAcl: ['GetObjectAcl', 'GetObjectVersionAcl'],
  PutObject: ['PutObject'],
  PostObject: ['PutObject'],
  CopyObject: ['PutObject'],
  CreateMultipartUpload: ['PutObject'],
  UploadPart: ['PutObject'],
  UploadPartCopy: ['PutObject'],
  CompleteMultipartUpload: ['PutObject'],
  AbortMultipartUpload: ['AbortMultipartUpload'],
  DeleteObject: ['DeleteObject', 'DeleteObjectVersion'],
  DeleteObjects: ['DeleteObject', 'DeleteObjectVersion'],
  PutObjectTagging: ['PutObjectTagging', 'PutObjectVersionTagging'],
  DeleteObjectTagging: ['DeleteObjectTagging', 'DeleteObjectVersionTagging'],
  PutObjectAcl: ['PutObjectAcl', 'PutObjectVersionAcl'],
  DeleteBucket: ['DeleteBucket'],
  GetBucketAcl: ['GetBucketAcl'],
  PutBucketAcl: ['PutBucketAcl'],
  GetBucketVersioning: ['GetBucketVersioning'],
  PutBucketVersioning: ['PutBucketVersioning'],
  GetBucketCors: ['GetBucketCORS'],
  PutBucketCors: ['PutBucketCORS'],
  DeleteBucketCors: ['PutBucketCORS'],
  GetBucketTagging: ['GetBucketTagging'],
  PutBucketTagging: ['PutBucketTagging'],
  DeleteBucketTagging: ['PutBucketTagging'],
  GetBucketLifecycleConfiguration: ['GetLifecycleConfiguration'],
  PutBucketLifecycleConfiguration: ['PutLifecycleConfiguration'],
  DeleteBucketLifecycle: ['PutLifecycleConfiguration'],
  GetBucketPolicy: ['GetBucketPolicy'],
  PutBucketPolicy: ['PutBucketPolicy'],
  DeleteBucketPolicy: ['DeleteBucketPolicy'],
  GetBucketPolicyStatus: ['GetBucketPolicyStatus'],
  GetPublicAccessBlock: ['GetBucketPublicAccessBlock'],
  PutPublicAccessBlock: ['PutBucketPublicAccessBlock'],
  DeletePublicAccessBlock: ['PutBucketPublicAccessBlock'],
};

export interface RequiredAction {
  /** e.g. `s3:GetObject` */
  action: string;
  kind: ResourceKind;
}

/** The action an operation needs (undefined: none that a bucket policy governs). */
export function operationAction(op: string, versioned: boolean): RequiredAction | undefined {
  const pair = Object.hasOwn(OPERATION_ACTIONS, op) ? OPERATION_ACTIONS[op] : undefined;
  if (!pair) return undefined;
  const name = `s3:${(versioned && pair[1]) || pair[0]}`;
  return { action: name, kind: ACTIONS.get(name.toLowerCase())!.kind };
}
