/**
 * A hand-built aws-chunked upload with per-chunk signatures
 * (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]), as the AWS "chunked upload" and
 * "trailing headers" SigV4 pages describe it. @aws-sdk/client-s3 never sends these modes
 * over plain HTTP, so the gateway's chunk-signature checks need this to be reached end to end.
 */
import { createHmac, createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { REGION, ROOT, type Creds } from './gateway.js';
import { rawRequest, type RawResponse } from './raw.js';

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function crc32Base64(data: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(data) >>> 0);
  return b.toString('base64');
}

/**
 * CRC32C (Castagnoli) of `data`, base64 as S3 sends it: computed bit by bit, independently
 * of the gateway's table-driven code, so a test compares two implementations.
 */
export function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  const b = Buffer.alloc(4);
  b.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return b.toString('base64');
}

export interface SignedChunkedPut {
  /** e.g. '/bucket/key' */
  path: string;
  /** query string without '?', e.g. 'partNumber=1&uploadId=…' */
  query?: string;
  data: Buffer;
  chunkSize?: number;
  creds?: Creds;
  /** send a trailing x-amz-checksum-crc32 (…-PAYLOAD-TRAILER mode) */
  trailer?: boolean;
  /** replace the CRC32 in the trailer with this value */
  trailerChecksum?: string;
  /** index of a chunk whose signature is corrupted (the final empty chunk is index n) */
  corruptChunk?: number;
  corruptTrailerSignature?: boolean;
  headers?: Record<string, string>;
}

export function signedChunkedPut(gw: { url: string }, p: SignedChunkedPut): Promise<RawResponse> {
  const creds = p.creds ?? ROOT;
  const chunkSize = p.chunkSize ?? 64 * 1024;
  const now = new Date();
  const amzDate = now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${REGION}/s3/aws4_request`;
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, day), REGION), 's3'), 'aws4_request');

  const chunks: Buffer[] = [];
  for (let i = 0; i < p.data.length; i += chunkSize) chunks.push(p.data.subarray(i, i + chunkSize));
  chunks.push(Buffer.alloc(0));
  const sigLen = 64;
  const trailerLine = `x-amz-checksum-crc32:${p.trailerChecksum ?? crc32Base64(p.data)}`;
  // lengths are fixed by the format, so the encoded size is known before signing
  let encodedLen = 0;
  for (const c of chunks) {
    encodedLen += c.length.toString(16).length + ';chunk-signature='.length + sigLen + 2 + c.length + 2;
  }
  if (p.trailer) {
    encodedLen -= 2; // the final chunk's CRLF is replaced by the trailer section
    encodedLen += trailerLine.length + 2 + 'x-amz-trailer-signature:'.length + sigLen + 2 + 2;
  }

  const headers: Record<string, string> = {
    'X-Amz-Date': amzDate,
    'Content-Encoding': 'aws-chunked',
    'X-Amz-Content-Sha256': p.trailer ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER' : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'X-Amz-Decoded-Content-Length': String(p.data.length),
    'Content-Length': String(encodedLen),
    ...(p.trailer ? { 'X-Amz-Trailer': 'x-amz-checksum-crc32' } : {}),
    ...(p.headers ?? {}),
  };

  // the chunk signatures chain from the seed signature, known only once the headers are signed
  const build = (h: Record<string, string>): Buffer => {
    const seed = /Signature=([0-9a-f]{64})/.exec(h.Authorization ?? '')?.[1];
    if (!seed) throw new Error('no seed signature');
    let prev = seed;
    const parts: Buffer[] = [];
    chunks.forEach((c, i) => {
      const sts = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, prev, EMPTY_SHA256, sha256(c)].join('\n');
      let sig = hmac(signingKey, sts).toString('hex');
      prev = sig;
      if (p.corruptChunk === i) sig = flipFirst(sig);
      const last = i === chunks.length - 1;
      parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c);
      if (!last || !p.trailer) parts.push(Buffer.from('\r\n'));
    });
    if (p.trailer) {
      const sts = ['AWS4-HMAC-SHA256-TRAILER', amzDate, scope, prev, sha256(`${trailerLine}\n`)].join('\n');
      let sig = hmac(signingKey, sts).toString('hex');
      if (p.corruptTrailerSignature) sig = flipFirst(sig);
      parts.push(Buffer.from(`${trailerLine}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`));
    }
    const body = Buffer.concat(parts);
    if (body.length !== encodedLen) throw new Error(`encoded length ${body.length} != ${encodedLen}`);
    return body;
  };

  return rawRequest(gw, { method: 'PUT', path: p.path, ...(p.query !== undefined ? { query: p.query } : {}), headers, creds, bodyAfterSign: build });
}

function flipFirst(hex: string): string {
  return (hex[0] === '0' ? '1' : '0') + hex.slice(1);
}
