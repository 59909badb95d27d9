/**
 * Builds aws-chunked bodies for tests. The signing formula is written out here independently
 * of gateway/auth so a shared mistake would have to be made twice (and the AWS example
 * vectors in chunked.test.ts pin both).
 */
import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AuthContext } from '../../../gateway/auth/types.js';

const sha = (d: string | Buffer) => createHash('sha256').update(d).digest('hex');
const hmac = (k: Buffer, d: string) => createHmac('sha256', k).update(d).digest('hex');

export function signingKeyFor(secret: string, date: string, region: string): Buffer {
  let k: Buffer = Buffer.from('AWS4' + secret);
  for (const part of [date, region, 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
  return k;
}

export type Signing = NonNullable<AuthContext['signing']>;

/** STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] body; returns the bytes. */
export function signedBody(chunks: Buffer[], s: Signing, trailers?: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  let prev = s.seedSignature;
  for (const c of [...chunks, Buffer.alloc(0)]) {
    const sig = hmac(
      s.signingKey,
      `AWS4-HMAC-SHA256-PAYLOAD\n${s.amzDate}\n${s.scope}\n${prev}\n${sha('')}\n${sha(c)}`,
    );
    prev = sig;
    parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c);
    if (c.length > 0) parts.push(Buffer.from('\r\n'));
  }
  if (trailers) {
    const text = trailers.map(([k, v]) => `${k}:${v}\n`).join('');
    const sig = hmac(s.signingKey, `AWS4-HMAC-SHA256-TRAILER\n${s.amzDate}\n${s.scope}\n${prev}\n${sha(text)}`);
    parts.push(Buffer.from(trailers.map(([k, v]) => `${k}:${v}\r\n`).join('') + `x-amz-trailer-signature:${sig}\r\n`));
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** STREAMING-UNSIGNED-PAYLOAD-TRAILER body, as the AWS SDK frames it. */
export function unsignedTrailerBody(chunks: Buffer[], trailers: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  parts.push(Buffer.from('0\r\n' + trailers.map(([k, v]) => `${k}:${v}\r\n`).join('') + '\r\n'));
  return Buffer.concat(parts);
}

/** A Readable that delivers buf in the given pieces (cut offsets ascending). */
export function piecewise(buf: Buffer, cuts: number[] = []): Readable {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    pieces.push(buf.subarray(at, c));
    at = c;
  }
  pieces.push(buf.subarray(at));
  return Readable.from(pieces.filter((p) => p.length > 0), { objectMode: false });
}

export async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}
