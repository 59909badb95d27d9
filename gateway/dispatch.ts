import type { OpContext, OpResult } from './context.js';
import type { ImplementedOp } from './router.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './ops/buckets.js';
import { deleteObject } from './ops/delete-object.js';
import { deleteObjects } from './ops/delete-objects.js';
import { getObject } from './ops/get-object.js';
import { listObjectsV1, listObjectsV2 } from './ops/list.js';
import { putObject } from './ops/put-object.js';

/** Operation name → handler. Handlers return data; respond.ts writes it. */
export const HANDLERS: Record<ImplementedOp, (ctx: OpContext) => Promise<OpResult>> = {
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
};
