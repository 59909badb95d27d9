/**
 * Authentication between the gateways of one region: an HMAC-SHA256 over method, path and
 * date with the region secret kept in the shared metadata (metadata/nodes.ts). Requests older
 * or newer than MAX_SKEW_MS are refused, so a captured request is only replayable briefly
 * (and only reads immutable blobs).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const INTERNAL_PREFIX = '/.erne/internal/';
export const MAX_SKEW_MS = 5 * 60_000;

export function internalSignature(secret: Buffer, method: string, path: string, date: string): string {
  return createHmac('sha256', secret).update(`${method}\n${path}\n${date}`).digest('hex');
}

export function signInternal(secret: Buffer, method: string, path: string, now = Date.now()): Record<string, string> {
  const date = String(now);
  return { 'x-erne-date': date, 'x-erne-signature': internalSignature(secret, method, path, date) };
}

/** true when the headers carry a fresh, valid signature for (method, path) */
export function verifyInternal(
  secret: Buffer,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
  now = Date.now(),
): boolean {
  const date = headers['x-erne-date'];
  const sig = headers['x-erne-signature'];
  if (typeof date !== 'string' || typeof sig !== 'string' || !/^\d{1,15}$/.test(date)) return false;
  if (Math.abs(now - Number(date)) > MAX_SKEW_MS) return false;
  const want = Buffer.from(internalSignature(secret, method, path, date), 'hex');
  const got = Buffer.from(sig, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
