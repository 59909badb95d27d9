import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { readSmallBody } from '../small-body.js';
import { parseXml } from '../xml.js';

/** Put/Get/DeleteBucketTagging, with S3's limits on bucket tags. */

export interface Tag {
  Key: string;
  Value: string;
}

export const MAX_BUCKET_TAGS = 50;
const KIND = 'tagging';

/** Tagging document (parsed) → validated tags, in document order. */
export function parseTagging(doc: Record<string, unknown>, maxTags = MAX_BUCKET_TAGS): Tag[] {
  const tagging = doc['Tagging'];
  if (!tagging || typeof tagging !== 'object') throw new S3Error('MalformedXML');
  const set = (tagging as Record<string, unknown>)['TagSet'];
  if (set === undefined) throw new S3Error('MalformedXML');
  const raw = set && typeof set === 'object' ? (set as Record<string, unknown>)['Tag'] : undefined;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length > maxTags) throw new S3Error('InvalidTag', `Bucket tag count cannot be greater than ${maxTags}`);
  const seen = new Set<string>();
  return list.map((t) => {
    const e = (t ?? {}) as Record<string, unknown>;
    const key = e['Key'];
    const value = e['Value'] ?? '';
    if (typeof key !== 'string' || typeof value !== 'string') throw new S3Error('MalformedXML');
    // lengths are counted in characters (UTF-16 code units, as AWS documents them)
    if (key.length < 1 || key.length > 128) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if (value.length > 256) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
    if (key.toLowerCase().startsWith('aws:')) throw new S3Error('InvalidTag', 'System tags cannot be added/updated by requester');
    if (seen.has(key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    seen.add(key);
    return { Key: key, Value: value };
  });
}

async function putBucketTagging(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  const tags = parseTagging(parseXml((await readSmallBody(ctx)).toString('utf8')));
  if (tags.length === 0) await ctx.svc.configs.delete(ctx.bucket, KIND);
  else await ctx.svc.configs.put(ctx.bucket, KIND, tags);
  return { status: 204 };
}

async function getBucketTagging(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  const tags = await ctx.svc.configs.get<Tag[]>(ctx.bucket, KIND);
  if (!tags) throw new S3Error('NoSuchTagSet', undefined, { BucketName: ctx.bucket });
  return { xml: { root: 'Tagging', value: { TagSet: { Tag: tags } } } };
}

async function deleteBucketTagging(ctx: OpContext): Promise<OpResult> {
  const b = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, b);
  await ctx.svc.configs.delete(ctx.bucket, KIND);
  return { status: 204 };
}

export const bucketTaggingHandlers: HandlerTable = {
  PutBucketTagging: putBucketTagging,
  GetBucketTagging: getBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
};
