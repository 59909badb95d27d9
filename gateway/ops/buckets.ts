import type { OpContext, OpResult } from '../context.js';
import { requireBucketAccess, requireSigned, mayAccessBucket } from '../access.js';
import { S3Error } from '../errors.js';
import { checkBucketName } from '../validate.js';
import { isoDate } from '../xml.js';
import { readOptionalXmlBody } from '../small-body.js';

/** ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation. */

export function ownerXml(id: string): Record<string, string> {
  return { ID: id, DisplayName: id };
}

export async function listBuckets(ctx: OpContext): Promise<OpResult> {
  const id = requireSigned(ctx.auth);
  const prefix = ctx.query.get('prefix') ?? '';
  const all = await ctx.svc.layer.listBuckets();
  const mine = all.filter((b) => mayAccessBucket(ctx.auth, b) && b.name.startsWith(prefix));
  return {
    xml: {
      root: 'ListAllMyBucketsResult',
      value: {
        Owner: ownerXml(id),
        Buckets: { Bucket: mine.map((b) => ({ Name: b.name, CreationDate: isoDate(b.createdAt), BucketRegion: b.region })) },
        ...(prefix ? { Prefix: prefix } : {}),
      },
    },
  };
}

const CANNED_BUCKET_ACLS = new Set(['private', 'public-read']);

export async function createBucket(ctx: OpContext): Promise<OpResult> {
  const owner = requireSigned(ctx.auth);
  checkBucketName(ctx.bucket);
  const acl = (ctx.headers['x-amz-acl'] as string | undefined) ?? 'private';
  if (!CANNED_BUCKET_ACLS.has(acl)) throw new S3Error('NotImplemented', `The canned ACL ${acl} is not supported.`);
  let region = ctx.svc.region;
  const doc = await readOptionalXmlBody(ctx);
  if (doc) {
    const conf = doc['CreateBucketConfiguration'];
    if (conf === undefined) throw new S3Error('MalformedXML');
    const loc = typeof conf === 'object' && conf !== null ? (conf as Record<string, unknown>)['LocationConstraint'] : undefined;
    if (typeof loc === 'string' && loc !== '') region = loc;
  }
  await ctx.svc.layer.createBucket({ name: ctx.bucket, owner, region, acl: acl as 'private' | 'public-read' });
  return { headers: { location: '/' + ctx.bucket } };
}

export async function headBucket(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  return { headers: { 'x-amz-bucket-region': b.region } };
}

export async function deleteBucket(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  await ctx.svc.layer.deleteBucket(ctx.bucket);
  // its configuration goes too (records a crash leaves behind never apply to a new bucket)
  await ctx.svc.configs.clearBucket(ctx.bucket);
  return { status: 204 };
}

export async function getBucketLocation(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  // S3 answers an empty constraint for us-east-1
  return { xml: { root: 'LocationConstraint', value: { '#text': b.region === 'us-east-1' ? '' : b.region } } };
}
