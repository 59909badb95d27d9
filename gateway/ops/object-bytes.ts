import type { Readable } from 'node:stream';
import type { ByteRange } from '../../cache/types.js';
import type { Services } from '../context.js';
import { S3Error } from '../errors.js';
import { openRemoteBlob } from '../remote-blob.js';
import type { ObjectVersion } from '../../metadata/types.js';
import { RegionFetchError, type RegionFetchFailure } from '../../replication/region-fetch.js';
import { VersionGone } from './current-version.js';
import { readParts } from './multipart-read.js';

type BytesServices = Pick<Services, 'blobs' | 'multipart' | 'remote' | 'regionBytes'>;

/**
 * A version's bytes (or a range of them), wherever they live, as a stream or small buffer.
 * Bytes held by another region are pulled through the region cache, and only once that
 * region has answered does this resolve: a region that cannot be reached is a 503 before any
 * byte is sent. Other failures surface as stream errors (the response is then cut).
 */
export async function openBytes(ctx: { svc: BytesServices }, v: ObjectVersion, range?: ByteRange): Promise<Readable | Buffer> {
  const body = v.body;
  if (!body) throw new S3Error('NoSuchKey');
  if (body.kind === 'inline') {
    const buf = Buffer.from(body.data.buffer, body.data.byteOffset, body.data.byteLength);
    return range ? buf.subarray(range.start, range.end + 1) : buf;
  }
  if (body.kind === 'parts') {
    return readParts(ctx.svc.multipart, body, v.size, range, (node, blobId, r) =>
      node === ctx.svc.blobs.nodeId ? ctx.svc.blobs.read(blobId, r) : openRemoteBlob(ctx.svc, node, blobId, r),
    );
  }
  if (v.size === 0) return Buffer.alloc(0);
  if (body.kind === 'remote') return regionBytes(ctx.svc, v, body.region, range);
  if (body.node !== ctx.svc.blobs.nodeId) return openRemoteBlob(ctx.svc, body.node, body.blobId, range);
  return ctx.svc.blobs.read(body.blobId, range);
}

const WHY: Record<RegionFetchFailure, string> = {
  unreachable: 'which cannot be reached now',
  missing: 'which no longer holds them (the version may have been deleted there)',
  mismatch: 'which answered with bytes of another size or ETag',
  'cut-short': 'which cut them short',
};

/** a version replicated here whose bytes another region holds */
async function regionBytes(svc: BytesServices, v: ObjectVersion, region: string, range?: ByteRange): Promise<Readable> {
  const held = `The object's bytes are held in region ${region}`;
  if (!svc.regionBytes) throw new S3Error('ServiceUnavailable', `${held}, and this gateway is not joined to a cluster.`);
  try {
    // written to a regions list that leaves this region out: streamed from there, never kept here
    const noStore = v.keptIn?.length ? { regions: v.keptIn } : undefined;
    return await svc.regionBytes.open({ region, bucket: v.bucket, key: v.key, versionId: v.versionId, size: v.size, etag: v.etag }, range, noStore);
  } catch (err) {
    if (err instanceof RegionFetchError && err.reason === 'missing') throw new VersionGone(v.versionId, `${held}, ${WHY[err.reason]}.`);
    if (err instanceof RegionFetchError) throw new S3Error('ServiceUnavailable', `${held}, ${WHY[err.reason]}.`);
    throw err;
  }
}
