/**
 * The request-body pipeline: raw request bytes in, the decoded and verified object payload
 * out, in one Transform (aws-chunked decoding, MD5, the x-amz-checksum-* algorithms, the
 * x-amz-content-sha256 hash and the size checks all happen in the same pass).
 *
 * Header problems (malformed Content-MD5 or checksum, declared size over maxSize) throw from
 * openBody. Body problems surface as an 'error' on the returned stream, always before 'end',
 * so a consumer that commits only on 'end' never keeps a bad object.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ChecksumAlgorithm, ChecksumSet } from '../metadata/types.js';
import { AwsChunkedParser, chunkedOptions } from './auth/chunked.js';
import { decodedContentLength, headerValue } from './auth/payload-mode.js';
import type { AuthContext } from './auth/types.js';
import {
  CHECKSUM_ALGORITHMS,
  checksumHeaderName,
  createChecksum,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  type Checksum,
} from './checksum/index.js';
import { S3Error, toS3Error } from './errors.js';
import { sendContinue } from './continue.js';

export { contentSha256Mode, decodedContentLength } from './auth/payload-mode.js';

export interface BodyDigest {
  /** decoded payload bytes */
  size: number;
  md5Hex: string;
  /** every checksum computed: the ones sent (verified) and the ones asked for */
  checksums: ChecksumSet;
}

export interface OpenBodyOptions {
  /** EntityTooLarge as soon as the payload exceeds this many bytes */
  maxSize?: number;
  /** algorithms to compute even when the client sent none (e.g. a default CRC64NVME) */
  extraChecksums?: readonly ChecksumAlgorithm[];
}

type Headers = Record<string, string | string[] | undefined>;

const HWM = 512 * 1024;

/** The expected payload size, or undefined when the client did not say (chunked transfer). */
function expectedSize(headers: Headers, chunked: boolean): number | undefined {
  if (chunked) return decodedContentLength(headers);
  const v = headerValue(headers, 'content-length');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new S3Error('InvalidArgument', 'Content-Length must be a non-negative integer', { ArgumentName: 'Content-Length' });
  return Number(v.trim());
}

function contentMd5(headers: Headers): string | undefined {
  const v = headerValue(headers, 'content-md5');
  if (v === undefined) return undefined;
  const bytes = Buffer.from(v.trim(), 'base64');
  if (bytes.length !== 16 || bytes.toString('base64') !== v.trim()) throw new S3Error('InvalidDigest');
  return bytes.toString('hex');
}

/** The single x-amz-checksum-<alg> header, validated. */
function headerChecksum(headers: Headers): { alg: ChecksumAlgorithm; value: string } | undefined {
  let found: { alg: ChecksumAlgorithm; value: string } | undefined;
  for (const alg of CHECKSUM_ALGORITHMS) {
    const value = headerValue(headers, checksumHeaderName(alg))?.trim();
    if (value === undefined) continue;
    if (found) {
      throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    }
    if (!isValidChecksumValue(alg, value)) {
      throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(alg)} header is invalid.`);
    }
    found = { alg, value };
  }
  return found;
}

function mismatch(alg: ChecksumAlgorithm): S3Error {
  return new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
}

export function openBody(
  ctx: AuthContext,
  incoming: Readable,
  headers: Headers,
  opts: OpenBodyOptions = {},
): { stream: Readable; digest(): BodyDigest } {
  const chunkOpts = chunkedOptions(ctx);
  const parser = chunkOpts ? new AwsChunkedParser(chunkOpts) : undefined;
  const expected = expectedSize(headers, parser !== undefined);
  const maxSize = opts.maxSize ?? Infinity;
  if (expected !== undefined && expected > maxSize) throw new S3Error('EntityTooLarge', undefined, { ProposedSize: expected, MaxSizeAllowed: maxSize });
  const md5Expected = contentMd5(headers);
  const sent = headerChecksum(headers);
  const trailerAlg = ctx.trailerChecksum;
  const sdkAlg = parseChecksumAlgorithm(headerValue(headers, 'x-amz-sdk-checksum-algorithm') ?? '');

  const hashers = new Map<ChecksumAlgorithm, Checksum>();
  for (const alg of [sent?.alg, trailerAlg, sdkAlg, ...(opts.extraChecksums ?? [])]) {
    if (alg && !hashers.has(alg)) hashers.set(alg, createChecksum(alg));
  }
  const hashList = [...hashers.values()];
  const md5 = createHash('md5');
  const shaExpected = ctx.payload.kind === 'sha256' ? ctx.payload.hex : undefined;
  const sha: Hash | undefined = shaExpected !== undefined ? createHash('sha256') : undefined;
  let size = 0;
  let result: BodyDigest | undefined;

  const onData = (b: Buffer): void => {
    size += b.length;
    if (size > maxSize) throw new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: maxSize });
    if (expected !== undefined && size > expected) {
      throw new S3Error('IncompleteBody', 'The request body is longer than the declared content length.');
    }
    md5.update(b);
    sha?.update(b);
    for (const h of hashList) h.update(b);
    stream.push(b);
  };

  const finalChecks = (): BodyDigest => {
    parser?.end();
    if (expected !== undefined && size !== expected) throw new S3Error('IncompleteBody');
    if (sha && sha.digest('hex') !== shaExpected) throw new S3Error('XAmzContentSHA256Mismatch');
    const md5Hex = md5.digest('hex');
    if (md5Expected !== undefined && md5Hex !== md5Expected) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const checksums: ChecksumSet = {};
    for (const [alg, h] of hashers) checksums[alg] = h.digestBase64();
    if (sent && checksums[sent.alg] !== sent.value) throw mismatch(sent.alg);
    if (trailerAlg && parser) {
      const value = parser.trailers.get(checksumHeaderName(trailerAlg));
      if (value === undefined) throw new S3Error('IncompleteBody', `The trailer ${checksumHeaderName(trailerAlg)} was declared but not sent.`);
      if (!isValidChecksumValue(trailerAlg, value)) {
        throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(trailerAlg)} trailing header is invalid.`);
      }
      if (checksums[trailerAlg] !== value) throw mismatch(trailerAlg);
    }
    return { size, md5Hex, checksums };
  };

  const stream = new Transform({
    highWaterMark: HWM,
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      try {
        if (parser) parser.write(chunk, onData);
        else onData(chunk);
        cb();
      } catch (err) {
        cb(toS3Error(err));
      }
    },
    flush(cb: TransformCallback) {
      try {
        result = finalChecks();
        cb();
      } catch (err) {
        cb(toS3Error(err));
      }
    },
  });

  // a client that goes away mid-body is an incomplete body, not an internal error
  const cut = (cause?: unknown): void => {
    if (stream.destroyed) return;
    const e = cause instanceof S3Error ? cause : new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
    stream.destroy(e);
  };
  incoming.on('error', cut);
  incoming.on('close', () => {
    if (!incoming.readableEnded) cut();
  });
  stream.on('error', () => incoming.unpipe(stream));
  // everything that can refuse the request has: the client may send its body now
  sendContinue(incoming);
  incoming.pipe(stream);

  return {
    stream,
    digest(): BodyDigest {
      if (!result) throw new Error('openBody: digest() is only valid after the stream has ended');
      return result;
    },
  };
}
