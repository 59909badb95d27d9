/**
 * aws-chunked decoding, as a push parser (so the body pipeline can run it inside its one
 * Transform) and as a standalone Transform. Payload bytes are passed on as sub-slices of the
 * input, never copied or buffered beyond one header line.
 *
 *   signed:          <hex>;chunk-signature=<sig>\r\n <data> \r\n … 0;chunk-signature=<sig>\r\n
 *   unsigned:        <hex>[;ext]\r\n <data> \r\n … 0\r\n
 * then, with a trailer:  name:value\r\n …  [x-amz-trailer-signature:<sig>\r\n]
 * and finally an empty line.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';
import { chunkStringToSign, EMPTY_SHA256, hmacHex, trailerStringToSign } from './string-to-sign.js';
import type { AuthContext } from './types.js';
import { signaturesEqual } from './verify-signature.js';

export interface ChunkedOptions {
  /** present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: every chunk signature is verified */
  signing?: NonNullable<AuthContext['signing']>;
  /** a trailer section follows the final chunk */
  trailer: boolean;
}

const MAX_LINE = 4096;
const CR = 0x0d;
const LF = 0x0a;

type State = 'header' | 'data' | 'cr' | 'lf' | 'trailer' | 'done';

function framing(message: string): S3Error {
  return new S3Error('InvalidArgument', `Malformed aws-chunked body: ${message}`, { ArgumentName: 'x-amz-content-sha256' });
}

function incomplete(): S3Error {
  return new S3Error('IncompleteBody', 'The request body terminated unexpectedly');
}

export class AwsChunkedParser {
  /** trailing headers received (lower-case names), the trailer signature excluded */
  readonly trailers = new Map<string, string>();
  private state: State = 'header';
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private remaining = 0;
  private isFinal = false;
  private expectedSignature = '';
  private previousSignature: string;
  private chunkHash: Hash | undefined;
  private trailerText = '';
  private trailerSigned = false;

  constructor(private readonly opts: ChunkedOptions) {
    this.previousSignature = opts.signing?.seedSignature ?? '';
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** Feed raw body bytes; decoded payload slices go to onData. Throws S3Error. */
  write(buf: Buffer, onData: (data: Buffer) => void): void {
    let pos = 0;
    const n = buf.length;
    while (pos < n) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const lf = buf.indexOf(LF, pos);
          if (lf < 0) {
            this.hold(buf.subarray(pos));
            return;
          }
          const line = this.takeLine(buf.subarray(pos, lf));
          pos = lf + 1;
          if (this.state === 'header') this.onHeader(line);
          else this.onTrailerLine(line);
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, n - pos);
          const slice = buf.subarray(pos, pos + take);
          this.chunkHash?.update(slice);
          onData(slice);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.verifyChunk();
            this.state = 'cr';
          }
          break;
        }
        case 'cr':
        case 'lf': {
          const want = this.state === 'cr' ? CR : LF;
          if (buf[pos] !== want) throw incomplete();
          pos++;
          this.state = this.state === 'cr' ? 'lf' : 'header';
          break;
        }
        case 'done':
          return; // bytes after the terminating empty line are ignored
      }
    }
  }

  /** End of input: throws IncompleteBody unless the terminating empty line arrived. */
  end(): void {
    if (this.state !== 'done') throw incomplete();
  }

  private hold(part: Buffer): void {
    this.pendingLength += part.length;
    if (this.pendingLength > MAX_LINE) throw framing('header line too long');
    // copy: the caller may reuse its buffer
    this.pending.push(Buffer.from(part));
  }

  private takeLine(tail: Buffer): string {
    if (this.pendingLength + tail.length > MAX_LINE) throw framing('header line too long');
    let line = (this.pending.length ? Buffer.concat([...this.pending, tail]) : tail).toString('latin1');
    this.pending = [];
    this.pendingLength = 0;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return line;
  }

  private onHeader(line: string): void {
    const parts = line.split(';');
    const hex = parts[0]!.trim();
    if (!/^[0-9a-fA-F]{1,13}$/.test(hex)) throw framing(`bad chunk size "${hex.slice(0, 32)}"`);
    const size = parseInt(hex, 16);
    if (this.opts.signing) {
      const ext = parts.slice(1).find((p) => p.trim().startsWith('chunk-signature='));
      if (!ext) throw framing('chunk-signature missing');
      this.expectedSignature = ext.trim().slice('chunk-signature='.length);
      this.chunkHash = size > 0 ? createHash('sha256') : undefined;
    }
    this.remaining = size;
    this.isFinal = size === 0;
    if (this.isFinal) {
      this.verifyChunk();
      this.state = 'trailer';
    } else {
      this.state = 'data';
    }
  }

  private verifyChunk(): void {
    const s = this.opts.signing;
    if (!s) return;
    const dataHash = this.chunkHash ? this.chunkHash.digest('hex') : EMPTY_SHA256;
    this.chunkHash = undefined;
    const expected = hmacHex(s.signingKey, chunkStringToSign(s.amzDate, s.scope, this.previousSignature, dataHash));
    if (!signaturesEqual(expected, this.expectedSignature)) {
      throw new S3Error('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    }
    this.previousSignature = expected;
  }

  private onTrailerLine(line: string): void {
    if (line.trim() === '') {
      if (this.opts.signing && this.opts.trailer && !this.trailerSigned) {
        throw new S3Error('SignatureDoesNotMatch', 'The trailer signature is missing.');
      }
      this.state = 'done';
      return;
    }
    if (!this.opts.trailer) throw framing('unexpected data after the final chunk');
    const colon = line.indexOf(':');
    if (colon <= 0) throw framing('bad trailer line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      const s = this.opts.signing;
      if (!s) return; // an unsigned trailer has nothing to chain from; ignore it
      const expected = hmacHex(s.signingKey, trailerStringToSign(s.amzDate, s.scope, this.previousSignature, this.trailerText));
      if (!signaturesEqual(expected, value)) {
        throw new S3Error('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
      }
      this.trailerSigned = true;
      return;
    }
    if (this.trailerSigned) throw framing('trailer after the trailer signature');
    this.trailers.set(name, value);
    this.trailerText += `${name}:${value}\n`;
  }
}

/** Options for a payload mode, or undefined when the mode is not aws-chunked. */
export function chunkedOptions(ctx: AuthContext): ChunkedOptions | undefined {
  const p = ctx.payload;
  if (p.kind === 'streaming-unsigned-trailer') return { trailer: true };
  if (p.kind !== 'streaming-signed') return undefined;
  if (!ctx.signing) throw new S3Error('InternalError', 'signed streaming payload without signing context');
  return { signing: ctx.signing, trailer: p.trailer };
}

/** The parser as a Transform: raw aws-chunked body in, object payload out. */
export class AwsChunkedDecoder extends Transform {
  readonly parser: AwsChunkedParser;
  constructor(opts: ChunkedOptions) {
    super();
    this.parser = new AwsChunkedParser(opts);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.parser.write(chunk, (d) => this.push(d));
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.parser.end();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}
