import { Readable } from 'node:stream';
import type { ByteRange } from '../../cache/types.js';
import type { MultipartLayer } from '../../metadata/multipart.js';
import { MAX_PART_NUMBER } from '../../metadata/multipart.js';
import type { ObjectVersion } from '../../metadata/types.js';
import type { Services } from '../context.js';
import { S3Error } from '../errors.js';

/** Reading objects stored as the parts of a completed multipart upload. */

/** opens (a range of) one part's blob, wherever it lives */
export type BlobReader = (node: string, blobId: string, range: ByteRange) => Readable;

/** index entries fetched per metadata read while streaming */
const INDEX_PAGE = 64;

/**
 * The bytes of a multipart object (or a range), parts streamed one after another: the next
 * part is opened only when the previous one is drained (back-pressure through async
 * iteration), and the index is read a page at a time. The first part of a range is found by
 * a binary search over the part offsets.
 */
export function readParts(
  mp: MultipartLayer,
  body: { uploadId: string; partCount: number },
  size: number,
  range: ByteRange | undefined,
  readBlob: BlobReader,
): Readable {
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  async function* chunks(): AsyncGenerator<Buffer> {
    if (end < start) return;
    let ordinal = await mp.ordinalAt(body.uploadId, body.partCount, start);
    let pos = start;
    while (ordinal <= body.partCount && pos <= end) {
      const entries = await mp.indexFrom(body.uploadId, ordinal, Math.min(INDEX_PAGE, body.partCount - ordinal + 1));
      if (entries.length === 0 || entries[0]!.ordinal !== ordinal) throw new Error(`part ${ordinal} of upload ${body.uploadId} is missing`);
      for (const e of entries) {
        if (pos > end) return;
        const from = pos - e.offset;
        const to = Math.min(e.size - 1, end - e.offset);
        if (to >= from && e.blobId) {
          for await (const c of readBlob(e.node ?? '', e.blobId, { start: from, end: to })) yield c as Buffer;
        }
        pos = e.offset + e.size;
        ordinal = e.ordinal + 1;
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * GET/HEAD ?partNumber=N: the byte range of the Nth part of a multipart object (206 with
 * x-amz-mp-parts-count), or the whole object for part 1 of any other object.
 */
export async function selectPart(
  svc: Pick<Services, 'multipart'>,
  v: ObjectVersion,
  partNumber: string | null,
  rangeHeader: string | undefined,
): Promise<{ range?: ByteRange; partsCount?: number } | undefined> {
  if (partNumber === null) return undefined;
  const n = /^\d{1,5}$/.test(partNumber) ? Number(partNumber) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, { ArgumentName: 'partNumber', ArgumentValue: partNumber });
  }
  if (rangeHeader) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  if (v.body?.kind !== 'parts') {
    if (n !== 1) throw new S3Error('InvalidPartNumber');
    return {};
  }
  if (n > v.body.partCount) throw new S3Error('InvalidPartNumber');
  const e = await svc.multipart.indexEntry(v.body.uploadId, n);
  if (!e) throw new S3Error('InternalError');
  if (e.size === 0) return { partsCount: v.body.partCount };
  return { range: { start: e.offset, end: e.offset + e.size - 1 }, partsCount: v.body.partCount };
}
