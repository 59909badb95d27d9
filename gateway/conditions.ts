import { S3Error } from './errors.js';
import type { Headers } from './context.js';
import type { WriteConditions } from '../metadata/types.js';
import { header } from './context.js';

/** Strips quotes (and a weak prefix) so ETags compare as S3 compares them. */
export function bareEtag(v: string): string {
  let s = v.trim();
  if (s.startsWith('W/')) s = s.slice(2);
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1);
  return s;
}

function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((t) => {
    const v = t.trim();
    return v === '*' || bareEtag(v) === etag;
  });
}

function parseDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * GET/HEAD preconditions in S3's order (RFC 7232): If-Match, else If-Unmodified-Since → 412;
 * If-None-Match, else If-Modified-Since → 304. Dates compare at one-second precision, as
 * HTTP dates carry no more.
 */
export function checkReadConditions(h: Headers, etag: string, lastModified: number, prefix = ''): void {
  const ifMatch = header(h, prefix + 'if-match');
  const ifNoneMatch = header(h, prefix + 'if-none-match');
  const ifUnmodified = parseDate(header(h, prefix + 'if-unmodified-since'));
  const ifModified = parseDate(header(h, prefix + 'if-modified-since'));
  const lm = Math.floor(lastModified / 1000) * 1000;
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, etag)) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  } else if (ifUnmodified !== undefined && lm > ifUnmodified) {
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
  }
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, etag)) throw new S3Error('NotModified');
  } else if (ifModified !== undefined && lm <= ifModified) {
    throw new S3Error('NotModified');
  }
}

/**
 * If-Match / If-None-Match on a write (PUT, copy, multipart completion): evaluated later inside
 * the metadata transaction that commits the version. Only `*` is meaningful for If-None-Match.
 */
export function writeConditions(h: Headers): WriteConditions {
  const cond: WriteConditions = {};
  const ifMatch = header(h, 'if-match');
  const ifNoneMatch = header(h, 'if-none-match');
  if (ifMatch !== undefined) cond.ifMatch = ifMatch;
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') throw new S3Error('NotImplemented', 'If-None-Match on writes supports only *.');
    cond.ifNoneMatch = '*';
  }
  return cond;
}
