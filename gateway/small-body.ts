import { StringDecoder } from 'node:string_decoder';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { openBody } from './body.js';
import type { OpContext } from './context.js';
import { S3Error } from './errors.js';
import { XmlReader, type XmlBounds, type XmlDoc } from './xml-reader.js';
import { MAX_XML_BODY_BYTES } from './xml.js';

/**
 * Reads a small request body (an XML document) through the same verification as object
 * bodies (signatures, Content-MD5, checksums), refusing anything over `limit` bytes.
 */
export async function readSmallBody(ctx: OpContext, limit = MAX_XML_BODY_BYTES): Promise<Buffer> {
  const stream = openSmallBody(ctx, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new S3Error('MaxMessageLengthExceeded');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function openSmallBody(ctx: OpContext, limit: number) {
  const declared = Number(ctx.headers['content-length'] ?? 0);
  if (declared > limit && !ctx.headers['x-amz-decoded-content-length']) throw new S3Error('MaxMessageLengthExceeded');
  return openBody(ctx.auth, ctx.req, ctx.headers).stream;
}

interface DocumentLimits extends XmlBounds {
  /** body bytes; default MAX_XML_BODY_BYTES */
  maxBytes?: number;
}

/**
 * What each operation's document can hold at most, with some slack: a body with more elements
 * or deeper nesting is refused (MalformedXML) as soon as the reader crosses the bound.
 */
const DOCUMENT_LIMITS: ReadonlyMap<string, DocumentLimits> = new Map([
  // 10,000 <Part>s, each PartNumber, ETag and a few checksums; ~1.5 MB of XML at most
  ['CompleteMultipartUpload', { maxElements: 10_000 * 8 + 64, maxDepth: 8, maxBytes: 4 * 1024 * 1024 }],
  // 1000 <Object>s, each Key, VersionId, ETag, LastModifiedTime, Size
  ['DeleteObjects', { maxElements: 1000 * 6 + 64, maxDepth: 8 }],
  // 1000 rules of a dozen or two elements
  ['PutBucketLifecycleConfiguration', { maxElements: 1000 * 32, maxDepth: 16 }],
  // 100 rules; S3 caps the document at 64 KB
  ['PutBucketCors', { maxElements: 8192, maxDepth: 8 }],
  ['PutObjectTagging', { maxElements: 256, maxDepth: 8 }],
  ['PutBucketTagging', { maxElements: 256, maxDepth: 8 }],
  ['PutBucketAcl', { maxElements: 1024, maxDepth: 8 }],
  ['PutObjectAcl', { maxElements: 1024, maxDepth: 8 }],
  ['PutBucketVersioning', { maxElements: 16, maxDepth: 4 }],
  ['CreateBucket', { maxElements: 32, maxDepth: 8 }],
  ['PutPublicAccessBlock', { maxElements: 16, maxDepth: 4 }],
]);
const OTHER_DOCUMENT: DocumentLimits = { maxElements: 1024, maxDepth: 16 };

/** the reader gets the body in pieces of at most this many bytes, one per turn of the event loop */
const PIECE_BYTES = 16 * 1024;

/**
 * Reads and parses the operation's XML body as it arrives: a piece at a time, yielding to
 * other requests between pieces, and refusing it (without reading the rest) once it holds
 * more than its kind of document can. An empty body is MalformedXML.
 */
export async function readXmlBody(ctx: OpContext): Promise<XmlDoc> {
  const doc = await readOptionalXmlBody(ctx);
  if (!doc) throw new S3Error('MalformedXML');
  return doc;
}

/** readXmlBody for operations whose body may be absent: undefined when there is none */
export async function readOptionalXmlBody(ctx: OpContext): Promise<XmlDoc | undefined> {
  const limits = DOCUMENT_LIMITS.get(ctx.op.name) ?? OTHER_DOCUMENT;
  const maxBytes = limits.maxBytes ?? MAX_XML_BODY_BYTES;
  const stream = openSmallBody(ctx, maxBytes);
  const reader = new XmlReader(limits);
  const text = new StringDecoder('utf8');
  let size = 0;
  let first = true;
  // leaving the loop early (a bound crossed) destroys the stream: the rest is never read
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > maxBytes) throw new S3Error('MaxMessageLengthExceeded');
    for (let at = 0; at < b.length; at += PIECE_BYTES) {
      if (!first) await nextTurn();
      first = false;
      reader.write(text.write(b.subarray(at, at + PIECE_BYTES)));
    }
  }
  if (size === 0) return undefined;
  reader.write(text.end());
  return reader.end();
}
