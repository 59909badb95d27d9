/** Requests between regions: signed, and refused when tampered with, stale or replayed. */
import { describe, expect, it } from 'vitest';
import { CLUSTER_HEADERS, EMPTY_SHA256, MAX_SKEW_MS, NonceWindow, signClusterRequest, verifyClusterRequest } from '../../replication/cluster-auth.js';

const SECRET = 'a-cluster-secret-of-some-length';
const input = { method: 'POST', target: '/.erne/internal/replication/apply', bodySha256: EMPTY_SHA256, region: 'iad' };
const NOW = 1_800_000_000_000;

describe('cluster request authentication', () => {
  it('a signed request verifies once, naming its region', () => {
    const h = signClusterRequest(SECRET, input, NOW);
    const nonces = new NonceWindow();
    expect(verifyClusterRequest(SECRET, 'POST', input.target, h, nonces, NOW + 10)).toEqual({ ok: true, region: 'iad', bodySha256: EMPTY_SHA256 });
    expect(verifyClusterRequest(SECRET, 'POST', input.target, h, nonces, NOW + 20)).toEqual({ ok: false, reason: 'replayed' });
  });

  const tampered: [string, (h: Record<string, string>) => [string, string, Record<string, string>]][] = [
    ['method', (h) => ['PUT', input.target, h]],
    ['path', (h) => ['POST', '/.erne/internal/replication/other', h]],
    ['body hash', (h) => ['POST', input.target, { ...h, [CLUSTER_HEADERS.bodySha256]: 'f'.repeat(64) }]],
    ['region', (h) => ['POST', input.target, { ...h, [CLUSTER_HEADERS.region]: 'fra' }]],
    ['date', (h) => ['POST', input.target, { ...h, [CLUSTER_HEADERS.date]: String(NOW + 1) }]],
    ['nonce', (h) => ['POST', input.target, { ...h, [CLUSTER_HEADERS.nonce]: 'other' }]],
  ];
  it.each(tampered)('a changed %s is refused as tampered', (_what, change) => {
    const [method, target, h] = change(signClusterRequest(SECRET, input, NOW));
    expect(verifyClusterRequest(SECRET, method, target, h, new NonceWindow(), NOW)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('another secret is tampered; a request too old or too new is stale; missing headers are missing', () => {
    const h = signClusterRequest('another-secret-entirely', input, NOW);
    expect(verifyClusterRequest(SECRET, 'POST', input.target, h, new NonceWindow(), NOW)).toEqual({ ok: false, reason: 'tampered' });
    const old = signClusterRequest(SECRET, input, NOW - MAX_SKEW_MS - 1);
    expect(verifyClusterRequest(SECRET, 'POST', input.target, old, new NonceWindow(), NOW)).toEqual({ ok: false, reason: 'stale' });
    const future = signClusterRequest(SECRET, input, NOW + MAX_SKEW_MS + 1);
    expect(verifyClusterRequest(SECRET, 'POST', input.target, future, new NonceWindow(), NOW)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyClusterRequest(SECRET, 'POST', input.target, {}, new NonceWindow(), NOW)).toEqual({ ok: false, reason: 'missing' });
  });

  it('the nonce window forgets nonces older than the window, so it stays bounded', () => {
    const w = new NonceWindow(1000);
    expect(w.admit('a', 0)).toBe(true);
    expect(w.admit('a', 500)).toBe(false);
    expect(w.admit('b', 2000)).toBe(true);
    expect(w.admit('a', 2001)).toBe(true);
  });
});
