import type { OpContext, OpResult } from '../context.js';
import { requireBucketAccess, requireSigned } from '../access.js';
import { S3Error } from '../errors.js';
import { checkBucketName } from '../validate.js';
import { isoDate } from '../xml.js';
import { readOptionalXmlBody } from '../small-body.js';
import { MetadataError } from '../../metadata/errors.js';
import { DEFAULT_S3_REGION, locationConstraint, placeBucket } from './bucket-location.js';
import { bucketsPage } from './list-buckets-page.js';
import { ownerNames } from '../acl/owners.js';
import { BUCKET_CANNED_ACLS, type CannedAcl } from '../../metadata/acl.js';
import { formatLocations } from '../../metadata/bucket-locations.js';
import { bucketLocations, LOCATIONS_HEADER, requestedLocations, setBucketLocations } from '../locations.js';

/** ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */

export async function listBuckets(ctx: OpContext): Promise<OpResult> {
  const id = requireSigned(ctx.auth);
  const { buckets: mine, next, prefix } = await bucketsPage(ctx);
  return {
    xml: {
      root: 'ListAllMyBucketsResult',
      value: {
        Owner: await ownerNames(ctx.svc)(id),
        Buckets: { Bucket: mine.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAt), BucketRegion: b.region })) },
        ...(next !== undefined ? { ContinuationToken: next } : {}),
        ...(prefix ? { Prefix: prefix } : {}),
      },
    },
  };
}

const CANNED_BUCKET_ACLS: ReadonlySet<string> = new Set(BUCKET_CANNED_ACLS);

export async function createBucket(ctx: OpContext): Promise<OpResult> {
  const owner = requireSigned(ctx.auth);
  checkBucketName(ctx.bucket);
  const acl = (ctx.headers['x-amz-acl'] as string | undefined) ?? 'private';
  if (!CANNED_BUCKET_ACLS.has(acl)) throw new S3Error('NotImplemented', `The canned ACL ${acl} is not supported.`);
  // X-Tigris-Regions / x-erne-regions: checked before anything is created
  const locations = requestedLocations(ctx.svc, ctx.headers);
  const place = placeBucket(ctx.svc, locationConstraint(await readOptionalXmlBody(ctx)));
  try {
    const bucket = { name: ctx.bucket, owner, region: place.region, acl: acl as CannedAcl };
    await (ctx.svc.namespace ? ctx.svc.namespace.create(bucket) : ctx.svc.layer.createBucket(bucket));
    if (locations) await setBucketLocations(ctx.svc, ctx.bucket, locations);
  } catch (err) {
    // S3 in us-east-1 answers a plain re-create of your own bucket with 200 (and changes nothing)
    const again = err instanceof MetadataError && err.code === 'BucketAlreadyOwnedByYou';
    if (!(again && !place.constrained && (ctx.auth.region ?? DEFAULT_S3_REGION) === DEFAULT_S3_REGION)) throw err;
  }
  return { headers: { location: '/' + ctx.bucket } };
}

export async function headBucket(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  return { headers: { 'x-amz-bucket-region': b.region, [LOCATIONS_HEADER]: formatLocations(await bucketLocations(ctx.svc, ctx.bucket)) } };
}

export async function deleteBucket(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  if (ctx.svc.namespace) {
    // decided by the control region once every region has closed the bucket
    await ctx.svc.namespace.delete(ctx.bucket);
    return { status: 204 };
  }
  await ctx.svc.layer.deleteBucket(ctx.bucket);
  // its configuration goes too (records a crash leaves behind never apply to a new bucket)
  await ctx.svc.configs.clearBucket(ctx.bucket);
  return { status: 204 };
}

export async function getBucketLocation(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  // S3 answers an empty constraint for us-east-1
  return {
    headers: { [LOCATIONS_HEADER]: formatLocations(await bucketLocations(ctx.svc, ctx.bucket)) },
    xml: { root: 'LocationConstraint', value: { '#text': b.region === 'us-east-1' ? '' : b.region } },
  };
}
