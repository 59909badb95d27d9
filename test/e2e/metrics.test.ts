/**
 * Operator endpoints on a running gateway: /.erne/metrics (Prometheus text), /.erne/health,
 * /.erne/ready (503 when the volume cannot be written), the separate --metrics-port, and
 * that S3 buckets named "metrics", "health" or "ready" stay plain S3 buckets.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/gateway.js';
import { rawRequest } from '../helpers/raw.js';
import { Registry } from '../../gateway/observe/metrics.js';

async function scrape(url: string): Promise<string> {
  const r = await fetch(`${url}/.erne/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return r.text();
}

/** the value of one sample line, e.g. erne_requests_total{operation="PutObject",status="200"} */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('operator endpoints', () => {
  const erne = useGateway({ opsPort: 0 });

  it('/.erne/health answers 200 without credentials; /.erne/ready checks metadata and volume', async () => {
    const h = await fetch(`${erne.gw.url}/.erne/health`);
    expect([h.status, await h.json()]).toEqual([200, { status: 'ok' }]);
    const r = await fetch(`${erne.gw.url}/.erne/ready`);
    expect([r.status, await r.json()]).toEqual([200, { status: 'ready', checks: { metadata: 'ok', volume: 'ok' } }]);
    // other /.erne/ paths are not operator endpoints (the gateway-to-gateway endpoint lives there)
    expect((await fetch(`${erne.gw.url}/.erne/nothing`)).headers.get('content-type')).not.toBe('application/json');
    expect((await fetch(`${erne.gw.url}/.erne/health`, { method: 'POST' })).status).toBe(405);
  });

  it('counts requests by operation and status, latency, bytes in and out', async () => {
    const before = await scrape(erne.gw.url);
    await rawRequest(erne.gw, { method: 'PUT', path: '/metrics' });
    await rawRequest(erne.gw, { method: 'PUT', path: '/metrics/obj', body: Buffer.alloc(1000, 1) });
    await rawRequest(erne.gw, { method: 'GET', path: '/metrics/obj' });
    await rawRequest(erne.gw, { method: 'GET', path: '/metrics/none' });
    const after = await scrape(erne.gw.url);
    const delta = (s: string) => sample(after, s) - sample(before, s);
    expect(delta('erne_requests_total{operation="PutObject",status="200"}')).toBe(1);
    expect(delta('erne_requests_total{operation="GetObject",status="200"}')).toBe(1);
    expect(delta('erne_requests_total{operation="GetObject",status="404"}')).toBe(1);
    expect(delta('erne_request_duration_seconds_count{operation="GetObject"}')).toBe(2);
    expect(delta('erne_request_duration_seconds_bucket{operation="GetObject",le="+Inf"}')).toBe(2);
    expect(delta('erne_received_bytes_total{operation="PutObject"}')).toBe(1000);
    expect(delta('erne_sent_bytes_total{operation="GetObject"}')).toBeGreaterThan(1000);
    expect(after).toMatch(/^# TYPE erne_request_duration_seconds histogram$/m);
    expect(sample(after, 'erne_requests_in_flight')).toBe(0);
    expect(sample(after, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(sample(after, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(after).toMatch(/^erne_metadata_errors_total 0$/m);
  });

  it('a bucket named metrics, health or ready is S3 (signed and anonymous alike)', async () => {
    for (const name of ['health', 'ready']) expect((await rawRequest(erne.gw, { method: 'PUT', path: `/${name}` })).status).toBe(200);
    const list = await rawRequest(erne.gw, { method: 'GET', path: '/metrics' });
    expect(list.status).toBe(200);
    expect(list.text).toContain('<ListBucketResult');
    // anonymous on a private bucket: S3's AccessDenied, not a metrics page
    const anon = await rawRequest(erne.gw, { method: 'GET', path: '/health', creds: null });
    expect(anon.status).toBe(403);
    expect(anon.text).toContain('<Code>AccessDenied</Code>');
  });

  it('serves only the operator endpoints on the separate port', async () => {
    expect(erne.gw.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const text = await scrape(erne.gw.opsUrl!);
    expect(text).toContain('erne_requests_total');
    expect((await fetch(`${erne.gw.opsUrl}/.erne/ready`)).status).toBe(200);
    expect((await fetch(`${erne.gw.opsUrl}/`)).status).toBe(404);
  });

  it('/.erne/ready is 503 while the volume cannot be written, the failure counts as a disk error, and 200 again after', async () => {
    const volume = join(erne.dataDir, 'volume');
    const before = sample(await scrape(erne.gw.url), 'erne_disk_errors_total');
    const moved = volume + '.away';
    rmSync(moved, { recursive: true, force: true });
    // a file where the volume directory was: every write under it fails with ENOTDIR
    renameSync(volume, moved);
    writeFileSync(volume, 'not a directory');
    try {
      const r = await fetch(`${erne.gw.url}/.erne/ready`);
      const body = (await r.json()) as { status: string; checks: Record<string, string> };
      expect([r.status, body.status, body.checks['metadata']]).toEqual([503, 'not ready', 'ok']);
      expect(body.checks['volume']).toMatch(/ENOTDIR/);
      const put = await rawRequest(erne.gw, { method: 'PUT', path: '/metrics/while-broken', body: Buffer.alloc(100_000, 2) });
      expect(put.status).toBeGreaterThanOrEqual(500);
      expect(sample(await scrape(erne.gw.url), 'erne_disk_errors_total')).toBe(before + 1);
    } finally {
      rmSync(volume, { force: true });
      renameSync(moved, volume);
      mkdirSync(volume, { recursive: true });
    }
    expect((await fetch(`${erne.gw.url}/.erne/ready`)).status).toBe(200);
  });
});

describe('virtual-host requests keep /.erne/ paths as object keys', () => {
  const erne = useGateway({ domain: 's3.erne.test' });

  it('Host: <bucket>.<domain> with /.erne/metrics is an S3 object request', async () => {
    const host = `vh-bucket.s3.erne.test:${erne.gw.port}`;
    expect((await rawRequest(erne.gw, { method: 'PUT', path: '/', host })).status).toBe(200);
    expect((await rawRequest(erne.gw, { method: 'PUT', path: '/.erne/metrics', host, body: 'an object' })).status).toBe(200);
    const get = await rawRequest(erne.gw, { method: 'GET', path: '/.erne/metrics', host });
    expect([get.status, get.text]).toEqual([200, 'an object']);
    // path style on the same gateway is the operator endpoint
    expect((await fetch(`${erne.gw.url}/.erne/metrics`)).headers.get('content-type')).toContain('version=0.0.4');
  });
});

describe('metrics registry', () => {
  it('renders counters, gauges and cumulative histograms in the text format', () => {
    const reg = new Registry();
    const c = reg.counter('x_total', 'a counter', ['op']);
    c.inc(['a"b\\c']);
    c.inc(['a"b\\c'], 2);
    const g = reg.gauge('y', 'a gauge');
    g.inc();
    g.inc();
    g.dec();
    const h = reg.histogram('z_seconds', 'a histogram', [], [0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 2]) h.observe(v);
    expect(reg.render()).toBe(
      [
        '# HELP x_total a counter',
        '# TYPE x_total counter',
        'x_total{op="a\\"b\\\\c"} 3',
        '# HELP y a gauge',
        '# TYPE y gauge',
        'y 1',
        '# HELP z_seconds a histogram',
        '# TYPE z_seconds histogram',
        'z_seconds_bucket{le="0.1"} 2',
        'z_seconds_bucket{le="1"} 3',
        'z_seconds_bucket{le="+Inf"} 4',
        'z_seconds_sum 2.65',
        'z_seconds_count 4',
        '',
      ].join('\n'),
    );
    expect(() => c.inc(['a'], -1)).toThrow();
    expect(() => reg.counter('x_total', 'again')).toThrow();
  });
});
