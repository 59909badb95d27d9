/**
 * The cluster-wide ListMultipartUploads merge (metadata/upload-merge.ts), pure: every region's
 * page from the same markers, each of at most maxUploads + 1 entries, merged; paging with the
 * merged markers walks every region's uploads exactly once in S3 order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listUploads, type ListUploadsInput } from '../../metadata/multipart-list.js';
import { encodeUpload, type UploadRecord } from '../../metadata/multipart-records.js';
import { pack } from '../../metadata/tuple.js';
import { compareEntries, mergeUploadPages, pageEntries, type UploadEntry } from '../../metadata/upload-merge.js';
import { newUploadId } from '../../metadata/upload-id.js';
import { MemoryKv } from '../helpers/memory-kv.js';

const BUCKET = 'b';
const REGIONS = ['iad', 'fra', 'sin'];

function upload(key: string, uploadId: string): UploadRecord {
  return { bucket: BUCKET, key, uploadId, initiated: 0, owner: 'o', headers: {}, userMetadata: {}, state: 'open' };
}

async function regionKv(uploads: UploadRecord[]): Promise<MemoryKv> {
  const kv = new MemoryKv();
  await kv.transact(async (tx) => {
    for (const u of uploads) tx.set(pack(['u', BUCKET, u.key, u.uploadId]), encodeUpload(u));
  });
  return kv;
}

/** the cluster listing as the gateway does it: each region asked for max + 1, merged */
async function clusterPage(kvs: MemoryKv[], input: ListUploadsInput) {
  const pages = await Promise.all(kvs.map((kv) => kv.read((tx) => listUploads(tx, { ...input, maxUploads: input.maxUploads + 1 }))));
  return mergeUploadPages(pages.map(pageEntries), input.maxUploads);
}

const entry = (e: UploadEntry) => ('prefix' in e ? `P:${e.prefix}` : `U:${e.upload.key}:${e.upload.uploadId}`);

describe('merging regions’ upload listings', () => {
  it('orders by key bytes then upload id, a common prefix once, and marks the last entry of a truncated page', () => {
    const a = [{ upload: upload('a', '1') }, { prefix: 'd/' }, { upload: upload('z', '1') }];
    const b = [{ upload: upload('a', '0') }, { upload: upload('c', '5') }, { prefix: 'd/' }];
    const c = [{ prefix: 'd/' }, { upload: upload('é', '2') }];
    const all = mergeUploadPages([a, b, c], 10);
    expect(pageEntries(all).map(entry)).toEqual(['U:a:0', 'U:a:1', 'U:c:5', 'P:d/', 'U:z:1', 'U:é:2']);
    expect(all.isTruncated).toBe(false);
    expect(all.nextKeyMarker).toBeUndefined();
    // the common prefix counts once against max-uploads
    const four = mergeUploadPages([a, b, c], 4);
    expect(pageEntries(four).map(entry)).toEqual(['U:a:0', 'U:a:1', 'U:c:5', 'P:d/']);
    expect([four.isTruncated, four.nextKeyMarker, four.nextUploadIdMarker]).toEqual([true, 'd/', undefined]);
    const two = mergeUploadPages([a, b, c], 2);
    expect([two.isTruncated, two.nextKeyMarker, two.nextUploadIdMarker]).toEqual([true, 'a', '1']);
    expect(mergeUploadPages([a, b, c], 0)).toEqual({ uploads: [], commonPrefixes: [], isTruncated: false });
    // exactly max entries in all: not truncated
    expect(mergeUploadPages([a, b, c], 6).isTruncated).toBe(false);
    expect(compareEntries({ upload: upload('a', '1') }, { prefix: 'a/' })).toBeLessThan(0);
  });

  it('paging over three regions gives every upload once, in the order one region holding them all lists them', async () => {
    const keyArb = fc.array(fc.constantFrom('a', 'b', '/', 'c', 'é'), { minLength: 1, maxLength: 4 }).map((c) => c.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(keyArb, fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 16 }),
        fc.constantFrom('', 'a', 'b/'),
        fc.constantFrom('', '/'),
        fc.integer({ min: 1, max: 4 }),
        async (specs, prefix, delimiter, max) => {
          const byRegion: UploadRecord[][] = REGIONS.map(() => []);
          for (const [key, region, t] of specs) byRegion[region]!.push(upload(key, newUploadId(REGIONS[region], 1_700_000_000_000 + t)));
          const kvs = await Promise.all(byRegion.map(regionKv));
          // the model: one region holding every upload, listed in one page
          const one = await regionKv(byRegion.flat());
          const whole = await one.read((tx) => listUploads(tx, { bucket: BUCKET, prefix, delimiter, maxUploads: 1000 }));
          const expected = pageEntries(whole).map(entry);
          const got: string[] = [];
          let keyMarker: string | undefined;
          let uploadIdMarker: string | undefined;
          for (let page = 0; page < 60; page++) {
            const r = await clusterPage(kvs, { bucket: BUCKET, prefix, delimiter, maxUploads: max, ...(keyMarker ? { keyMarker } : {}), ...(uploadIdMarker ? { uploadIdMarker } : {}) });
            const items = pageEntries(r).map(entry);
            expect(items.length).toBeLessThanOrEqual(max);
            got.push(...items);
            // the single region's page from the same markers is the same page
            const single = await one.read((tx) => listUploads(tx, { bucket: BUCKET, prefix, delimiter, maxUploads: max, ...(keyMarker ? { keyMarker } : {}), ...(uploadIdMarker ? { uploadIdMarker } : {}) }));
            expect(r).toEqual(single);
            if (!r.isTruncated) break;
            keyMarker = r.nextKeyMarker;
            uploadIdMarker = r.nextUploadIdMarker;
          }
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 150 },
    );
  });
});
