/** Shared test fixtures: AWS's documented example credentials and a key lookup. */
import type { KeyLookup, SignedRequest } from '../../../gateway/auth/types.js';

export const AKID = 'AKIAIOSFODNN7EXAMPLE';
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
/** 20130524T000000Z, the time of every AWS SigV4 example */
export const EXAMPLE_TIME = Date.UTC(2013, 4, 24, 0, 0, 0);

export const lookup: KeyLookup = async (id) =>
  id === AKID ? { secretAccessKey: SECRET, root: true } : id === 'USERKEY' ? { secretAccessKey: 'usersecret', root: false } : undefined;

/** "/path?query" (still encoded) → SignedRequest */
export function request(method: string, target: string, headers: Record<string, string | number>): SignedRequest {
  const q = target.indexOf('?');
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = String(v); // as node delivers them
  return {
    method,
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    headers: lower,
  };
}

/** the path-and-query part of an absolute URL string, as sent on the wire */
export function target(url: string): string {
  return url.replace(/^[a-z]+:\/\/[^/]+/, '');
}
