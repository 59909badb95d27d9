/** What x-amz-content-sha256 and x-amz-trailer say about the body. */
import type { ChecksumAlgorithm } from '../../metadata/types.js';
import { parseChecksumAlgorithm } from '../checksum/index.js';
import { S3Error } from '../errors.js';
import type { PayloadMode } from './types.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

type Headers = Record<string, string | string[] | undefined>;

/** First value of a header (node joins most duplicates already). */
export function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** x-amz-content-sha256 value → payload mode; throws InvalidArgument for anything unknown. */
export function parsePayloadMode(value: string): PayloadMode {
  switch (value) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
      return { kind: 'streaming-signed', trailer: false };
    case STREAMING_SIGNED_TRAILER:
      return { kind: 'streaming-signed', trailer: true };
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming-unsigned-trailer' };
  }
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { kind: 'sha256', hex: value.toLowerCase() };
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: value },
  );
}

/** The payload mode a request's headers declare, or undefined when it declares none. */
export function contentSha256Mode(headers: Headers): PayloadMode | undefined {
  const v = headerValue(headers, 'x-amz-content-sha256');
  return v === undefined ? undefined : parsePayloadMode(v.trim());
}

/** true for the aws-chunked framings (the body must be decoded) */
export function isStreaming(mode: PayloadMode): boolean {
  return mode.kind === 'streaming-signed' || mode.kind === 'streaming-unsigned-trailer';
}

/** x-amz-trailer: the checksum algorithm the trailer will carry, if any. */
export function trailerChecksum(headers: Headers): ChecksumAlgorithm | undefined {
  const v = headerValue(headers, 'x-amz-trailer');
  if (v === undefined || v.trim() === '') return undefined;
  let alg: ChecksumAlgorithm | undefined;
  for (const name of v.split(',').map((s) => s.trim().toLowerCase())) {
    const a = name.startsWith('x-amz-checksum-') ? parseChecksumAlgorithm(name) : undefined;
    if (!a || alg) {
      throw new S3Error('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported', {
        ArgumentName: 'x-amz-trailer',
        ArgumentValue: v,
      });
    }
    alg = a;
  }
  return alg;
}

/** x-amz-decoded-content-length as a number; undefined when absent; InvalidArgument when not a size. */
export function decodedContentLength(headers: Headers): number | undefined {
  const v = headerValue(headers, 'x-amz-decoded-content-length');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) {
    throw new S3Error('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer', {
      ArgumentName: 'x-amz-decoded-content-length',
      ArgumentValue: v,
    });
  }
  return Number(v.trim());
}
