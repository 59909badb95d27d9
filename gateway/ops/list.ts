import type { OpContext, OpResult } from '../context.js';
import { requireBucketAccess } from '../access.js';
import { S3Error } from '../errors.js';
import { isoDate, renderElement } from '../xml.js';
import { ownerNames, ownersOf, type OwnerXml } from '../acl/owners.js';
import type { ObjectVersion } from '../../metadata/types.js';
import { s3VersionId } from '../../metadata/version-order.js';
import { checkVersionId } from './version-param.js';
import { mergePages, sourcePage, type Listed, type MergedPage } from '../shadow/list-merge.js';
import { ShadowSource } from '../shadow/source.js';
import { shadowOf } from '../shadow/hooks.js';

/** ListObjectsV2, ListObjects (v1) and ListObjectVersions over the backend-independent listings of metadata/. */

const MAX_KEYS = 1000;

function maxKeysParam(q: URLSearchParams): number {
  const raw = q.get('max-keys');
  if (raw === null || raw === '') return MAX_KEYS;
  if (!/^\d+$/.test(raw)) throw new S3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: raw });
  return Math.min(Number(raw), MAX_KEYS);
}

function encodingParam(q: URLSearchParams): boolean {
  const e = q.get('encoding-type');
  if (e === null || e === '') return false;
  if (e.toLowerCase() !== 'url') throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: e });
  return true;
}

/** S3's url encoding of listed names: everything but unreserved characters and '/'. */
function urlEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%2F/g, '/');
}

/** Continuation tokens are opaque to clients: the last name returned, base64url. */
export function encodeToken(last: string): string {
  return Buffer.from('1:' + last, 'utf8').toString('base64url');
}

export function decodeToken(token: string): string {
  const text = /^[A-Za-z0-9_-]*$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (!text.startsWith('1:')) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  return text.slice(2);
}

function contentsXml(v: Listed, enc: (s: string) => string, owner: OwnerXml | undefined): Record<string, unknown> {
  const el: Record<string, unknown> = {
    Key: enc(v.key),
    LastModified: isoDate(v.lastModified),
    ETag: `"${v.etag}"`,
    Size: v.size,
    StorageClass: 'STANDARD',
  };
  const algs = Object.keys(v.checksums);
  if (algs.length) {
    el['ChecksumAlgorithm'] = algs;
    el['ChecksumType'] = 'FULL_OBJECT';
  }
  if (owner) el['Owner'] = owner;
  return el;
}

async function page(ctx: OpContext, after: string | undefined, maxKeys: number) {
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const here = await ctx.svc.layer.listObjects({
    bucket: ctx.bucket,
    prefix: prefix || undefined,
    delimiter: delimiter || undefined,
    after,
    maxKeys,
  });
  // a shadow bucket lists what is here and what its source holds (gateway/shadow/list-merge.ts)
  const shadow = ctx.svc.shadow && maxKeys > 0 ? await shadowOf(ctx) : undefined;
  if (!shadow) return { prefix, delimiter, result: here as MergedPage };
  const source = await sourcePage(new ShadowSource(shadow), { prefix, delimiter, after, maxKeys }, bucket.owner).catch((err: unknown) => {
    throw new S3Error('ServiceUnavailable', `The bucket's shadow source cannot be listed: ${(err as Error).message}`);
  });
  return { prefix, delimiter, result: mergePages(here, source, maxKeys) };
}

export async function listObjectsV2(ctx: OpContext): Promise<OpResult> {
  const q = ctx.query;
  const maxKeys = maxKeysParam(q);
  const url = encodingParam(q);
  const enc = url ? urlEncode : (s: string) => s;
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after') ?? '';
  // S3 reads an empty token as none (clients build the first request from an empty "next")
  let after = token ? decodeToken(token) : undefined;
  if (startAfter && (after === undefined || Buffer.compare(Buffer.from(startAfter), Buffer.from(after)) > 0)) after = startAfter;
  const { prefix, delimiter, result } = await page(ctx, after, maxKeys);
  const owners = q.get('fetch-owner') === 'true' ? await ownersOf(ownerNames(ctx.svc), result.contents.map((v) => v.owner)) : undefined;
  const value: Record<string, unknown> = {
    Name: ctx.bucket,
    Prefix: enc(prefix),
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    MaxKeys: maxKeys,
    KeyCount: result.contents.length + result.commonPrefixes.length,
    IsTruncated: result.isTruncated,
    ...(token !== null ? { ContinuationToken: token } : {}),
    ...(result.isTruncated && result.last !== undefined ? { NextContinuationToken: encodeToken(result.last) } : {}),
    ...(startAfter ? { StartAfter: enc(startAfter) } : {}),
    ...(url ? { EncodingType: 'url' } : {}),
    Contents: result.contents.map((v) => contentsXml(v, enc, owners?.get(v.owner))),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  };
  return { xml: { root: 'ListBucketResult', value } };
}

export async function listObjectsV1(ctx: OpContext): Promise<OpResult> {
  const q = ctx.query;
  const maxKeys = maxKeysParam(q);
  const url = encodingParam(q);
  const enc = url ? urlEncode : (s: string) => s;
  const marker = q.get('marker') ?? '';
  const { prefix, delimiter, result } = await page(ctx, marker || undefined, maxKeys);
  const owners = await ownersOf(ownerNames(ctx.svc), result.contents.map((v) => v.owner));
  const value: Record<string, unknown> = {
    Name: ctx.bucket,
    Prefix: enc(prefix),
    Marker: enc(marker),
    // S3 gives NextMarker only with a delimiter; without one clients resume from the last key
    ...(result.isTruncated && delimiter && result.last !== undefined ? { NextMarker: enc(result.last) } : {}),
    MaxKeys: maxKeys,
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    IsTruncated: result.isTruncated,
    ...(url ? { EncodingType: 'url' } : {}),
    Contents: result.contents.map((v) => contentsXml(v, enc, owners.get(v.owner))),
    CommonPrefixes: result.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  };
  return { xml: { root: 'ListBucketResult', value } };
}

export async function listObjectVersions(ctx: OpContext): Promise<OpResult> {
  const q = ctx.query;
  const maxKeys = maxKeysParam(q);
  const url = encodingParam(q);
  const enc = url ? urlEncode : (s: string) => s;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const vidMarker = q.get('version-id-marker') ?? '';
  if (vidMarker && !keyMarker) throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: vidMarker });
  if (vidMarker) checkVersionId(vidMarker, 'version-id-marker');
  const bucket = await ctx.svc.layer.getBucket(ctx.bucket);
  requireBucketAccess(ctx.auth, bucket);
  const page = await ctx.svc.layer.listObjectVersions({
    bucket: ctx.bucket,
    prefix: prefix || undefined,
    delimiter: delimiter || undefined,
    keyMarker: keyMarker || undefined,
    versionIdMarker: vidMarker || undefined,
    maxKeys,
  });
  const owners = await ownersOf(ownerNames(ctx.svc), page.versions.map(({ version }) => version.owner));
  // S3 interleaves Version and DeleteMarker in the listing's order (key, then newest first);
  // the renderer groups repeated elements by name, so each entry is rendered on its own
  const entries = page.versions.map(({ version: v, isLatest }) => {
    const common = { Key: enc(v.key), VersionId: s3VersionId(v), IsLatest: isLatest, LastModified: isoDate(v.lastModified) };
    if (v.deleteMarker) return renderElement('DeleteMarker', { ...common, Owner: owners.get(v.owner) });
    return renderElement('Version', { ...common, ...contentsXml(v, enc, owners.get(v.owner)), Key: enc(v.key) });
  });
  const prefixes = page.commonPrefixes.map((p) => renderElement('CommonPrefixes', { Prefix: enc(p) }));
  const value: Record<string, unknown> = {
    Name: ctx.bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker),
    VersionIdMarker: vidMarker,
    ...(page.nextKeyMarker !== undefined ? { NextKeyMarker: enc(page.nextKeyMarker) } : {}),
    ...(page.nextVersionIdMarker !== undefined ? { NextVersionIdMarker: page.nextVersionIdMarker } : {}),
    MaxKeys: maxKeys,
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    IsTruncated: page.isTruncated,
    ...(url ? { EncodingType: 'url' } : {}),
  };
  return { xml: { root: 'ListVersionsResult', value, tail: [...entries, ...prefixes] } };
}
