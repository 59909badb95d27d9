/**
 * ListMultipartUploads across regions: each region lists its own uploads (an upload's records
 * stay in the region that created it) and the pages are merged here, pure, in the order one
 * region's listing has (metadata/multipart-list.ts): keys in byte order of their UTF-8 (the
 * tuple order), one key's uploads by upload id (ids start with their creation time), a common
 * prefix where its first key would be.
 *
 * Each region gives at most maxUploads + 1 entries from the same markers: the first
 * maxUploads + 1 entries of the merge are then exactly those of the cluster-wide listing (an
 * entry's rank within its region is at most its rank in the merge), so the merge can tell
 * truncation. A common prefix several regions give counts once.
 */
import type { ListUploadsPage } from './multipart-list.js';
import type { UploadRecord } from './multipart-records.js';

export type UploadEntry = { upload: UploadRecord } | { prefix: string };

/** one region's page as entries in listing order (uploads and common prefixes interleaved) */
export function pageEntries(page: Pick<ListUploadsPage, 'uploads' | 'commonPrefixes'>): UploadEntry[] {
  const out: UploadEntry[] = [];
  let u = 0;
  let p = 0;
  while (u < page.uploads.length || p < page.commonPrefixes.length) {
    const upload = page.uploads[u];
    const prefix = page.commonPrefixes[p];
    if (upload && (prefix === undefined || compareEntries({ upload }, { prefix }) < 0)) {
      out.push({ upload });
      u++;
    } else {
      out.push({ prefix: prefix! });
      p++;
    }
  }
  return out;
}

function nameOf(e: UploadEntry): string {
  return 'prefix' in e ? e.prefix : e.upload.key;
}

/** the listing's order: the key (or common prefix) as UTF-8 bytes, then the upload id */
export function compareEntries(a: UploadEntry, b: UploadEntry): number {
  const byName = Buffer.compare(Buffer.from(nameOf(a), 'utf8'), Buffer.from(nameOf(b), 'utf8'));
  if (byName !== 0) return byName;
  const ia = 'prefix' in a ? '' : a.upload.uploadId;
  const ib = 'prefix' in b ? '' : b.upload.uploadId;
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/** the merged page of at most `maxUploads` entries, with the markers of its last one when more follow */
export function mergeUploadPages(regions: readonly UploadEntry[][], maxUploads: number): ListUploadsPage {
  const all = regions.flat().sort(compareEntries);
  const merged: UploadEntry[] = [];
  for (const e of all) {
    const last = merged[merged.length - 1];
    // the same common prefix from several regions is one entry
    if ('prefix' in e && last && 'prefix' in last && last.prefix === e.prefix) continue;
    merged.push(e);
  }
  const page: ListUploadsPage = { uploads: [], commonPrefixes: [], isTruncated: false };
  if (maxUploads <= 0) return page;
  const taken = merged.slice(0, maxUploads);
  for (const e of taken) {
    if ('prefix' in e) page.commonPrefixes.push(e.prefix);
    else page.uploads.push(e.upload);
  }
  if (merged.length > maxUploads) {
    const last = taken[taken.length - 1]!;
    page.isTruncated = true;
    if ('prefix' in last) page.nextKeyMarker = last.prefix;
    else {
      page.nextKeyMarker = last.upload.key;
      page.nextUploadIdMarker = last.upload.uploadId;
    }
  }
  return page;
}
