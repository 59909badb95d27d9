import type { Handler, HandlerTable } from './context.js';
import { aclHandlers } from './ops/acl.js';
import { bucketPolicyHandlers } from './ops/bucket-policy.js';
import { bucketTaggingHandlers } from './ops/bucket-tagging.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './ops/buckets.js';
import { copyHandlers } from './ops/copy-object.js';
import { corsHandlers } from './ops/cors.js';
import { deleteObject } from './ops/delete-object.js';
import { deleteObjects } from './ops/delete-objects.js';
import { getObject } from './ops/get-object.js';
import { lifecycleHandlers } from './ops/lifecycle.js';
import { listObjectsV1, listObjectsV2 } from './ops/list.js';
import { multipartHandlers } from './ops/multipart.js';
import { objectAttributesHandlers } from './ops/object-attributes.js';
import { postObjectHandlers } from './ops/post-object.js';
import { putObject } from './ops/put-object.js';
import { taggingHandlers } from './ops/tagging.js';
import { versioningHandlers } from './ops/versioning.js';

/** Operation name → handler. An operation with no handler here is NotImplemented. */
const HANDLERS: HandlerTable = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  ListObjects: listObjectsV1,
  ListObjectsV2: listObjectsV2,
  DeleteObjects: deleteObjects,
  PutObject: putObject,
  GetObject: (ctx) => getObject(ctx, false),
  HeadObject: (ctx) => getObject(ctx, true),
  DeleteObject: deleteObject,
  ...multipartHandlers,
  ...copyHandlers,
  ...versioningHandlers,
  ...taggingHandlers,
  ...corsHandlers,
  ...aclHandlers,
  ...lifecycleHandlers,
  ...postObjectHandlers,
  ...bucketTaggingHandlers,
  ...objectAttributesHandlers,
  ...bucketPolicyHandlers,
};

export function handlerFor(name: string): Handler | undefined {
  return Object.hasOwn(HANDLERS, name) ? HANDLERS[name] : undefined;
}

/** operations whose handler reads the request body (all others get theirs verified and dropped) */
const BODY_READERS = new Set([
  'PutObject', 'UploadPart', 'CompleteMultipartUpload', 'PostObject', 'DeleteObjects', 'CreateBucket',
  'PutBucketVersioning', 'PutObjectTagging', 'PutBucketTagging', 'PutBucketCors',
  'PutBucketLifecycleConfiguration', 'PutBucketAcl', 'PutObjectAcl',
  'PutBucketPolicy', 'PutPublicAccessBlock',
]);

export function readsBody(name: string): boolean {
  return BODY_READERS.has(name);
}
