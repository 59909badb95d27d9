/**
 * ListMultipartUploads over ('u', bucket, key, uploadId): uploads in key order, one key's
 * uploads oldest first (upload ids sort by creation time), with prefix, delimiter (a whole
 * common prefix skipped with one new range read), key-marker / upload-id-marker and a page
 * size that counts uploads and common prefixes.
 */
import type { KvReader } from './kv.js';
import { commonPrefixOf } from './listing.js';
import { decodeUpload, type UploadRecord } from './multipart-records.js';
import { afterStringPrefix, keyAfter, pack, stringPrefixRange, subspaceRange, unpackAfter } from './tuple.js';

export interface ListUploadsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  /** 0..1000 */
  maxUploads: number;
}

export interface ListUploadsPage {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** set when truncated */
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

const BATCH = 1000;

export async function listUploads(tx: KvReader, input: ListUploadsInput): Promise<ListUploadsPage> {
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter || undefined;
  const space = pack(['u', input.bucket]);
  const page: ListUploadsPage = { uploads: [], commonPrefixes: [], isTruncated: false };
  const { begin, end } = stringPrefixRange(space, prefix);
  let start = begin;
  const km = input.keyMarker;
  if (km) {
    let from: Buffer;
    if (commonPrefixOf(km, prefix, delimiter) === km) from = afterStringPrefix(space, km);
    else if (input.uploadIdMarker) from = keyAfter(pack(['u', input.bucket, km, input.uploadIdMarker]));
    else from = subspaceRange(['u', input.bucket, km]).end;
    if (Buffer.compare(from, start) > 0) start = from;
  }
  if (input.maxUploads <= 0) return page;
  let count = 0;
  let lastKey: string | undefined;
  let lastId: string | undefined;
  for (;;) {
    if (Buffer.compare(start, end) >= 0) return page;
    const limit = Math.min(input.maxUploads - count + 1, BATCH);
    const pairs = await tx.getRange(start, end, { limit });
    let jumped = false;
    for (const pair of pairs) {
      if (count === input.maxUploads) {
        page.isTruncated = true;
        page.nextKeyMarker = lastKey;
        if (lastId !== undefined) page.nextUploadIdMarker = lastId;
        return page;
      }
      const [key, uploadId] = unpackAfter(space, pair.key) as [string, string];
      count++;
      const cp = commonPrefixOf(key, prefix, delimiter);
      if (cp !== undefined) {
        page.commonPrefixes.push(cp);
        lastKey = cp;
        lastId = undefined;
        start = afterStringPrefix(space, cp);
        jumped = true;
        break;
      }
      page.uploads.push(decodeUpload(input.bucket, key, uploadId, pair.value));
      lastKey = key;
      lastId = uploadId;
      start = keyAfter(pair.key);
    }
    if (!jumped && pairs.length < limit) return page;
  }
}
