import type { Readable } from 'node:stream';
import type { ByteRange } from '../../cache/types.js';
import type { OpContext } from '../context.js';
import { S3Error } from '../errors.js';
import { openRemoteBlob } from '../remote-blob.js';
import type { ObjectVersion } from '../../metadata/types.js';
import { readParts } from './multipart-read.js';

/** A version's bytes (or a range of them), wherever they live, as a stream or small buffer. */
export function openBytes(ctx: Pick<OpContext, 'svc'>, v: ObjectVersion, range?: ByteRange): Readable | Buffer {
  const body = v.body;
  if (!body) throw new S3Error('NoSuchKey');
  if (body.kind === 'inline') {
    const buf = Buffer.from(body.data.buffer, body.data.byteOffset, body.data.byteLength);
    return range ? buf.subarray(range.start, range.end + 1) : buf;
  }
  if (body.kind === 'parts') {
    return readParts(ctx.svc.multipart, body, v.size, range, (node, blobId, r) =>
      node === ctx.svc.blobs.nodeId ? ctx.svc.blobs.read(blobId, r) : remoteBlob(ctx, node, blobId, r),
    );
  }
  if (body.kind === 'remote') {
    // a version replicated here whose bytes another region holds; pulling them across
    // regions comes with the replication endpoint (issue 10), until then a clear 503
    throw new S3Error('ServiceUnavailable', `The object's bytes are held in region ${body.region} and cannot be fetched from here yet.`);
  }
  if (body.node !== ctx.svc.blobs.nodeId) {
    return remoteBlob(ctx, body.node, body.blobId, range);
  }
  if (v.size === 0) return Buffer.alloc(0);
  return ctx.svc.blobs.read(body.blobId, range);
}

/** bytes on another gateway's volume: fetched from it once, then read from our cache */
function remoteBlob(ctx: Pick<OpContext, 'svc'>, node: string, blobId: string, range?: ByteRange): Readable {
  return openRemoteBlob(ctx.svc, node, blobId, range);
}
