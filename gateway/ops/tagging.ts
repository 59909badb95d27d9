import type { HandlerTable, OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { readXmlBody } from '../small-body.js';
import { checkKey } from '../validate.js';
import type { XmlDoc } from '../xml-reader.js';
import { s3VersionId } from '../../metadata/version-order.js';
import { versionIdParam } from './version-param.js';
import { headerText } from '../header-text.js';

/** Object tagging: Put/Get/DeleteObjectTagging, and the x-amz-tagging header's format. */

export const MAX_OBJECT_TAGS = 10;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;

/** S3's tag rules (lengths in characters, as S3 counts them); InvalidTag otherwise */
export function validateTags(pairs: [string, string][], max = MAX_OBJECT_TAGS): Record<string, string> {
  if (pairs.length > max) throw new S3Error('InvalidTag', 'Object tags cannot be greater than 10');
  const tags: Record<string, string> = {};
  for (const [k, v] of pairs) {
    const klen = [...k].length;
    if (klen === 0 || klen > MAX_TAG_KEY) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid');
    if ([...v].length > MAX_TAG_VALUE) throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid');
    if (Object.hasOwn(tags, k)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key');
    tags[k] = v;
  }
  return tags;
}

/** x-amz-tagging: URL-query encoded `k1=v1&k2=v2`; `value` as the header arrived (gateway/header-text.ts) */
export function parseTaggingHeader(value: string): Record<string, string> {
  if (value.trim() === '') return {};
  return validateTags([...new URLSearchParams(headerText(value))]);
}

/** <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging> */
export function parseTaggingXml(body: XmlDoc): Record<string, string> {
  const doc = body['Tagging'];
  if (typeof doc !== 'object' || doc === null) throw new S3Error('MalformedXML');
  const set = (doc as Record<string, unknown>)['TagSet'];
  if (set === undefined) throw new S3Error('MalformedXML');
  const list = typeof set === 'object' && set !== null ? ((set as Record<string, unknown>)['Tag'] ?? []) : [];
  if (!Array.isArray(list)) throw new S3Error('MalformedXML');
  const pairs = list.map((t): [string, string] => {
    if (typeof t !== 'object' || t === null) throw new S3Error('MalformedXML');
    const { Key: k, Value: v } = t as Record<string, unknown>;
    if (typeof k !== 'string') throw new S3Error('MalformedXML');
    return [k, typeof v === 'string' ? v : ''];
  });
  return validateTags(pairs);
}

export function tagSetXml(tags: Record<string, string> | undefined): Record<string, unknown> {
  return { TagSet: { Tag: Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value })) } };
}

async function target(ctx: OpContext) {
  checkKey(ctx.key);
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  return { bucket, versionId: versionIdParam(ctx.query) };
}

function versionHeader(versioned: boolean, v: { versionId: string; isNull?: boolean }): Record<string, string> {
  return versioned ? { 'x-amz-version-id': s3VersionId(v) } : {};
}

async function putObjectTagging(ctx: OpContext): Promise<OpResult> {
  const { bucket, versionId } = await target(ctx);
  const tags = parseTaggingXml(await readXmlBody(ctx));
  const v = await ctx.svc.layer.setObjectTags(ctx.bucket, ctx.key, versionId, tags);
  return { headers: versionHeader(bucket.versioning !== 'Unversioned', v) };
}

async function getObjectTagging(ctx: OpContext): Promise<OpResult> {
  const { bucket, versionId } = await target(ctx);
  const v = await ctx.svc.layer.getObject(ctx.bucket, ctx.key, versionId);
  return { headers: versionHeader(bucket.versioning !== 'Unversioned', v), xml: { root: 'Tagging', value: tagSetXml(v.tags) } };
}

async function deleteObjectTagging(ctx: OpContext): Promise<OpResult> {
  const { bucket, versionId } = await target(ctx);
  const v = await ctx.svc.layer.setObjectTags(ctx.bucket, ctx.key, versionId, {});
  return { status: 204, headers: versionHeader(bucket.versioning !== 'Unversioned', v) };
}

export const taggingHandlers: HandlerTable = {
  PutObjectTagging: putObjectTagging,
  GetObjectTagging: getObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
};
