/**
 * ListObjectVersions over the ('v', bucket, key, versionId) range: keys in byte order,
 * versions of a key newest first (their ids sort that way), delete markers among them.
 * Same prefix / delimiter rules as metadata/listing.ts (a common prefix is emitted once and
 * skipped with one new range read); key-marker alone resumes after every version of that key
 * (or after a whole common prefix), key-marker + version-id-marker after that one version.
 */
import type { KvReader } from './kv.js';
import { commonPrefixOf } from './listing.js';
import { decodeVersion } from './records.js';
import { afterStringPrefix, keyAfter, pack, stringPrefixRange, subspaceRange, unpackAfter } from './tuple.js';
import type { ListVersionsInput, ListVersionsPage } from './types.js';
import { findVersion } from './version-store.js';
import { s3VersionId } from './version-order.js';

const BATCH = 1000;

export async function listVersions(tx: KvReader, input: ListVersionsInput): Promise<ListVersionsPage> {
  const space = pack(['v', input.bucket]);
  const prefix = input.prefix ?? '';
  const delimiter = input.delimiter || undefined;
  const page: ListVersionsPage = { versions: [], commonPrefixes: [], isTruncated: false };
  const { begin, end } = stringPrefixRange(space, prefix);
  let start = begin;
  /** the key of the previous entry: a version after another of its key is not the latest */
  let prevKey: string | undefined;
  const km = input.keyMarker;
  if (km !== undefined && km !== '') {
    let from: Buffer;
    const resumeAt = input.versionIdMarker ? await findVersion(tx, input.bucket, km, input.versionIdMarker) : undefined;
    if (resumeAt) {
      from = keyAfter(pack(['v', input.bucket, km, resumeAt.version.versionId]));
      prevKey = km;
    } else if (!input.versionIdMarker && commonPrefixOf(km, prefix, delimiter) === km) {
      from = afterStringPrefix(space, km);
    } else {
      // after every version of the marker key (also when the marker version is gone)
      from = subspaceRange(['v', input.bucket, km]).end;
    }
    if (Buffer.compare(from, start) > 0) start = from;
  }
  if (input.maxKeys <= 0) return page;
  let count = 0;
  let last: { key: string; versionId?: string } | undefined;
  for (;;) {
    if (Buffer.compare(start, end) >= 0) return page;
    const limit = Math.min(input.maxKeys - count + 1, BATCH);
    const pairs = await tx.getRange(start, end, { limit });
    let jumped = false;
    for (const pair of pairs) {
      const [key, vid] = unpackAfter(space, pair.key) as [string, string];
      if (count === input.maxKeys) {
        page.isTruncated = true;
        page.nextKeyMarker = last!.key;
        if (last!.versionId !== undefined) page.nextVersionIdMarker = last!.versionId;
        return page;
      }
      count++;
      const cp = commonPrefixOf(key, prefix, delimiter);
      if (cp !== undefined) {
        page.commonPrefixes.push(cp);
        last = { key: cp };
        start = afterStringPrefix(space, cp);
        jumped = true;
        break;
      }
      const version = decodeVersion(input.bucket, key, pair.value).version;
      version.versionId = vid;
      page.versions.push({ version, isLatest: key !== prevKey });
      prevKey = key;
      last = { key, versionId: s3VersionId(version) };
      start = keyAfter(pair.key);
    }
    if (!jumped && pairs.length < limit) return page;
  }
}
