import { S3Error } from './errors.js';
import type { ByteRange } from '../cache/types.js';

/**
 * Parses a Range header against an object of `size` bytes.
 * undefined: no range (or one S3 ignores: malformed, several ranges, not "bytes").
 * Unsatisfiable ranges are 416 InvalidRange.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (!value) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') {
    const n = Number(b);
    if (n === 0) throw invalid(size);
    if (size === 0) throw invalid(size);
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) throw invalid(size);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  return { start, end };
}

function invalid(size: number): S3Error {
  const e = new S3Error('InvalidRange', undefined, { ActualObjectSize: size });
  return e;
}
