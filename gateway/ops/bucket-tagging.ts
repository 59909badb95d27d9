import type { HandlerTable } from '../context.js';
import { S3Error } from '../errors.js';
import { configDocumentHandlers } from './bucket-config-doc.js';

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

export const bucketTaggingHandlers: HandlerTable = configDocumentHandlers<Tag[]>({
  kind: KIND,
  operations: ['PutBucketTagging', 'GetBucketTagging', 'DeleteBucketTagging'],
  // an empty tag set removes the tags
  parse: (doc) => {
    const tags = parseTagging(doc);
    return tags.length === 0 ? undefined : tags;
  },
  render: (tags) => ({ root: 'Tagging', value: { TagSet: { Tag: tags } } }),
  missing: 'NoSuchTagSet',
  putStatus: 204,
});
