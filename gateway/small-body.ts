import { openBody } from './body.js';
import type { OpContext } from './context.js';
import { S3Error } from './errors.js';
import { MAX_XML_BODY_BYTES } from './xml.js';

/**
 * Reads a small request body (an XML document) through the same verification as object
 * bodies (signatures, Content-MD5, checksums), refusing anything over `limit` bytes.
 */
export async function readSmallBody(ctx: OpContext, limit = MAX_XML_BODY_BYTES): Promise<Buffer> {
  const declared = Number(ctx.headers['content-length'] ?? 0);
  if (declared > limit && !ctx.headers['x-amz-decoded-content-length']) throw new S3Error('MaxMessageLengthExceeded');
  const { stream } = openBody(ctx.auth, ctx.req, ctx.headers);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      throw new S3Error('MaxMessageLengthExceeded');
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
