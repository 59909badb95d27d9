/**
 * Authentication of traffic between regions: an HMAC-SHA256 with the cluster secret over
 * the method, the path with its query, a timestamp, a nonce, the SHA-256 of the body and the
 * sending region. The receiver refuses a tampered request (signature), a stale one (more
 * than MAX_SKEW_MS from its clock), a replayed one (a nonce it has seen within the skew
 * window) and a body whose hash is not the signed one (checked once the body is read).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const CLUSTER_HEADERS = {
  date: 'x-erne-cluster-date',
  nonce: 'x-erne-cluster-nonce',
  bodySha256: 'x-erne-cluster-content-sha256',
  region: 'x-erne-cluster-region',
  signature: 'x-erne-cluster-signature',
} as const;

export const MAX_SKEW_MS = 60_000;
export const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

export interface SignInput {
  method: string;
  /** path and query, as sent */
  target: string;
  /** hex SHA-256 of the body (EMPTY_SHA256 for none) */
  bodySha256: string;
  /** the sending region */
  region: string;
}

function stringToSign(i: SignInput, date: string, nonce: string): string {
  return [i.method.toUpperCase(), i.target, date, nonce, i.bodySha256, i.region].join('\n');
}

export function clusterSignature(secret: string, i: SignInput, date: string, nonce: string): string {
  return createHmac('sha256', secret).update(stringToSign(i, date, nonce)).digest('hex');
}

/** the headers that authenticate a request to another region */
export function signClusterRequest(secret: string, i: SignInput, now = Date.now()): Record<string, string> {
  const date = String(now);
  const nonce = randomBytes(16).toString('hex');
  return {
    [CLUSTER_HEADERS.date]: date,
    [CLUSTER_HEADERS.nonce]: nonce,
    [CLUSTER_HEADERS.bodySha256]: i.bodySha256,
    [CLUSTER_HEADERS.region]: i.region,
    [CLUSTER_HEADERS.signature]: clusterSignature(secret, i, date, nonce),
  };
}

export type ClusterAuthResult =
  | { ok: true; region: string; bodySha256: string }
  | { ok: false; reason: 'missing' | 'tampered' | 'stale' | 'replayed' };

type Headers = Record<string, string | string[] | undefined>;

/** Nonces seen within the skew window: a request carrying one again is a replay. */
export class NonceWindow {
  private readonly seen = new Map<string, number>();
  constructor(private readonly windowMs = 2 * MAX_SKEW_MS) {}

  /** false when `nonce` was already seen */
  admit(nonce: string, now: number): boolean {
    for (const [n, at] of this.seen) {
      if (now - at <= this.windowMs) break; // insertion order is time order
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now);
    return true;
  }
}

/** checks the headers of a request from another region (the body hash is checked by the caller as it reads) */
export function verifyClusterRequest(secret: string, method: string, target: string, headers: Headers, nonces: NonceWindow, now = Date.now()): ClusterAuthResult {
  const h = (name: string) => {
    const v = headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const date = h(CLUSTER_HEADERS.date);
  const nonce = h(CLUSTER_HEADERS.nonce);
  const bodySha256 = h(CLUSTER_HEADERS.bodySha256);
  const region = h(CLUSTER_HEADERS.region);
  const sig = h(CLUSTER_HEADERS.signature);
  if (!date || !nonce || !bodySha256 || !region || !sig || !/^\d{1,15}$/.test(date) || !/^[0-9a-f]{64}$/.test(sig)) return { ok: false, reason: 'missing' };
  const want = Buffer.from(clusterSignature(secret, { method, target, bodySha256, region }, date, nonce), 'hex');
  if (!timingSafeEqual(want, Buffer.from(sig, 'hex'))) return { ok: false, reason: 'tampered' };
  if (Math.abs(now - Number(date)) > MAX_SKEW_MS) return { ok: false, reason: 'stale' };
  if (!nonces.admit(nonce, now)) return { ok: false, reason: 'replayed' };
  return { ok: true, region, bodySha256 };
}
