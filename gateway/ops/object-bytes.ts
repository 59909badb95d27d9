import type { Readable } from 'node:stream';
import type { ByteRange } from '../../cache/types.js';
import type { OpContext } from '../context.js';
import { S3Error } from '../errors.js';
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
    return readParts(ctx.svc.multipart, body, v.size, range, (node, blobId, r) => {
      if (node !== ctx.svc.blobs.nodeId) throw new S3Error('ServiceUnavailable', 'The object is stored on another node that this gateway cannot reach yet.');
      return ctx.svc.blobs.read(blobId, r);
    });
  }
  if (body.node !== ctx.svc.blobs.nodeId) {
    // bytes on another gateway's volume: fetching them comes with multi-gateway regions
    throw new S3Error('ServiceUnavailable', 'The object is stored on another node that this gateway cannot reach yet.');
  }
  if (v.size === 0) return Buffer.alloc(0);
  return ctx.svc.blobs.read(body.blobId, range);
}
